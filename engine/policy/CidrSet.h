// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Cidr.h"

#include <QHash>
#include <QList>
#include <vector>

namespace greygate {

// A set of networks, each carrying caller values (a group index, say), answering "which
// networks hold this address" with one hash lookup per distinct prefix length in use: at
// most 33 for IPv4 and 129 for IPv6, in practice a handful. Built once, read many times.
class CidrSet
{
public:
    void insert(const Cidr &cidr, int value);
    bool isEmpty() const { return m_v4.empty() && m_v6.empty(); }

    // Calls visit(prefix, value) for every network holding the address, longest prefix first.
    template <typename Visit> void forEachMatch(const IpAddress &address, Visit &&visit) const
    {
        for (const Level &level : address.v4 ? m_v4 : m_v6) {
            const IpAddress key = Cidr::masked(address, level.prefix);
            const auto it = level.networks.constFind(Key{key.hi, key.lo});
            if (it == level.networks.cend())
                continue;
            for (int value : *it)
                visit(level.prefix, value);
        }
    }

    bool contains(const IpAddress &address) const;
    // The longest prefix holding the address, -1 if none does.
    int longestMatch(const IpAddress &address) const;

private:
    struct Key
    {
        quint64 hi;
        quint64 lo;
        friend bool operator==(const Key &, const Key &) = default;
        friend size_t qHash(const Key &k, size_t seed = 0) noexcept
        {
            return qHashMulti(seed, k.hi, k.lo);
        }
    };
    struct Level
    {
        int prefix;
        QHash<Key, QList<int>> networks;
    };

    std::vector<Level> m_v4; // longest prefix first
    std::vector<Level> m_v6;
};

} // namespace greygate
