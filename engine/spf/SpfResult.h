// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// RFC 7208 §2.6: the results of check_host().
enum class SpfResult : quint8
{
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
};

// "pass", "fail", ... as RFC 7208 writes them (and Received-SPF carries them).
const char *spfResultName(SpfResult result);

// What one check_host() evaluation came to, and why, for the decision's explanation.
struct SpfOutcome
{
    SpfResult result = SpfResult::None;
    QByteArray domain; // the domain whose policy was evaluated (the sender's, or the HELO)
    // The mechanisms that matched, outermost first: "include:_spf.example.net ip4:198.51.100.0/24".
    QByteArray via;
    QByteArray reason;  // for none/temperror/permerror: what happened
    int dnsLookups = 0; // the terms that counted against the limit of 10
    int voidLookups = 0;
};

} // namespace greygate
