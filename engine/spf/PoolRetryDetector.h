// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMetaType>
#include <QSet>
#include <list>
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

    // One deferred attempt; network is the client's triplet key (its subnet). Returns the
    // group when this attempt makes it reach the thresholds, once per group.
    std::optional<PoolRetry> noteDeferred(const QByteArray &sender, const QByteArray &recipient,
                                          const QByteArray &address, const QByteArray &network,
                                          qint64 now);
    // The groups being tracked that reached the thresholds and are still in their window.
    QList<PoolRetry> detected(qint64 now) const;
    qsizetype size() const { return m_groups.size(); }

private:
    struct Group
    {
        PoolRetry retry;
        QSet<QByteArray> networks;
        bool raised = false;
        std::list<QByteArray>::iterator use;
    };

    Options m_options;
    QHash<QByteArray, Group> m_groups;
    std::list<QByteArray> m_use; // most recently seen first
};

} // namespace greygate

Q_DECLARE_METATYPE(greygate::PoolRetry)
