// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "IpAddress.h"

namespace greygate {

// A network in CIDR notation: "10.0.0.0/8", "2001:db8::/32". A bare address is a host
// network (/32 or /128). IPv4-mapped IPv6 networks of /96 or longer are IPv4 networks
// ("::ffff:10.0.0.0/104" is "10.0.0.0/8").
//
// Parsing is strict. A network with host bits set ("10.0.0.1/8") is REFUSED rather than
// masked: an admin who typed it most likely meant a different range, and silently widening
// or narrowing what a bypass covers is the worse failure. The error names the network
// that was probably meant.
struct Cidr
{
    IpAddress network; // host bits zero
    int prefix = 0;    // 0..32 for IPv4, 0..128 for IPv6

    static std::optional<Cidr> parse(QByteArrayView text, QString *error = nullptr);
    static std::optional<Cidr> parse(QStringView text, QString *error = nullptr);

    bool contains(const IpAddress &address) const;
    QString toString() const; // canonical: "10.0.0.0/8", "2001:db8::/32"

    // The address with every bit after `prefix` (counted in the family's own bits) cleared.
    static IpAddress masked(const IpAddress &address, int prefix);

    friend bool operator==(const Cidr &, const Cidr &) = default;
};

} // namespace greygate
