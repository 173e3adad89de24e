// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>

namespace greygate {

// What a backend's EHLO reply offers, as far as the proxy cares.
struct BackendCapabilities
{
    bool known = false; // false until an EHLO reply was read
    bool pipelining = false;
    bool eightBitMime = false;
    bool smtpUtf8 = false;
    bool enhancedStatusCodes = false;
    qint64 size = 0;             // SIZE's limit; 0: no limit given
    bool sizeAdvertised = false; // SIZE at all
    QList<QByteArray> xclient;   // XCLIENT's attribute names (upper case); empty: none
    bool hasXclient() const { return !xclient.isEmpty(); }

    // Reads the keyword lines of an EHLO reply (the first line, the greeting, excluded).
    static BackendCapabilities fromEhlo(const QList<QByteArray> &lines);
};

} // namespace greygate
