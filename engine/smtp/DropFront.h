// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// Drops the first `n` bytes of an input buffer that is read into again. QByteArray::remove()
// from the front only moves the start of the data forward, and the room left behind is not
// reused: the next read that grows the buffer back to its capacity reallocates it (four
// times per proxied message). Consumed whole, the usual case (one command per read), the
// buffer is emptied in place instead and keeps its start and capacity.
inline void dropFront(QByteArray &buffer, qsizetype n)
{
    if (n >= buffer.size())
        buffer.resize(0);
    else if (n > 0)
        buffer.remove(0, n);
}

} // namespace greygate
