// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ProtocolError.h"

#include <QJsonObject>
#include <QList>
#include <optional>

namespace greygate::protocol {

// "queue.list" params: one page of the greylist, filtered and sorted (docs/api.md).
struct QueueQuery
{
    static constexpr qint64 kMaxLimit = 1000;

    QString state = QStringLiteral("any"); // "any", "deferred", "passed"
    QString client;    // an IP address (its network's entry) or a key as listed ("192.0.2.0/24")
    QString sender;    // substring of the normalised sender
    QString recipient; // substring of the recipient
    QString domain;    // the sender's or the recipient's domain, exactly
    QString sort = QStringLiteral("lastSeen"); // see kSortKeys in the .cpp
    bool descending = true;
    qint64 offset = 0;
    qint64 limit = 100;

    QJsonObject toJson() const;
    static std::optional<QueueQuery> fromJson(const QJsonObject &params, ProtocolError *error);
};

struct QueueEntry
{
    QString client;
    QString sender;
    QString recipient;
    QString state; // "deferred" / "passed"
    qint64 attempts = 0;
    qint64 firstSeen = 0;
    qint64 lastSeen = 0;
    qint64 passAt = 0;    // firstSeen + delay: a retry from then on passes (deferred)
    qint64 expiresAt = 0; // deferred: the retry window closes; passed: the lifetime ends

    QJsonObject toJson() const;
    static std::optional<QueueEntry> fromJson(const QJsonObject &o, const QString &path,
                                              ProtocolError *error);
};

struct QueuePage
{
    qint64 total = 0; // entries matching the filter, over all pages
    qint64 offset = 0;
    QList<QueueEntry> entries;

    QJsonObject toJson() const;
    static std::optional<QueuePage> fromJson(const QJsonObject &o, ProtocolError *error);
};

// "queue.release" / "queue.delete" / "queue.permit" params: one triplet as listed.
struct TripletRef
{
    QString client;
    QString sender;
    QString recipient;

    QJsonObject toJson() const;
    static std::optional<TripletRef> fromJson(const QJsonObject &params, ProtocolError *error);
};

} // namespace greygate::protocol
