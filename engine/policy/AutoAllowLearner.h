// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AutoAllowEntry.h"
#include "PolicyQuery.h"

#include <optional>

namespace greygate {

class PolicyIndex;

// Learning the Auto Allow database from outbound mail (docs/policies.md, "Auto Allow").
// Pure: it says what to record; the caller puts it into its AutoAllowTable and the store.
class AutoAllowLearner
{
public:
    static constexpr Seconds kDefaultLifetime = 60 * 86400;

    explicit AutoAllowLearner(Seconds lifetime = kDefaultLifetime)
        : m_lifetime(lifetime)
    {}

    Seconds lifetime() const { return m_lifetime; }

    // Outbound: an authenticated submission (sasl_username not empty), or a sender in an
    // internal domain sent from a client in the internal networks.
    static bool isOutbound(const PolicyQuery &query, const PolicyIndex &index);

    // The entry an outbound request to an external recipient records: (recipient, sender),
    // or (recipient, "*") when the winning policy for this outbound mail has override set.
    // nullopt for inbound or internal-to-internal mail, the null sender, or an unusable
    // address.
    std::optional<AutoAllowEntry> learn(const PolicyQuery &query, const PolicyIndex &index) const;

private:
    Seconds m_lifetime;
};

} // namespace greygate
