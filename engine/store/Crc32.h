// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QtGlobal>

namespace greygate {

// CRC-32 (IEEE 802.3, the polynomial of zlib and gzip), so a journal can be checked with
// standard tools. crc32Update() continues a running checksum: crc32Update(crc32(a), b) is
// the checksum of a followed by b.
// Carry-less multiplication (PCLMULQDQ) for 64 bytes and more where the CPU has it, tables
// otherwise: the same checksum either way.
quint32 crc32Update(quint32 crc, const char *data, qsizetype size);
// The table-only path, whatever the CPU: for tests that compare the two.
quint32 crc32UpdatePortable(quint32 crc, const char *data, qsizetype size);
inline quint32 crc32(const char *data, qsizetype size)
{
    return crc32Update(0, data, size);
}

} // namespace greygate
