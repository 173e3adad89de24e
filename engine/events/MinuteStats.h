// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Event.h"

#include <QList>
#include <vector>

namespace greygate {

// The dashboard's per-minute figures for the last kDefaultMinutes (8 days): a ring of
// minute buckets indexed by minute number, so counting is an index computation and one
// increment, and the memory is fixed (8 days: 11,520 buckets, 330 KiB).
//
// Persistence (wired in with the daemon): save() at shutdown and every few minutes into
// DBDIR/stats.bin (written atomically, new file then rename), restore() at start-up; the
// format is versioned and restore() refuses anything malformed, starting empty instead.
class MinuteStats
{
public:
    static constexpr qsizetype kDefaultMinutes = 8 * 24 * 60;

    struct Counts
    {
        quint32 attempts = 0;
        quint32 deferred = 0;
        quint32 passed = 0;
        quint32 bypassed = 0;
        quint32 blocked = 0;
        quint32 failedToRetry = 0;

        Counts &operator+=(const Counts &o);
        bool isZero() const { return *this == Counts{}; }
        friend bool operator==(const Counts &, const Counts &) = default;
    };
    struct Bucket
    {
        Seconds time = 0; // the first second of the bucket
        Counts counts;
    };

    explicit MinuteStats(qsizetype minutes = kDefaultMinutes);

    // What one attempt with this outcome adds to the counts.
    static Counts countsOf(AttemptOutcome outcome);

    void countAttempt(Seconds time, AttemptOutcome outcome);
    void countFailedToRetry(Seconds time, quint32 count = 1);

    // Buckets of stepMinutes over [from, to) (from rounded down to the minute, the last one
    // possibly short), only those with something in them. Minutes older than the ring holds
    // read as zero.
    QList<Bucket> range(Seconds from, Seconds to, qint64 stepMinutes) const;
    Counts sum(Seconds from, Seconds to) const;
    qsizetype minutes() const { return qsizetype(m_ring.size()); }

    QByteArray save() const;
    bool restore(QByteArrayView bytes);

private:
    struct Slot
    {
        qint64 minute = -1; // which minute this slot holds now; -1: none
        Counts counts;
    };
    Counts &at(Seconds time);
    const Counts *find(qint64 minute) const;

    std::vector<Slot> m_ring;
};

} // namespace greygate
