// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QByteArrayView>

namespace greygate {

// One decision's input, as bytes from the wire (views: they must outlive the call).
// The policy server knows no header From (it decides at RCPT): headerFromKnown false.
// The SMTP proxy may evaluate again at the end of DATA with the header From known.
struct PolicyQuery
{
    QByteArrayView clientAddress; // "192.0.2.1", "2001:db8::1"; anything else matches no range
    QByteArrayView sender;        // envelope MAIL FROM, "" for the null sender
    QByteArrayView recipient;     // envelope RCPT TO
    QByteArrayView headerFrom;    // the From: header address, when known
    bool headerFromKnown = false;
    QByteArrayView saslUsername; // non-empty: an authenticated submission
    Seconds now = 0;
};

} // namespace greygate
