// SPDX-License-Identifier: GPL-3.0-or-later
#include "EventLog.h"

#include "ReleasePrefetch.h"

#include <QRandomGenerator>

namespace greygate {

namespace {
constexpr quint64 kPrefetchAhead = 4; // appends: a few decisions, so the lines are still there
}

EventLog::EventLog(qsizetype capacity, qsizetype statsMinutes)
    : m_ring(size_t(std::max<qsizetype>(capacity, 1)))
    , m_stats(statsMinutes)
    , m_epoch(QString::number(QRandomGenerator::system()->generate64(), 16))
{}

quint64 EventLog::append(Event event)
{
    event.id = m_next++;
    if (m_next - 1 >= m_ring.size()) {
        prefetchSlot(m_ring[size_t((event.id + 2 * kPrefetchAhead) % m_ring.size())]);
        Event &later = m_ring[size_t((event.id + kPrefetchAhead) % m_ring.size())];
        for (QByteArray *bytes : {&later.client, &later.sender, &later.recipient, &later.clientName,
                                  &later.key, &later.keyWhy})
            prefetchRelease(*bytes);
    }
    if (m_origin && event.type == EventType::Attempt) {
        event.source = m_origin->source;
        event.helo = m_origin->helo;
        event.tls = m_origin->tls;
    }
    if (event.type == EventType::Attempt) {
        if (m_annotate)
            m_annotate(event);
        m_attempts.append(event);
        if (event.shadow != ShadowEffect::None)
            m_shadow.count(event);
        m_stats.countAttempt(event.time, event.outcome);
        m_breakdown.count(event);
        m_totals += MinuteStats::countsOf(event.outcome);
    } else if (event.type == EventType::FailedToRetry) {
        m_stats.countFailedToRetry(event.time);
        m_totals.failedToRetry += m_totals.failedToRetry < 0xffffffffu ? 1 : 0;
    }
    const quint64 id = event.id;
    m_ring[size_t(id % m_ring.size())] = std::move(event);
    if (m_armed && m_wakeup) {
        m_armed = false;
        m_wakeup();
    }
    return id;
}

quint64 EventLog::firstId() const
{
    const quint64 held = std::min<quint64>(m_next - 1, m_ring.size());
    return m_next - held;
}

bool EventLog::since(quint64 after, qsizetype max, std::vector<const Event *> *out) const
{
    if (after > lastId() || after + 1 < firstId())
        return false;
    for (quint64 id = after + 1; id < m_next && max > 0; ++id, --max)
        out->push_back(&m_ring[size_t(id % m_ring.size())]);
    return true;
}

} // namespace greygate
