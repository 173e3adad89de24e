// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHash>
#include <list>

namespace greygate {

// A bounded set that remembers the most recently inserted keys (least recently used out
// first). The policy handler keeps the message instances that already got their X-Greylist
// header in one, so a message with many recipients gets one header, with memory bounded
// however many messages pass.
class RecentSet
{
public:
    explicit RecentSet(qsizetype capacity);

    // True if the key was new (and is now held); false if it was already held (and is
    // now the most recent).
    bool insert(const QByteArray &key);
    bool contains(const QByteArray &key) const { return m_index.contains(key); }
    qsizetype size() const { return m_index.size(); }
    qsizetype capacity() const { return m_capacity; }

private:
    qsizetype m_capacity;
    std::list<QByteArray> m_order; // most recent first
    QHash<QByteArray, std::list<QByteArray>::iterator> m_index;
};

} // namespace greygate
