// SPDX-License-Identifier: GPL-3.0-or-later
#include "CidrSet.h"

#include <algorithm>

namespace greygate {

void CidrSet::insert(const Cidr &cidr, int value)
{
    std::vector<Level> &levels = cidr.network.v4 ? m_v4 : m_v6;
    auto it = std::find_if(levels.begin(), levels.end(),
                           [&](const Level &l) { return l.prefix <= cidr.prefix; });
    if (it == levels.end() || it->prefix != cidr.prefix)
        it = levels.insert(it, Level{cidr.prefix, {}});
    QList<int> &values = it->networks[Key{cidr.network.hi, cidr.network.lo}];
    if (!values.contains(value))
        values.append(value);
}

bool CidrSet::contains(const IpAddress &address) const
{
    return longestMatch(address) >= 0;
}

int CidrSet::longestMatch(const IpAddress &address) const
{
    for (const Level &level : address.v4 ? m_v4 : m_v6) {
        const IpAddress key = Cidr::masked(address, level.prefix);
        if (level.networks.contains(Key{key.hi, key.lo}))
            return level.prefix;
    }
    return -1;
}

} // namespace greygate
