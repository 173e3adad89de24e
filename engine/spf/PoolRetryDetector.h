// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <memory>
#include <optional>

namespace greygate {

// A sender retrying one message from several addresses of its pool: what the
// pool-retry detector reports ("outlook.com retrying from 6 IPs in 3 networks").
struct PoolRetry
{
    QByteArray senderDomain;
    QByteArray sender;
    QByteArray recipient;
    QList<QByteArray> addresses; // the clients seen, in order, at most maxAddresses
    int networks = 0;
    qint64 firstSeen = 0;
    qint64 lastSeen = 0;

    QByteArray summary() const;
};

// Groups deferred attempts by (sender, recipient) and reports a group once when its
// attempts came from at least minAddresses addresses in at least minNetworks networks
// within window seconds: the signature of a large sender whose retries never match an
// IP-keyed triplet. Bounded: at most maxGroups groups (the least recently seen dropped) of
// at most maxAddresses addresses each. Time is passed in (tests use a manual clock).
//
// Nearly every deferral of a busy gateway starts a group that never sees a second address,
// so a group costs no allocation until it does: the groups live in a flat array made at the
// first attempt (maxGroups slots, linked in least-recently-seen order through their
// indexes), found through an open-addressing index of (hash, slot) cells; a group's sender
// and recipient share the caller's bytes, its first address is kept inline and its networks
// are counted by a seeded 64-bit hash of each. Not thread-safe.
class PoolRetryDetector
{
public:
    struct Options
    {
        int minAddresses = 3;
        int minNetworks = 2;
        qint64 window = 6 * 3600;
        qsizetype maxGroups = 20'000;
        int maxAddresses = 64;
    };

    PoolRetryDetector();
    explicit PoolRetryDetector(const Options &options);
    ~PoolRetryDetector();

    // One deferred attempt; network is the client's triplet key (its subnet). Returns the
    // group when this attempt makes it reach the thresholds, once per group.
    std::optional<PoolRetry> noteDeferred(const QByteArray &sender, const QByteArray &recipient,
                                          const QByteArray &address, const QByteArray &network,
                                          qint64 now);
    // The groups being tracked that reached the thresholds and are still in their window.
    QList<PoolRetry> detected(qint64 now) const;
    qsizetype size() const { return m_count; }

private:
    static constexpr quint32 kNone = 0xffffffffu;
    static constexpr qsizetype kInlineAddress = 46; // an IPv6 address in text, at the most

    struct Group
    {
        QByteArray sender;
        QByteArray recipient;
        quint64 hash = 0;
        qint64 firstSeen = 0;
        qint64 lastSeen = 0;
        quint32 newer = kNone; // the least-recently-seen list
        quint32 older = kNone;
        // The first address inline (most groups see only one); any further ones in the list.
        char firstAddress[kInlineAddress] = {};
        quint8 firstAddressSize = 0;
        bool hasFirstAddress = false;
        bool raised = false;
        QList<QByteArray> moreAddresses;
        bool hasNetwork = false;
        quint64 firstNetwork = 0; // hashes of the networks seen
        QList<quint64> moreNetworks;

        qsizetype addressCount() const { return (hasFirstAddress ? 1 : 0) + moreAddresses.size(); }
        int networkCount() const { return (hasNetwork ? 1 : 0) + int(moreNetworks.size()); }
        bool hasAddress(QByteArrayView address) const;
        void addNetwork(quint64 network);
        void reset(qint64 now);
    };
    struct Cell
    {
        quint64 hash = 0;
        quint32 slot = kNone; // kNone: empty
    };

    quint64 hashOf(QByteArrayView sender, QByteArrayView recipient) const;
    qsizetype find(quint64 hash, const QByteArray &sender, const QByteArray &recipient) const;
    void unlink(quint32 slot);
    void pushNewest(quint32 slot);
    void eraseCell(size_t cell);
    quint32 takeSlot(); // a free slot, or the least recently seen group's
    PoolRetry retryOf(const Group &g) const;

    Options m_options;
    size_t m_seed = 0;
    std::unique_ptr<Group[]> m_groups; // maxGroups slots, made at the first attempt
    std::unique_ptr<Cell[]> m_cells;   // a power of two, at least twice maxGroups
    size_t m_cellMask = 0;
    qsizetype m_count = 0; // groups in use (slots 0..m_count-1 were used in order)
    quint32 m_newest = kNone;
    quint32 m_oldest = kNone;
};

} // namespace greygate

Q_DECLARE_METATYPE(greygate::PoolRetry)
