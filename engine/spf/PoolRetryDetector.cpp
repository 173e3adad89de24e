// SPDX-License-Identifier: GPL-3.0-or-later
#include "PoolRetryDetector.h"

namespace greygate {

QByteArray PoolRetry::summary() const
{
    return (senderDomain.isEmpty() ? QByteArrayLiteral("<>") : senderDomain) + " retrying from " +
           QByteArray::number(addresses.size()) + (addresses.size() == 1 ? " IP in " : " IPs in ") +
           QByteArray::number(networks) + (networks == 1 ? " network" : " networks");
}

PoolRetryDetector::PoolRetryDetector()
    : PoolRetryDetector(Options())
{}

PoolRetryDetector::PoolRetryDetector(const Options &options)
    : m_options(options)
{}

std::optional<PoolRetry> PoolRetryDetector::noteDeferred(const QByteArray &sender,
                                                         const QByteArray &recipient,
                                                         const QByteArray &address,
                                                         const QByteArray &network, qint64 now)
{
    const QByteArray key = sender + '\x1f' + recipient;
    auto it = m_groups.find(key);
    if (it != m_groups.end() && now - it->retry.firstSeen > m_options.window) {
        // Past its window: the group starts again from this attempt.
        m_use.erase(it->use);
        m_groups.erase(it);
        it = m_groups.end();
    }
    if (it == m_groups.end()) {
        while (m_groups.size() >= m_options.maxGroups && !m_use.empty()) {
            m_groups.remove(m_use.back());
            m_use.pop_back();
        }
        m_use.push_front(key);
        it = m_groups.insert(key, Group());
        it->use = m_use.begin();
        it->retry.sender = sender;
        it->retry.recipient = recipient;
        const qsizetype at = sender.lastIndexOf('@');
        it->retry.senderDomain = at < 0 ? sender : sender.sliced(at + 1);
        it->retry.firstSeen = now;
    } else {
        m_use.splice(m_use.begin(), m_use, it->use);
    }
    Group &g = *it;
    g.retry.lastSeen = now;
    if (!g.retry.addresses.contains(address) && g.retry.addresses.size() < m_options.maxAddresses)
        g.retry.addresses.append(address);
    g.networks.insert(network);
    g.retry.networks = int(g.networks.size());
    if (g.raised || g.retry.addresses.size() < m_options.minAddresses ||
        g.retry.networks < m_options.minNetworks)
        return std::nullopt;
    g.raised = true;
    return g.retry;
}

QList<PoolRetry> PoolRetryDetector::detected(qint64 now) const
{
    QList<PoolRetry> out;
    for (const Group &g : m_groups) {
        if (g.raised && now - g.retry.firstSeen <= m_options.window)
            out.append(g.retry);
    }
    return out;
}

} // namespace greygate
