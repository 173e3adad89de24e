// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QtGlobal>
#include <algorithm>
#include <vector>

namespace greygate {

// The last `hours` clock hours, one Slot each, for the hourly statistics (DelayStats; the
// same shape as HourlyBreakdown's): a place in the ring is emptied and reused when its turn
// comes round for a later hour. The latest hour counted is the current one; when the clock
// moves past it, it is handed once to a `close` callback (to trim it: only the live hour
// holds many entries). Slot needs `qint64 hour = -1` and a default constructor.
template <typename Slot> class HourRing
{
public:
    static constexpr qint64 kHour = 3600;

    explicit HourRing(qsizetype hours)
        : m_slots(size_t(std::max<qsizetype>(hours, 1)))
    {}

    static qint64 hourOf(Seconds t) { return t >= 0 ? t / kHour : (t - (kHour - 1)) / kHour; }
    qsizetype hours() const { return qsizetype(m_slots.size()); }
    qint64 currentHour() const { return m_current; }
    const std::vector<Slot> &entries() const { return m_slots; }

    // The slot to count `hour` in, or nullptr when the ring no longer holds that hour.
    template <typename Close> Slot *slotFor(qint64 hour, Close close)
    {
        if (hour > m_current) {
            if (m_current >= 0) {
                Slot &previous = place(m_current);
                if (previous.hour == m_current)
                    close(previous);
            }
            m_current = hour;
        } else if (m_current - hour >= hours()) {
            return nullptr;
        }
        Slot &slot = place(hour);
        if (slot.hour != hour) {
            slot = Slot{};
            slot.hour = hour;
        }
        return &slot;
    }

    // Restoring from a file: empties the ring at `current`, then puts back each slot read
    // that the ring still holds (one of another length, a changed build, keeps what fits).
    void reset(qint64 current)
    {
        m_slots.assign(m_slots.size(), Slot{});
        m_current = current;
    }
    void put(Slot slot)
    {
        if (slot.hour >= 0 && m_current - slot.hour < hours())
            place(slot.hour) = std::move(slot);
    }

private:
    Slot &place(qint64 hour)
    {
        const qint64 n = hours();
        return m_slots[size_t(((hour % n) + n) % n)];
    }

    std::vector<Slot> m_slots;
    qint64 m_current = -1;
};

} // namespace greygate
