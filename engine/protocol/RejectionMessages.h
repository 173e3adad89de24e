// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ProtocolError.h"

#include <QJsonObject>
#include <QList>
#include <optional>

namespace greygate::protocol {

// "rejections.list" params: the Rejection Viewer's rows in [from, to), oldest first,
// filtered; the filters are substrings (client, sender, recipient, reason).
struct RejectionQuery
{
    static constexpr qint64 kMaxLimit = 1000;

    qint64 from = 0;
    qint64 to = 0; // 0: no upper bound
    QString client;
    QString sender;
    QString recipient;
    QString reason;
    qint64 offset = 0;
    qint64 limit = 100;

    bool filtered() const
    {
        return !client.isEmpty() || !sender.isEmpty() || !recipient.isEmpty() || !reason.isEmpty();
    }
    QJsonObject toJson() const;
    static std::optional<RejectionQuery> fromJson(const QJsonObject &params, ProtocolError *error);
};

struct RejectionRow
{
    qint64 time = 0;
    QString reason;
    QString client;
    QString sender;
    QString recipient;
    qint64 attempts = 0;
    qint64 firstSeen = 0;

    QJsonObject toJson() const;
    static std::optional<RejectionRow> fromJson(const QJsonObject &o, const QString &path,
                                                ProtocolError *error);
};

struct RejectionPage
{
    qint64 offset = 0;
    bool more = false; // further matching rows exist after this page
    QList<RejectionRow> rows;

    QJsonObject toJson() const;
    static std::optional<RejectionPage> fromJson(const QJsonObject &o, ProtocolError *error);
};

} // namespace greygate::protocol
