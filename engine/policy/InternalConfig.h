// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Cidr.h"

#include <QList>

namespace greygate {

struct InternalDomain
{
    QString domain; // lower case
    bool includeSubdomains = false;

    friend bool operator==(const InternalDomain &, const InternalDomain &) = default;
};

// What is "ours": addresses in the internal domains are internal, every other address is
// external; the internal networks are where outbound mail comes from (auto allow).
struct InternalConfig
{
    QList<InternalDomain> domains;
    QList<Cidr> networks;
    quint32 version = 0;

    friend bool operator==(const InternalConfig &, const InternalConfig &) = default;
};

} // namespace greygate
