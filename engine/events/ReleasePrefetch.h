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

} // namespace greygate
