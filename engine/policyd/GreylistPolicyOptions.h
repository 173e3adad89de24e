// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

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
};

} // namespace greygate
