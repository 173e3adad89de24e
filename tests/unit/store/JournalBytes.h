// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Reading a journal segment's bytes in tests. Header-only.

#include "store/JournalCodec.h"

#include <QByteArray>

namespace greygate::test {

// Where the records of a journal segment end, following the length fields: a segment the
// writer had mapped goes on with zeros up to the space it had reserved.
inline qint64 recordsEnd(const QByteArray &journal)
{
    qint64 pos = 0;
    while (pos + JournalCodec::kHeaderSize <= journal.size()) {
        const JournalCodec::Header h = JournalCodec::parseHeader(journal.constData() + pos);
        if (h.magic != JournalCodec::kMagic)
            break;
        pos += JournalCodec::kHeaderSize + h.length;
    }
    return pos;
}

} // namespace greygate::test
