// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QString>
#include <optional>

namespace greygate {

// An IPv4 or IPv6 address as 128 bits. IPv4 is kept in its IPv4-mapped form
// (::ffff:a.b.c.d) with v4 set, so one representation serves both families and an
// IPv4-mapped IPv6 client (as a dual-stack MTA reports it) is simply an IPv4 client.
struct IpAddress
{
    quint64 hi = 0;
    quint64 lo = 0;
    bool v4 = false;

    // Strict: dotted quad without leading zeros, or RFC 4291 text (one "::", groups of one
    // to four hex digits, an optional trailing dotted quad). No brackets, zones or spaces.
    static std::optional<IpAddress> parse(QByteArrayView text);

    int bits() const { return v4 ? 32 : 128; }
    QString toString() const;

    friend bool operator==(const IpAddress &, const IpAddress &) = default;
};

} // namespace greygate
