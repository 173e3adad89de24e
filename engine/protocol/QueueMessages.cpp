// SPDX-License-Identifier: GPL-3.0-or-later
#include "QueueMessages.h"

#include "JsonFields.h"

#include <QJsonArray>

namespace greygate::protocol {

namespace {

constexpr qsizetype kMaxField = 512; // TripletNormaliser::kMaxFieldBytes

} // namespace

QJsonObject QueueQuery::toJson() const
{
    QJsonObject o{{QStringLiteral("state"), state},
                  {QStringLiteral("sort"), sort},
                  {QStringLiteral("descending"), descending},
                  {QStringLiteral("offset"), offset},
                  {QStringLiteral("limit"), limit}};
    for (const auto &[key, value] :
         {std::pair{QStringLiteral("client"), client}, std::pair{QStringLiteral("sender"), sender},
          std::pair{QStringLiteral("recipient"), recipient},
          std::pair{QStringLiteral("domain"), domain}}) {
        if (!value.isEmpty())
            o.insert(key, value);
    }
    return o;
}

std::optional<QueueQuery> QueueQuery::fromJson(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    QueueQuery q;
    f.onlyKnown({u"state", u"client", u"sender", u"recipient", u"domain", u"sort", u"descending",
                 u"offset", u"limit"});
    f.choice(u"state", &q.state, {u"any", u"deferred", u"passed"});
    f.string(u"client", &q.client, false, kMaxField);
    f.string(u"sender", &q.sender, false, kMaxField);
    f.string(u"recipient", &q.recipient, false, kMaxField);
    f.string(u"domain", &q.domain, false, kMaxField);
    f.choice(u"sort", &q.sort,
             {u"firstSeen", u"lastSeen", u"attempts", u"client", u"sender", u"recipient", u"passAt",
              u"expiresAt"});
    f.boolean(u"descending", &q.descending);
    f.integer(u"offset", &q.offset, 0, 100'000'000);
    f.integer(u"limit", &q.limit, 1, kMaxLimit);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return q;
}

QJsonObject QueueEntry::toJson() const
{
    return QJsonObject{
        {QStringLiteral("client"), client},       {QStringLiteral("sender"), sender},
        {QStringLiteral("recipient"), recipient}, {QStringLiteral("state"), state},
        {QStringLiteral("attempts"), attempts},   {QStringLiteral("firstSeen"), firstSeen},
        {QStringLiteral("lastSeen"), lastSeen},   {QStringLiteral("passAt"), passAt},
        {QStringLiteral("expiresAt"), expiresAt}};
}

std::optional<QueueEntry> QueueEntry::fromJson(const QJsonObject &o, const QString &path,
                                               ProtocolError *error)
{
    JsonFields f(o, path);
    QueueEntry e;
    const qint64 max = JsonFields::kMaxExactInteger;
    f.onlyKnown({u"client", u"sender", u"recipient", u"state", u"attempts", u"firstSeen",
                 u"lastSeen", u"passAt", u"expiresAt"});
    f.string(u"client", &e.client, true, kMaxField);
    f.string(u"sender", &e.sender, true, kMaxField);
    f.string(u"recipient", &e.recipient, true, kMaxField);
    f.choice(u"state", &e.state, {u"deferred", u"passed"}, true);
    f.integer(u"attempts", &e.attempts, 0, max, true);
    f.integer(u"firstSeen", &e.firstSeen, 0, max, true);
    f.integer(u"lastSeen", &e.lastSeen, 0, max, true);
    f.integer(u"passAt", &e.passAt, 0, max, true);
    f.integer(u"expiresAt", &e.expiresAt, 0, max, true);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return e;
}

QJsonObject QueuePage::toJson() const
{
    QJsonArray list;
    for (const QueueEntry &e : entries)
        list.append(e.toJson());
    return QJsonObject{{QStringLiteral("total"), total},
                       {QStringLiteral("offset"), offset},
                       {QStringLiteral("entries"), list}};
}

std::optional<QueuePage> QueuePage::fromJson(const QJsonObject &o, ProtocolError *error)
{
    JsonFields f(o, QStringLiteral("result"));
    QueuePage p;
    QJsonArray list;
    f.onlyKnown({u"total", u"offset", u"entries"});
    f.integer(u"total", &p.total, 0, JsonFields::kMaxExactInteger, true);
    f.integer(u"offset", &p.offset, 0, JsonFields::kMaxExactInteger, true);
    f.array(u"entries", &list, true, QueueQuery::kMaxLimit);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString path = QStringLiteral("result.entries[%1]").arg(i);
        if (!list[i].isObject()) {
            *error = ProtocolError::badRequest(path, QStringLiteral("must be an object"));
            return std::nullopt;
        }
        const std::optional<QueueEntry> e = QueueEntry::fromJson(list[i].toObject(), path, error);
        if (!e)
            return std::nullopt;
        p.entries.append(*e);
    }
    return p;
}

QJsonObject TripletRef::toJson() const
{
    return QJsonObject{{QStringLiteral("client"), client},
                       {QStringLiteral("sender"), sender},
                       {QStringLiteral("recipient"), recipient}};
}

std::optional<TripletRef> TripletRef::fromJson(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    TripletRef t;
    f.onlyKnown({u"client", u"sender", u"recipient"});
    f.string(u"client", &t.client, true, kMaxField);
    f.string(u"sender", &t.sender, true, kMaxField);
    f.string(u"recipient", &t.recipient, true, kMaxField);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return t;
}

} // namespace greygate::protocol
