// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "FuzzCheck.h"

#include <QByteArray>
#include <QByteArrayView>

namespace greygate::fuzz {

// A reply as it goes on the wire (SmtpReply::format): CRLF-terminated lines of at least a
// code each, with no CR, LF or NUL inside a line, so no relayed text can frame a reply.
inline void checkReplyWire(const QByteArray &wire)
{
    FUZZ_CHECK(wire.endsWith("\r\n"));
    qsizetype pos = 0;
    while (pos < wire.size()) {
        const qsizetype end = wire.indexOf("\r\n", pos);
        FUZZ_CHECK(end >= pos + 3);
        const QByteArrayView line = QByteArrayView(wire).sliced(pos, end - pos);
        FUZZ_CHECK(!line.contains('\r') && !line.contains('\n') && !line.contains('\0'));
        pos = end + 2;
    }
}

} // namespace greygate::fuzz
