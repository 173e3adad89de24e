// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// The event and attempt rings (100,000 slots) overwrite a slot whose byte arrays were made
// about 100,000 decisions ago: releasing them (a reference count, often the free) touched
// cache-cold headers scattered over the heap, a miss each, on the decision thread. The rings
// call this on the slot they will overwrite a few appends later, so the headers are in cache
// by then. A hint only: nothing is read or written.
inline void prefetchRelease(QByteArray &bytes)
{
    if (const auto *header = bytes.data_ptr().d_ptr()) // null: nothing to release
        __builtin_prefetch(header, 1, 1);
}

// The slot itself, further ahead: its lines (an Event spans six) are as cold as the headers
// they point to, and reading them to find the headers, then writing them, stalled on each.
template <typename Slot> inline void prefetchSlot(const Slot &slot)
{
    const char *p = reinterpret_cast<const char *>(&slot);
    for (size_t at = 0; at < sizeof(Slot); at += 64)
        __builtin_prefetch(p + at, 1, 1);
    __builtin_prefetch(p + sizeof(Slot) - 1, 1, 1);
}

} // namespace greygate
