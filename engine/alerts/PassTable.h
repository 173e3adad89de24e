// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QByteArray>
#include <QByteArrayView>
#include <memory>
#include <optional>

namespace greygate {

// The last pass of each recent sender (DaemonWatch::lastPass): a flat table of fixed size,
// keyed by a seeded 64-bit hash of the lower-cased sender, in buckets of kWays slots; a new
// sender takes the oldest slot of its bucket. With a million distinct senders a QHash
// allocated a node for each new one and was halved (and rebuilt) every 100,000; here a pass
// is a bucket scan and a slot overwritten (the client's bytes shared with the event), and
// the bound holds without ever rehashing. The slots are made at the first insert.
//
// Two senders with the same 64-bit hash would share a slot: with a random seed per table
// that is a chance of about 2^-40 at full size, for a triage hint. Not thread-safe.
//
// The key may be any bytes: TriageFacts keeps the client address of each greylisted triplet
// in one too (keyed by the triplet, "time" its insertion count, so the oldest goes).
class PassTable
{
public:
    struct Pass
    {
        QByteArray client;
        Seconds time = 0;
    };

    static constexpr qsizetype kWays = 8;

    // At least `capacity` slots (rounded up to a power of two).
    explicit PassTable(qsizetype capacity);
    ~PassTable();

    void insert(QByteArrayView key, const QByteArray &client, Seconds time);
    // For a batch of inserts: the key's hash, its bucket asked for from memory now, to be
    // handed to insertHashed() a few inserts later, once it has arrived.
    quint64 prefetch(QByteArrayView key) const;
    void insertHashed(quint64 hash, const QByteArray &client, Seconds time);
    std::optional<Pass> find(QByteArrayView key) const;
    qsizetype slotCount() const { return qsizetype(m_mask + 1) * kWays; }

private:
    struct Slot
    {
        quint64 hash = 0; // 0: empty
        Seconds time = 0;
        QByteArray client;
    };
    quint64 hashOf(QByteArrayView key) const;
    size_t bucketOf(quint64 hash) const;

    std::unique_ptr<Slot[]> m_slots;
    size_t m_mask = 0; // buckets - 1
    size_t m_seed = 0;
};

} // namespace greygate
