// SPDX-License-Identifier: GPL-3.0-or-later
#include "InternalMatcher.h"

namespace greygate {

InternalMatcher::InternalMatcher(const InternalConfig &config)
{
    for (const InternalDomain &d : config.domains)
        (d.includeSubdomains ? m_withSubdomains : m_exact).insert(d.domain.toUtf8());
    for (const Cidr &c : config.networks)
        m_networks.insert(c, 0);
}

bool InternalMatcher::isInternalDomain(QByteArrayView domain) const
{
    if (domain.isEmpty())
        return false;
    const QByteArray key = QByteArray::fromRawData(domain.data(), domain.size());
    if (m_exact.contains(key) || m_withSubdomains.contains(key))
        return true;
    if (m_withSubdomains.isEmpty())
        return false;
    for (qsizetype dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
        const QByteArrayView parent = domain.sliced(dot + 1);
        if (m_withSubdomains.contains(QByteArray::fromRawData(parent.data(), parent.size())))
            return true;
    }
    return false;
}

} // namespace greygate
