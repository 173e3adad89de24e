// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QIODevice>

namespace greygate {

// Appends what `device` has buffered to `buffer`, so that `buffer` holds at most `limit`
// bytes; returns the bytes appended. QIODevice::read(maxSize) allocates maxSize bytes for
// every call (64 KiB for a 6-byte "QUIT\r\n", the proxy's largest allocation per command);
// this reads only what is there, into the buffer's own spare capacity.
inline qsizetype appendAvailable(QIODevice &device, QByteArray &buffer, qsizetype limit)
{
    const qsizetype want = qMin<qint64>(device.bytesAvailable(), limit - buffer.size());
    if (want <= 0)
        return 0;
    const qsizetype had = buffer.size();
    buffer.resize(had + want);
    const qint64 got = device.read(buffer.data() + had, want);
    buffer.resize(had + qMax<qint64>(got, 0));
    return buffer.size() - had;
}

} // namespace greygate
