// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CidrSet.h"
#include "InternalConfig.h"

#include <QSet>

namespace greygate {

// InternalConfig compiled for the hot path: "is this domain ours", "is this client ours".
class InternalMatcher
{
public:
    InternalMatcher() = default;
    explicit InternalMatcher(const InternalConfig &config);

    // Exact lookup, then one lookup per parent label for the subdomain-inclusive entries.
    bool isInternalDomain(QByteArrayView domain) const;
    bool isInternalNetwork(const IpAddress &address) const { return m_networks.contains(address); }

private:
    QSet<QByteArray> m_exact;
    QSet<QByteArray> m_withSubdomains;
    CidrSet m_networks;
};

} // namespace greygate
