// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace greygate {

// One SMTP reply: a three-digit code, an RFC 3463 enhanced status code ("4.7.1") and text,
// one line per '\n' in the text. The enhanced code is written on every line once the
// session has advertised ENHANCEDSTATUSCODES, never on the banner or the EHLO reply
// (RFC 2034 §3), so those two are formatted with enhanced = false.
struct SmtpReply
{
    int code = 0;
    QByteArray status; // "2.0.0"; empty: one of the code's class is made up ("X.0.0")
    QByteArray text;

    bool isPositive() const { return code >= 200 && code < 400; }
    bool isTransient() const { return code >= 400 && code < 500; }
    bool isPermanent() const { return code >= 500; }

    // The reply on the wire: "250-first\r\n250 last\r\n". Text bytes that could break the
    // framing (CR, LF inside a line, NUL, other controls) are replaced with '?': a relayed
    // backend reply or an echoed address is hostile input.
    QByteArray format(bool enhanced) const;
    // The same, appended to `out` without a reply object: the session's own replies are
    // written this way, with no allocation but `out`'s growth.
    static void formatTo(QByteArray &out, int code, QByteArrayView status, QByteArrayView text,
                         bool enhanced);

    // The first line, for logs: "451 4.7.1 Greylisted...".
    QByteArray summary() const;

    static SmtpReply make(int code, QByteArrayView status, QByteArrayView text);
};

} // namespace greygate
