// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/KeyedSlotTable.h"

#include <QByteArrayView>

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
    // now the most recent). A key longer than KeyedSlotTable's kMaxKeyBytes is never held:
    // always new.
    bool insert(QByteArrayView key);
    bool contains(QByteArrayView key) const { return m_table.find(key) != m_table.npos; }
    qsizetype size() const { return qsizetype(m_table.size()); }
    qsizetype capacity() const { return m_capacity; }

private:
    // Keys live in the table's arena and slots (reused by the key that evicts theirs), the
    // recency order is a list linked through the slots' values: an insert (every passed
    // message) allocates nothing once the arena has grown to the capacity's keys.
    struct Links
    {
        quint32 newer = KeyedSlotTable<int>::npos;
        quint32 older = KeyedSlotTable<int>::npos;
    };
    void unlink(quint32 n);
    void pushNewest(quint32 n);

    qsizetype m_capacity;
    KeyedSlotTable<Links> m_table;
    quint32 m_newest = KeyedSlotTable<Links>::npos;
    quint32 m_oldest = KeyedSlotTable<Links>::npos;
};

} // namespace greygate
