// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpReply.h"

#include <QByteArray>

namespace greygate {

// One client command line, parsed. `error` is set (code != 0) when the line is not a valid
// command; the session answers with it and goes on.
struct SmtpCommand
{
    enum class Verb : quint8
    {
        Unknown,
        Helo,
        Ehlo,
        Mail,
        Rcpt,
        Data,
        Rset,
        Noop,
        Quit,
        Vrfy,
        Expn,
        Help,
        StartTls,
        Auth,
        Bdat,
    };
    enum class Body : quint8
    {
        Unspecified,
        SevenBit,
        EightBitMime,
    };

    Verb verb = Verb::Unknown;
    QByteArray argument; // the text after the verb and one space, as sent
    // MAIL / RCPT: the path without '<' '>' and without a source route; "" = null sender.
    QByteArray address;
    qint64 size = -1; // MAIL SIZE=, -1 when not given
    Body body = Body::Unspecified;
    bool smtpUtf8 = false;     // MAIL SMTPUTF8
    bool eightBitPath = false; // the address holds non-ASCII bytes (needs SMTPUTF8)
    SmtpReply error;           // code 0: no error

    bool ok() const { return error.code == 0; }
};

} // namespace greygate
