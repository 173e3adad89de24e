// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QtGlobal>

namespace greygate {

struct GreylistPolicyOptions
{
    // The deferral text, with postgrey's placeholders: %s seconds left to wait, %m the same
    // in minutes (rounded up), %r the recipient's domain, %% a percent sign.
    QByteArray greylistText = QByteArrayLiteral("Greylisted, please try again in %s seconds");
    // An enhanced status code put before the text ("4.2.0"); empty lets Postfix use 4.7.1.
    // Some Exchange versions treat 4.7.1 as permanent, hence postgrey's option for it.
    QByteArray greylistCode;
    QByteArray hostname = QByteArrayLiteral("localhost"); // named in the X-Greylist header
    qsizetype instanceMemory = 10'000; // recent message instances that got X-Greylist
    int sweepIntervalMs = 1000;        // the expiry sweep's period
    int sweepMaxVisits = 10'000;       // entries one sweep may handle (bounded work per tick)
    // The text after "REJECT 5.7.1 " for a Blocked sender (Postfix answers it with
    // access_map_reject_code, 554 by default: "554 5.7.1 <rcpt>: Recipient address
    // rejected: <text>").
    QByteArray rejectText = QByteArrayLiteral("Sender blocked by policy");
    qint64 autoAllowLifetime = 60 * 86400; // seconds an auto allow entry lives after learning
    // Expired auto allow entries are removed by the sweep at most this often: it walks the
    // whole table, and an entry past its expiry is no longer honoured anyway.
    qint64 autoAllowExpiryInterval = 60;
};

} // namespace greygate
