// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace greygate {

enum class SpecifierType : quint8
{
    Everyone,
    Internal, // an address in one of the internal domains
    External, // any other address, the null sender <> included
    Domain,   // value: "example.com"; includeSubdomains widens it to "*.example.com"
    Group,    // groupId: a sender group (custom, or even Permitted/Blocked)
    Address,  // value: "user@example.com"
};

// One side of a policy: who the mail is from, or who it is to.
struct Specifier
{
    SpecifierType type = SpecifierType::Everyone;
    QString value;                  // Domain and Address, lower case
    bool includeSubdomains = false; // Domain only
    qint64 groupId = 0;             // Group only

    static QString typeName(SpecifierType type); // "everyone", "internal", ...
    static bool typeFromName(QStringView name, SpecifierType *type);
    QString describe() const; // "domain partner.test (and subdomains)", for explain

    friend bool operator==(const Specifier &, const Specifier &) = default;
};

} // namespace greygate
