// SPDX-License-Identifier: GPL-3.0-or-later
#include "AutoAllowLearner.h"

#include "MailAddress.h"
#include "PolicyIndex.h"

namespace greygate {

bool AutoAllowLearner::isOutbound(const PolicyQuery &query, const PolicyIndex &index)
{
    if (!query.saslUsername.isEmpty())
        return true;
    const MailAddress::Lowered sender(query.sender);
    if (!sender.valid() || sender.isNull() || !index.internal().isInternalDomain(sender.domain()))
        return false;
    const std::optional<IpAddress> client = IpAddress::parse(query.clientAddress);
    return client && index.internal().isInternalNetwork(*client);
}

std::optional<AutoAllowEntry> AutoAllowLearner::learn(const PolicyQuery &query,
                                                      const PolicyIndex &index) const
{
    if (!isOutbound(query, index))
        return std::nullopt;
    const MailAddress::Lowered sender(query.sender);
    const MailAddress::Lowered recipient(query.recipient);
    // Both must be real addresses ("user@domain"); a bounce (<>) answers nobody.
    const auto isAddress = [](const MailAddress::Lowered &a) {
        return a.valid() && !a.domain().isEmpty() && a.address().size() - a.domain().size() >= 2;
    };
    if (!isAddress(sender) || !isAddress(recipient))
        return std::nullopt;
    if (index.internal().isInternalDomain(recipient.domain()))
        return std::nullopt; // internal to internal: no external correspondent to learn
    AutoAllowEntry entry;
    entry.externalAddress = QString::fromUtf8(recipient.address());
    entry.internalAddress = QString::fromUtf8(sender.address());
    const Policy *policy = index.winningPolicy(query);
    if (policy && policy->override)
        entry.internalAddress = AutoAllowEntry::kEveryInternalUser;
    entry.createdAt = query.now;
    entry.expiresAt = query.now + m_lifetime;
    return entry;
}

} // namespace greygate
