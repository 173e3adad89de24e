// SPDX-License-Identifier: GPL-3.0-or-later
#include "RecentSet.h"

namespace greygate {

RecentSet::RecentSet(qsizetype capacity)
    : m_capacity(std::max<qsizetype>(capacity, 1))
{}

bool RecentSet::insert(const QByteArray &key)
{
    const auto found = m_index.constFind(key);
    if (found != m_index.constEnd()) {
        m_order.splice(m_order.begin(), m_order, found.value());
        return false;
    }
    if (m_index.size() >= m_capacity) {
        m_index.remove(m_order.back());
        m_order.pop_back();
    }
    m_order.push_front(key);
    m_index.insert(key, m_order.begin());
    return true;
}

} // namespace greygate
