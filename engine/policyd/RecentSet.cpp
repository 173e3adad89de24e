// SPDX-License-Identifier: GPL-3.0-or-later
#include "RecentSet.h"

#include <algorithm>

namespace greygate {

namespace {
constexpr quint32 npos = KeyedSlotTable<int>::npos;
}

RecentSet::RecentSet(qsizetype capacity)
    : m_capacity(std::clamp<qsizetype>(capacity, 1, 0x7fffffff))
{}

void RecentSet::unlink(quint32 n)
{
    Links &node = m_table.value(n);
    if (node.newer != npos)
        m_table.value(node.newer).older = node.older;
    else
        m_newest = node.older;
    if (node.older != npos)
        m_table.value(node.older).newer = node.newer;
    else
        m_oldest = node.newer;
    node.newer = node.older = npos;
}

void RecentSet::pushNewest(quint32 n)
{
    Links &node = m_table.value(n);
    node.newer = npos;
    node.older = m_newest;
    if (m_newest != npos)
        m_table.value(m_newest).newer = n;
    m_newest = n;
    if (m_oldest == npos)
        m_oldest = n;
}

bool RecentSet::insert(QByteArrayView key)
{
    if (key.size() > KeyedSlotTable<Links>::kMaxKeyBytes)
        return true;
    const quint32 hash = m_table.hashOf(key);
    if (const quint32 n = m_table.find(key, hash); n != npos) {
        if (n != m_newest) {
            unlink(n);
            pushNewest(n);
        }
        return false;
    }
    if (qsizetype(m_table.size()) >= m_capacity) {
        // Full: the least recently used key goes; its slot and key bytes are reused.
        const quint32 oldest = m_oldest;
        unlink(oldest);
        m_table.remove(oldest);
    }
    const quint32 n = m_table.insert(key, Links{}, hash);
    pushNewest(n);
    return true;
}

} // namespace greygate
