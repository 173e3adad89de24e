// SPDX-License-Identifier: GPL-3.0-or-later
#include "EventWindow.h"

#include "EventLog.h"

#include <algorithm>

namespace greygate {

EventWindow::EventWindow(Encoder encoder, qsizetype maxEvents, Separator separator)
    : m_encoder(encoder)
    , m_maxEvents(std::max<qsizetype>(maxEvents, 1))
    , m_separatorBytes(separator == Separator::Comma ? 1 : 0)
{}

void EventWindow::reset(quint64 after)
{
    m_bytes.clear();
    m_offsets.assign(1, 0);
    m_head = 0;
    m_after = after;
    m_last = after;
}

void EventWindow::dropFront(quint64 n)
{
    m_head += size_t(n);
    m_after += n;
    // Compacted once the dropped part is the larger half: each byte is moved at most once
    // on average, and the window never holds more than twice what it serves.
    if (m_head * 2 < m_offsets.size())
        return;
    const qsizetype base = m_offsets[m_head];
    m_bytes.remove(0, base);
    m_offsets.erase(m_offsets.begin(), m_offsets.begin() + qsizetype(m_head));
    for (qsizetype &offset : m_offsets)
        offset -= base;
    m_head = 0;
}

void EventWindow::update(const EventLog &log, quint64 keepAfter)
{
    const quint64 last = log.lastId();
    const quint64 floor =
        std::max<quint64>(log.firstId() - 1, last > quint64(m_maxEvents) ? last - m_maxEvents : 0);
    keepAfter = std::min(std::max(keepAfter, floor), last);
    // Empty (it may start further back for a subscriber resuming with `since`), all read,
    // or overtaken by the log: start again after keepAfter.
    if (m_last == m_after || m_last < floor || keepAfter >= m_last)
        reset(keepAfter);
    else if (keepAfter > m_after)
        dropFront(keepAfter - m_after);
    if (m_last >= last)
        return;
    std::vector<const Event *> batch;
    batch.reserve(size_t(last - m_last));
    if (!log.since(m_last, qsizetype(last - m_last), &batch))
        return; // cannot happen: m_last >= floor, which the log holds
    m_bytes.reserve(m_bytes.size() + qsizetype(batch.size()) * 200);
    for (const Event *event : batch) {
        m_encoder(&m_bytes, *event);
        if (m_separatorBytes)
            m_bytes.append(',');
        m_offsets.push_back(m_bytes.size());
    }
    m_last = last;
}

bool EventWindow::slice(quint64 cursor, qsizetype max, QByteArrayView *slice, quint64 *lastId) const
{
    if (cursor < m_after || cursor >= m_last || max <= 0)
        return false;
    const size_t from = m_head + size_t(cursor - m_after);
    const size_t to = from + size_t(std::min<quint64>(quint64(max), m_last - cursor));
    const qsizetype begin = m_offsets[from];
    *slice = QByteArrayView(m_bytes).sliced(begin, m_offsets[to] - begin - m_separatorBytes);
    *lastId = cursor + (to - from);
    return true;
}

} // namespace greygate
