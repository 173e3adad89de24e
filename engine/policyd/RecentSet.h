// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHash>
#include <vector>

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
    // The recency order is a list linked by index through nodes that are allocated once
    // (up to the capacity) and then reused by the key that evicts theirs: no allocation per
    // insert once full (this runs for every passed message).
    struct Node
    {
        QByteArray key;
        qsizetype newer = -1;
        qsizetype older = -1;
    };
    void unlink(qsizetype n);
    void pushNewest(qsizetype n);

    qsizetype m_capacity;
    std::vector<Node> m_nodes;
    qsizetype m_newest = -1;
    qsizetype m_oldest = -1;
    QHash<QByteArray, qsizetype> m_index; // key -> its node
};

} // namespace greygate
