// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <vector>

namespace greygate {

class EventLog;
struct Event;

// The newest events of an EventLog in their wire form, each encoded once however many
// subscribers read it (bench/README.md, "Events": encoding per subscriber cost more than the
// rest of a push). Holds the events after after() up to last(), encoded back to back, each
// followed by a ',' for JSON forms (none for the binary one, whose records carry their
// length); a subscriber at any cursor in that range gets its next events as one contiguous
// slice, ready to be wrapped into a frame.
//
// Bounded: at most maxEvents, and never an event the log no longer holds. A subscriber
// whose cursor is older than after() is served by encoding its batch itself.
class EventWindow
{
public:
    using Encoder = void (*)(QByteArray *out, const Event &event);

    enum class Separator : quint8
    {
        Comma, // JSON: a ',' after each event, left out of slices' ends
        None,  // binary records
    };

    EventWindow(Encoder encoder, qsizetype maxEvents, Separator separator = Separator::Comma);

    // Encodes what the log appended since the last update, and forgets the events up to
    // keepAfter (the slowest subscriber served from here has read them). When the window is
    // empty it starts after keepAfter (within the bounds).
    void update(const EventLog &log, quint64 keepAfter);

    quint64 after() const { return m_after; }
    quint64 last() const { return m_last; }
    qsizetype count() const { return qsizetype(m_last - m_after); }
    qsizetype bytes() const { return m_bytes.size() - m_offsets[m_head]; }

    // The encoded events after `cursor`, at most `max` of them, separated as constructed (no
    // trailing separator): false when `cursor` is outside [after(), last()) (nothing to send, or
    // not held here). *lastId is the id of the last event in *slice.
    bool slice(quint64 cursor, qsizetype max, QByteArrayView *slice, quint64 *lastId) const;

private:
    void dropFront(quint64 n);
    void reset(quint64 after);

    Encoder m_encoder;
    qsizetype m_maxEvents;
    qsizetype m_separatorBytes;
    QByteArray m_bytes;
    // m_offsets[m_head + i] is where event m_after + 1 + i starts; the last entry is the end.
    std::vector<qsizetype> m_offsets{0};
    size_t m_head = 0;
    quint64 m_after = 0;
    quint64 m_last = 0;
};

} // namespace greygate
