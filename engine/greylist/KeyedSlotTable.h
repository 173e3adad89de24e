// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "HugePageAllocator.h"
#include "KeyArena.h"

#include <QByteArrayView>
#include <QHashFunctions>
#include <cstring>
#include <vector>

namespace greygate {

// A compact byte-string-keyed table for the greylist's millions of entries. QHash<QByteArray,
// T> costs a QByteArray header, a refcounted heap block and span slack per entry; here an
// entry is one 32-byte slot (key pointer, 32-bit hash, the value) plus its key bytes in a
// KeyArena block, and an 8-byte index cell (slot number and hash) in an open-addressing table
// (linear probing, backward-shift deletion, so no tombstones pile up under churn).
//
// With a million entries every lookup misses the caches: the hash beside the slot number
// lets a probe pass over other keys' cells without reading their slots (eight cells a cache
// line), so a lookup of an absent key costs one miss and a present one the cell, its slot and
// its key bytes. (A key pointer in the cell too would let the key and the slot load together,
// but costs 8 more bytes a cell: +24 MB of resident memory with a million triplets.) The
// large arrays are on huge pages (HugePageAllocator), so those misses do not also miss the
// TLB. hashOf() and the hashed overloads let a caller hash a key once for a find() then an
// insert(), and prefetch() its cell early.
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

    quint32 hashOf(QByteArrayView key) const
    {
        const size_t h = qHash(key, m_seed);
        return quint32(h ^ (quint64(h) >> 32));
    }

    // Starts loading the index cell where a lookup of this hash begins.
    void prefetch(quint32 hash) const
    {
        if (!m_index.empty())
            __builtin_prefetch(&m_index[hash & quint32(m_index.size() - 1)]);
    }

    quint32 find(QByteArrayView key) const { return find(key, hashOf(key)); }
    // hash: hashOf(key).
    quint32 find(QByteArrayView key, quint32 hash) const
    {
        if (m_size == 0)
            return npos;
        const quint32 mask = quint32(m_index.size() - 1);
        for (quint32 i = hash & mask;; i = (i + 1) & mask) {
            const Cell &cell = m_index[i];
            if (cell.slot == npos)
                return npos;
            if (cell.hash == hash) {
                if (keyOf(m_slots[cell.slot]) == key)
                    return cell.slot;
            }
        }
    }

    // The key must not be present (find() first) and must be at most kMaxKeyBytes long.
    quint32 insert(QByteArrayView key, const Value &value)
    {
        return insert(key, value, hashOf(key));
    }
    // hash: hashOf(key).
    quint32 insert(QByteArrayView key, const Value &value, quint32 hash)
    {
        Q_ASSERT(key.size() <= kMaxKeyBytes);
        Q_ASSERT(hash == hashOf(key));
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
        slot.hash = hash;
        slot.value = value;
        place(Cell{s, hash});
        ++m_size;
        return s;
    }

    void remove(quint32 s)
    {
        Q_ASSERT(isLive(s));
        Slot &slot = m_slots[s];
        const quint32 mask = quint32(m_index.size() - 1);
        quint32 i = slot.hash & mask;
        while (m_index[i].slot != s)
            i = (i + 1) & mask;
        // Backward shift: pull later members of the probe run into the hole unless their
        // home position lies cyclically in (hole, their position].
        for (quint32 j = i;;) {
            j = (j + 1) & mask;
            const Cell moved = m_index[j];
            if (moved.slot == npos)
                break;
            const quint32 home = moved.hash & mask;
            const bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (stays)
                continue;
            m_index[i] = moved;
            i = j;
        }
        m_index[i] = Cell{};
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
        return m_slots.capacity() * sizeof(Slot) + m_index.capacity() * sizeof(Cell) +
               m_keys.bytesHeld();
    }

private:
    struct Slot
    {
        char *key = nullptr; // [quint16 length][bytes]; nullptr = free
        quint32 hash = 0;    // of the key; the next free slot while free
        Value value{};
    };

    struct Cell
    {
        quint32 slot = npos; // npos: an empty cell
        quint32 hash = 0;    // the slot's hash, so probes need not read the slot
    };

    static QByteArrayView keyOf(const Slot &slot)
    {
        quint16 length;
        std::memcpy(&length, slot.key, 2);
        return QByteArrayView(slot.key + 2, length);
    }

    void place(Cell cell)
    {
        const quint32 mask = quint32(m_index.size() - 1);
        quint32 i = cell.hash & mask;
        while (m_index[i].slot != npos)
            i = (i + 1) & mask;
        m_index[i] = cell;
    }

    void growIndex()
    {
        const size_t capacity = m_index.empty() ? 16 : m_index.size() * 2;
        m_index.assign(capacity, Cell{});
        for (quint32 s = 0; s < m_slots.size(); ++s) {
            if (m_slots[s].key)
                place(Cell{s, m_slots[s].hash});
        }
    }

    std::vector<Slot, HugePageAllocator<Slot>> m_slots;
    std::vector<Cell, HugePageAllocator<Cell>> m_index; // a power of two
    quint32 m_freeHead = npos;
    quint32 m_size = 0;
    KeyArena m_keys;
    size_t m_seed;
};

} // namespace greygate
