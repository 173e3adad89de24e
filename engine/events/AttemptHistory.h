// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Event.h"

#include <QList>
#include <vector>

namespace greygate {

// One recorded attempt, as much as a replay needs to decide it again (docs/policies.md,
// "Replay"): the triplet as the front end gave it, when, and what became of it.
struct AttemptRecord
{
    Seconds time = 0;
    AttemptOutcome outcome = AttemptOutcome::Deferred;
    DecidedBy decidedBy = DecidedBy::None;
    qint64 ref = 0;
    QByteArray client;
    QByteArray sender;
    QByteArray recipient;

    friend bool operator==(const AttemptRecord &, const AttemptRecord &) = default;
};

// The latest attempts, compact, for policy.replay: a bounded ring (capacity records, the
// oldest overwritten) fed by the EventLog, saved beside the statistics (DBDIR/attempts.bin)
// so a restart keeps what replay can look at. The file is bounded too: at most capacity
// records of at most kMaxField bytes per field; restore() refuses anything larger or
// malformed, leaving the ring as it was. Not thread-safe (the EventLog's thread).
class AttemptHistory
{
public:
    static constexpr qsizetype kDefaultCapacity = 100'000;
    static constexpr qsizetype kMaxField = 512;

    explicit AttemptHistory(qsizetype capacity = kDefaultCapacity);

    void append(const Event &attempt); // ignores other event types
    qsizetype size() const { return qsizetype(m_ring.size()); }
    qsizetype capacity() const { return m_capacity; }
    // Attempts with time >= from, oldest first; at most max of them (the latest ones).
    QList<AttemptRecord> since(Seconds from, qsizetype max) const;
    // The oldest attempt held (0 when empty).
    Seconds oldest() const;
    void clear();

    static QString path(const QString &statsPath); // attempts.bin beside stats.bin
    bool save(const QString &path, QString *error) const;
    // True with *restored false when there is no file yet.
    bool restore(const QString &path, bool *restored, QString *error);
    qint64 maxBytes() const;

private:
    const AttemptRecord &at(qsizetype i) const; // 0 = oldest
    void put(AttemptRecord record);

    std::vector<AttemptRecord> m_ring; // grows to m_capacity, then wraps at m_next
    size_t m_next = 0;
    qsizetype m_capacity;
};

} // namespace greygate
