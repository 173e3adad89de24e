// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// The attributes of one Postfix policy delegation request that Greygate uses (Postfix's
// SMTPD_POLICY_README). Values are raw bytes as Postfix sent them.
struct PolicyRequest
{
    // Which attributes the request carried: "sender=" (the null sender) is present and
    // empty, which is not the same as a request without a sender attribute at all.
    enum Attribute : quint32
    {
        Request = 1u << 0,
        ProtocolState = 1u << 1,
        ProtocolName = 1u << 2,
        ClientAddress = 1u << 3,
        ClientName = 1u << 4,
        HeloName = 1u << 5,
        Sender = 1u << 6,
        Recipient = 1u << 7,
        Instance = 1u << 8,
        QueueId = 1u << 9,
        SaslUsername = 1u << 10,
    };

    QByteArray request;       // "smtpd_access_policy"
    QByteArray protocolState; // "RCPT", "DATA", "END-OF-MESSAGE", ...
    QByteArray protocolName;  // "SMTP" / "ESMTP"
    QByteArray clientAddress;
    QByteArray clientName;
    QByteArray heloName;
    QByteArray sender;
    QByteArray recipient;
    QByteArray instance; // one message, many recipients
    QByteArray queueId;
    QByteArray saslUsername;

    quint32 present = 0;    // Attribute bits
    int attributeCount = 0; // every attribute line, the ones not used above included

    bool has(Attribute a) const { return (present & a) != 0; }
};

} // namespace greygate
