// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AttemptHistory.h"
#include "Event.h"
#include "HourlyBreakdown.h"
#include "MinuteStats.h"
#include "ShadowTally.h"

#include <functional>
#include <vector>

namespace greygate {

// The event stream of one proxy: every event gets the next id (1, 2, 3...) and goes into a
// bounded ring (the latest `capacity` events); the per-minute statistics count attempts as
// they are recorded. A subscriber keeps a cursor (the last id it saw) and asks since();
// when its cursor has fallen out of the ring, or belongs to another run of the daemon (the
// epoch differs: ids start again at 1 after a restart), it must fetch the full state again.
//
// Not thread-safe: it lives on the daemon's thread, beside the engine it records. Recording
// is an id increment, one ring slot overwritten (implicitly shared byte arrays) and one
// bucket increment, cheap enough for every decision at 50,000 per second.
class EventLog
{
public:
    static constexpr qsizetype kDefaultCapacity = 100'000;

    explicit EventLog(qsizetype capacity = kDefaultCapacity,
                      qsizetype statsMinutes = MinuteStats::kDefaultMinutes);

    // A random id of this log's lifetime (hex), so a cursor from another run is recognised.
    const QString &epoch() const { return m_epoch; }

    // Assigns the id (returned); counts attempts and failures to retry in the statistics.
    quint64 append(Event event);

    // Where the attempts being decided come from, when it is not the policy server: the SMTP
    // proxy sets it around each decision it asks for, because the recorder that makes the
    // Attempt event knows only the policy request. While set, every Attempt appended gets
    // its source, HELO name and TLS flag (shared bytes: no allocation). The pointer must
    // stay valid until it is set again; nullptr (the default) leaves events as they come.
    struct Origin
    {
        EventSource source = EventSource::Smtp;
        QByteArray helo;
        bool tls = false;
    };
    void setOrigin(const Origin *origin) { m_origin = origin; }

    quint64 lastId() const { return m_next - 1; }
    // The oldest id still held; lastId() + 1 when the ring is empty.
    quint64 firstId() const;
    qsizetype size() const { return qsizetype(std::min<quint64>(m_next - 1, m_ring.size())); }
    qsizetype capacity() const { return qsizetype(m_ring.size()); }

    // Events with id > after, oldest first, at most max of them, appended to *out. False
    // (nothing appended) when some of them are no longer held or `after` is in the future
    // (a cursor from another run): the subscriber must resync.
    bool since(quint64 after, qsizetype max, std::vector<const Event *> *out) const;

    const MinuteStats &stats() const { return m_stats; }
    // Everything counted since this log was made (the daemon's start).
    const MinuteStats::Counts &totals() const { return m_totals; }
    MinuteStats &stats() { return m_stats; }
    // Attempts per hour by who decided them, and deferrals by sender domain.
    const HourlyBreakdown &breakdown() const { return m_breakdown; }
    HourlyBreakdown &breakdown() { return m_breakdown; }

    // Attempts compact and persisted for policy.replay, and the shadow policies' would-be
    // effects (docs/policies.md, "Shadow policies", "Replay").
    const AttemptHistory &attempts() const { return m_attempts; }
    AttemptHistory &attempts() { return m_attempts; }
    const ShadowTally &shadow() const { return m_shadow; }
    // Called for every Attempt before it is stored: sets what a shadow policy would have
    // done (Event::shadow). Whoever sets it clears it (nullptr) before it goes away.
    void setAttemptAnnotator(std::function<void(Event &)> annotate)
    {
        m_annotate = std::move(annotate);
    }

    // Called on the first append() after arm(): lets a server schedule one flush for a burst
    // of events instead of reacting to each of them.
    void setWakeup(std::function<void()> wakeup) { m_wakeup = std::move(wakeup); }
    void arm() { m_armed = true; }

private:
    std::vector<Event> m_ring;
    quint64 m_next = 1;
    MinuteStats m_stats;
    HourlyBreakdown m_breakdown;
    MinuteStats::Counts m_totals;
    QString m_epoch;
    std::function<void()> m_wakeup;
    std::function<void(Event &)> m_annotate;
    AttemptHistory m_attempts;
    ShadowTally m_shadow;
    const Origin *m_origin = nullptr;
    bool m_armed = true;
};

} // namespace greygate
