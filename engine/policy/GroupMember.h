// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Cidr.h"

namespace greygate {

// One member of a sender group: "user@example.com", "@example.com" (that domain exactly),
// "*.example.com" (every subdomain of example.com, not example.com itself) or a network
// "192.0.2.0/24" (matched against the client address of the sending side).
struct GroupMember
{
    enum class Kind : quint8
    {
        Address,
        Domain,
        Subdomains,
        Network,
    };

    Kind kind = Kind::Address;
    QString value; // address, or domain without "@" / "*.", lower case; unused for Network
    Cidr network;  // Network only

    static std::optional<GroupMember> parse(QStringView text, QString *error);
    QString text() const; // the canonical form parse() accepts

    friend bool operator==(const GroupMember &, const GroupMember &) = default;
};

} // namespace greygate
