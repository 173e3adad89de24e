// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "KeyArena.h"

#include <QByteArrayView>
#include <QHashFunctions>
#include <cstring>
#include <vector>

namespace greygate {

// A compact byte-string-keyed table for the greylist's millions of entries. QHash<QByteArray,
// T> costs a QByteArray header, a refcounted heap block and span slack per entry; here an
// entry is one 32-byte slot (key pointer, 32-bit hash, the value) plus its key bytes in a
// KeyArena block, and a 4-byte index cell in an open-addressing table (linear probing,
// backward-shift deletion, so no tombstones pile up under churn).
//
// Slots are stable: an entry keeps its slot number from insert() to remove(), so other
// structures (the expiry heap) can refer to it by a 32-bit number. Freed slots are reused.
// The hash is seeded per process (QHashSeed::globalSeed()): keys come from the network, and
// a fixed hash would let a sender craft colliding triplets.
template <typename Value> class KeyedSlotTable
{
public:
    static constexpr quint32 npos = 0xffffffffu;
    static constexpr qsizetype kMaxKeyBytes = 0xffff; // fits the 16-bit length prefix

    KeyedSlotTable()
        : m_seed(QHashSeed::globalSeed())
    {}
    ~KeyedSlotTable() { clear(); }
    KeyedSlotTable(const KeyedSlotTable &) = delete;
    KeyedSlotTable &operator=(const KeyedSlotTable &) = delete;

    quint32 size() const { return m_size; }

    quint32 find(QByteArrayView key) const
    {
        if (m_size == 0)
            return npos;
        const quint32 h = hashOf(key);
        const quint32 mask = quint32(m_index.size() - 1);
        for (quint32 i = h & mask;; i = (i + 1) & mask) {
            const quint32 s = m_index[i];
            if (s == npos)
                return npos;
            const Slot &slot = m_slots[s];
            if (slot.hash == h && keyOf(slot) == key)
                return s;
        }
    }

    // The key must not be present (find() first) and must be at most kMaxKeyBytes long.
    quint32 insert(QByteArrayView key, const Value &value)
    {
        Q_ASSERT(key.size() <= kMaxKeyBytes);
        if (quint64(m_size + 1) * 4 > quint64(m_index.size()) * 3)
            growIndex();
        char *block = m_keys.allocate(size_t(key.size()) + 2);
        const auto length = quint16(key.size());
        std::memcpy(block, &length, 2);
        if (!key.isEmpty())
            std::memcpy(block + 2, key.data(), size_t(key.size()));

        quint32 s;
        if (m_freeHead != npos) {
            s = m_freeHead;
            m_freeHead = m_slots[s].hash;
        } else {
            s = quint32(m_slots.size());
            m_slots.emplace_back();
        }
        Slot &slot = m_slots[s];
        slot.key = block;
        slot.hash = hashOf(key);
        slot.value = value;
        place(s, slot.hash);
        ++m_size;
        return s;
    }

    void remove(quint32 s)
    {
        Q_ASSERT(isLive(s));
        Slot &slot = m_slots[s];
        const quint32 mask = quint32(m_index.size() - 1);
        quint32 i = slot.hash & mask;
        while (m_index[i] != s)
            i = (i + 1) & mask;
        // Backward shift: pull later members of the probe run into the hole unless their
        // home position lies cyclically in (hole, their position].
        for (quint32 j = i;;) {
            j = (j + 1) & mask;
            const quint32 moved = m_index[j];
            if (moved == npos)
                break;
            const quint32 home = m_slots[moved].hash & mask;
            const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (stays)
                continue;
            m_index[i] = moved;
            i = j;
        }
        m_index[i] = npos;
        m_keys.release(slot.key, size_t(keyOf(slot).size()) + 2);
        slot.key = nullptr;
        slot.value = Value{};
        slot.hash = m_freeHead;
        m_freeHead = s;
        --m_size;
    }

    bool isLive(quint32 s) const { return s < m_slots.size() && m_slots[s].key != nullptr; }
    // One past the highest slot number in use or free: walk [0, slotCount()) with isLive().
    quint32 slotCount() const { return quint32(m_slots.size()); }
    QByteArrayView key(quint32 s) const { return keyOf(m_slots[s]); }
    Value &value(quint32 s) { return m_slots[s].value; }
    const Value &value(quint32 s) const { return m_slots[s].value; }

    void reserve(quint32 count)
    {
        m_slots.reserve(count);
        while (quint64(count) * 4 > quint64(m_index.size()) * 3)
            growIndex();
    }

    void clear()
    {
        m_keys.clear();
        m_slots.clear();
        m_index.clear();
        m_freeHead = npos;
        m_size = 0;
    }

    // Bytes held: the table's arrays and the key arena.
    size_t memoryBytes() const
    {
        return m_slots.capacity() * sizeof(Slot) + m_index.capacity() * sizeof(quint32) +
               m_keys.bytesHeld();
    }

private:
    struct Slot
    {
        char *key = nullptr; // [quint16 length][bytes]; nullptr = free
        quint32 hash = 0;    // of the key; the next free slot while free
        Value value{};
    };

    static QByteArrayView keyOf(const Slot &slot)
    {
        quint16 length;
        std::memcpy(&length, slot.key, 2);
        return QByteArrayView(slot.key + 2, length);
    }

    quint32 hashOf(QByteArrayView key) const
    {
        const size_t h = qHash(key, m_seed);
        return quint32(h ^ (quint64(h) >> 32));
    }

    void place(quint32 s, quint32 h)
    {
        const quint32 mask = quint32(m_index.size() - 1);
        quint32 i = h & mask;
        while (m_index[i] != npos)
            i = (i + 1) & mask;
        m_index[i] = s;
    }

    void growIndex()
    {
        const size_t capacity = m_index.empty() ? 16 : m_index.size() * 2;
        m_index.assign(capacity, npos);
        for (quint32 s = 0; s < m_slots.size(); ++s) {
            if (m_slots[s].key)
                place(s, m_slots[s].hash);
        }
    }

    std::vector<Slot> m_slots;
    std::vector<quint32> m_index; // a power of two; npos marks an empty cell
    quint32 m_freeHead = npos;
    quint32 m_size = 0;
    KeyArena m_keys;
    size_t m_seed;
};

} // namespace greygate
