// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// The attributes of one Postfix policy delegation request that Greygate uses (Postfix's
// SMTPD_POLICY_README). Values are raw bytes as Postfix sent them.
struct PolicyRequest
{
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
};

} // namespace greygate
