// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "WriteBatch.h"

#include <optional>

namespace greygate {

// The on-disk form of one committed WriteBatch: a journal record.
//
//   offset 0  u32 magic "GGJ1"     (little-endian 0x314A4747)
//          4  u32 payload length
//          8  u64 sequence number  (strictly increasing over the journal's life)
//         16  u32 CRC-32 of the payload followed by bytes 4..16 (length and sequence)
//         20  payload: the batch, format version 2 (see JournalCodec.cpp); version 1
//             records, written before policies were stored, are still read
//
// A crash can leave part of the last record (any of its bytes: a copy into a mapped segment
// has no order), which the length and the CRC expose.
class JournalCodec
{
public:
    static constexpr quint32 kMagic = 0x314A4747;
    static constexpr qsizetype kHeaderSize = 20;
    static constexpr qsizetype kMaxPayload = 256 << 20;

    // The whole record with its header left blank: encoding runs outside any lock, and
    // seal() fills in the sequence number once it is known.
    static QByteArray encode(const WriteBatch &batch);
    // The same into out, whose room is reused when it is not shared (the store keeps one
    // buffer for its commits: no allocation per record).
    static void encode(const WriteBatch &batch, QByteArray &out);
    static void seal(QByteArray &record, quint64 sequence);

    struct Header
    {
        quint32 magic = 0;
        quint32 length = 0;
        quint64 sequence = 0;
        quint32 crc = 0;
    };
    static Header parseHeader(const char *data); // kHeaderSize bytes
    static bool verify(const Header &header, const char *payload);

    // nullopt for a payload that is not a well-formed version-1 or version-2 batch (never
    // crashes on any input).
    static std::optional<WriteBatch> decode(const char *payload, qsizetype size);
};

} // namespace greygate
