// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace greygate {

// The From: header's address, for header-From policies (docs/policies.md). Reads the header
// section of a message (CRLF lines, un-stuffed), unfolds the first From: field and takes the
// address in angle brackets, or else the first word holding '@'. Empty when there is none;
// only the first address of a From: listing several counts. Bounded: a field over 4 KiB
// is cut there.
class HeaderFrom
{
public:
    static constexpr qsizetype kMaxField = 4096;

    // Where the header section ends in `content` (the index after its blank line), or -1
    // while it goes on.
    static qsizetype headerEnd(QByteArrayView content);
    static QByteArray address(QByteArrayView headers);
};

} // namespace greygate
