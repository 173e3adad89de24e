// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Clock.h"

#include <QByteArray>

namespace greygate {

// Defaults follow the reference (Mimecast): 60 s minimum delay, 12 h retry window; the
// passed lifetime and auto-whitelisting follow postgrey (--max-age 35 d, awl 5), with the
// lifetime at the design card's 36 days.
struct GreylistConfig
{
    Seconds delay = 60;                  // --delay
    Seconds retryWindow = 12 * 3600;     // --retry-window
    Seconds passedLifetime = 36 * 86400; // --max-age (refreshed on each use)
    quint32 autoWhitelistClients = 5;    // --auto-whitelist-clients; 0 disables

    bool lookupBySubnet = true; // --lookup-by-subnet / --lookup-by-host
    int ipv4Prefix = 24;        // --ipv4-prefix
    int ipv6Prefix = 64;        // --ipv6-prefix

    bool stripSenderTags = true; // VERP, SRS, BATV, +tag reduction
    // Recipients stay distinct by default, as in postgrey: user+a and user+b are different
    // mailboxes to the MTA. Set "+" to fold recipient extensions into one triplet.
    QByteArray recipientDelimiter; // --recipient-delimiter; empty disables
};

} // namespace greygate
