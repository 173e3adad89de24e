// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpReply.h"

#include <QByteArray>

namespace greygate {

// What the proxy knows about one recipient when it asks for a decision.
struct SmtpRecipientQuery
{
    QByteArray clientAddress; // "192.0.2.1"
    QByteArray clientName;    // "unknown": the proxy does no reverse lookup
    QByteArray heloName;
    QByteArray protocol; // "SMTP" / "ESMTP"
    QByteArray sender;   // "" for the null sender
    QByteArray recipient;
    QByteArray instance; // one per message: the X-Greylist header is added once
    QByteArray saslUsername;
    QByteArray headerFrom; // the From: header's address, at the end of the headers
    bool headerFromKnown = false;
    bool tls = false; // the session is under STARTTLS (for the attempt's event)
};

// The engine's answer, in SMTP terms.
struct SmtpVerdict
{
    enum class Kind : quint8
    {
        Accept,   // relay to the backend
        Defer,    // 451 4.7.1 <greylist text>
        Reject,   // 550 5.7.1 <reject text>
        TempFail, // the decision could not be made durable (store failure): 451 4.3.0
        Pending,  // a header-From policy may decide: ask again once the header is known
    };
    Kind kind = Kind::Accept;
    SmtpReply reply;   // for Defer, Reject, TempFail
    QByteArray header; // a header line to add to the message ("X-Greylist: ..."), no CRLF
    QByteArray reason; // for the session log: "greylisted", "passed", "blocked", ...
};

} // namespace greygate
