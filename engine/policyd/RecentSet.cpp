// SPDX-License-Identifier: GPL-3.0-or-later
#include "RecentSet.h"

#include <algorithm>

namespace greygate {

RecentSet::RecentSet(qsizetype capacity)
    : m_capacity(std::max<qsizetype>(capacity, 1))
{}

void RecentSet::unlink(qsizetype n)
{
    Node &node = m_nodes[size_t(n)];
    if (node.newer >= 0)
        m_nodes[size_t(node.newer)].older = node.older;
    else
        m_newest = node.older;
    if (node.older >= 0)
        m_nodes[size_t(node.older)].newer = node.newer;
    else
        m_oldest = node.newer;
    node.newer = node.older = -1;
}

void RecentSet::pushNewest(qsizetype n)
{
    Node &node = m_nodes[size_t(n)];
    node.newer = -1;
    node.older = m_newest;
    if (m_newest >= 0)
        m_nodes[size_t(m_newest)].newer = n;
    m_newest = n;
    if (m_oldest < 0)
        m_oldest = n;
}

bool RecentSet::insert(const QByteArray &key)
{
    // One lookup that inserts when the key is new (the size tells which it was).
    const qsizetype before = m_index.size();
    qsizetype &slot = m_index[key];
    if (m_index.size() == before) {
        const qsizetype n = slot;
        if (n != m_newest) {
            unlink(n);
            pushNewest(n);
        }
        return false;
    }
    if (before >= m_capacity) {
        // Full: the least recently used key gives its node to this one. Its hash entry goes
        // last, because removing it may move `slot`.
        const qsizetype n = m_oldest;
        unlink(n);
        QByteArray evicted = std::move(m_nodes[size_t(n)].key);
        m_nodes[size_t(n)].key = key;
        slot = n;
        pushNewest(n);
        m_index.remove(evicted);
        return true;
    }
    const qsizetype n = qsizetype(m_nodes.size());
    m_nodes.push_back(Node{key});
    slot = n;
    pushNewest(n);
    return true;
}

} // namespace greygate
