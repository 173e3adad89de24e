// SPDX-License-Identifier: GPL-3.0-or-later
#include "PassTable.h"

#include <QHashFunctions>
#include <QRandomGenerator>
#include <bit>

namespace greygate {

PassTable::PassTable(qsizetype capacity)
    : m_mask(std::bit_ceil(size_t(std::max<qsizetype>(capacity, kWays) + kWays - 1) / kWays) - 1)
    , m_seed(size_t(QRandomGenerator::system()->generate64()))
{}

PassTable::~PassTable() = default;

size_t PassTable::bucketOf(quint64 hash) const
{
    // The hash's high bits, stirred by a multiply: the low bits of qHash alone left some
    // buckets with far more keys than others for keys that differ in a few characters.
    return size_t((hash * 0x9E3779B97F4A7C15ull) >> 32) & m_mask;
}

quint64 PassTable::hashOf(QByteArrayView key) const
{
    const quint64 h = qHash(key, m_seed);
    return h == 0 ? 1 : h; // 0 marks an empty slot
}

quint64 PassTable::prefetch(QByteArrayView key) const
{
    const quint64 h = hashOf(key);
    if (m_slots) {
        const char *bucket = reinterpret_cast<const char *>(&m_slots[bucketOf(h) * kWays]);
        // A bucket is not aligned to cache lines: its last byte's line too.
        for (size_t at = 0; at < sizeof(Slot) * kWays; at += 64)
            __builtin_prefetch(bucket + at, 1);
        __builtin_prefetch(bucket + sizeof(Slot) * kWays - 1, 1);
    }
    return h;
}

void PassTable::insert(QByteArrayView key, const QByteArray &client, Seconds time)
{
    insertHashed(hashOf(key), client, time);
}

void PassTable::insertHashed(quint64 h, const QByteArray &client, Seconds time)
{
    if (!m_slots)
        m_slots = std::make_unique<Slot[]>((m_mask + 1) * kWays);
    Slot *const bucket = &m_slots[bucketOf(h) * kWays];
    // The sender's own slot if it has one, else an empty one, else the oldest.
    Slot *target = bucket;
    for (qsizetype i = 0; i < kWays; ++i) {
        Slot &s = bucket[i];
        if (s.hash == h) {
            target = &s;
            break;
        }
        if (target->hash != 0 && (s.hash == 0 || s.time < target->time))
            target = &s;
    }
    target->hash = h;
    target->time = time;
    target->client = client;
}

std::optional<PassTable::Pass> PassTable::find(QByteArrayView key) const
{
    if (!m_slots)
        return std::nullopt;
    const quint64 h = hashOf(key);
    const Slot *const bucket = &m_slots[bucketOf(h) * kWays];
    for (qsizetype i = 0; i < kWays; ++i) {
        if (bucket[i].hash == h)
            return Pass{bucket[i].client, bucket[i].time};
    }
    return std::nullopt;
}

} // namespace greygate
