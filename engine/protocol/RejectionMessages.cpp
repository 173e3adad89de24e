// SPDX-License-Identifier: GPL-3.0-or-later
#include "RejectionMessages.h"

#include "JsonFields.h"

#include <QJsonArray>

namespace greygate::protocol {

QJsonObject RejectionQuery::toJson() const
{
    QJsonObject o{{QStringLiteral("from"), from},
                  {QStringLiteral("offset"), offset},
                  {QStringLiteral("limit"), limit}};
    if (to != 0)
        o.insert(QStringLiteral("to"), to);
    for (const auto &[key, value] :
         {std::pair{QStringLiteral("client"), client}, std::pair{QStringLiteral("sender"), sender},
          std::pair{QStringLiteral("recipient"), recipient},
          std::pair{QStringLiteral("reason"), reason}}) {
        if (!value.isEmpty())
            o.insert(key, value);
    }
    return o;
}

std::optional<RejectionQuery> RejectionQuery::fromJson(const QJsonObject &params,
                                                       ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    RejectionQuery q;
    const qint64 max = JsonFields::kMaxExactInteger;
    f.onlyKnown(
        {u"from", u"to", u"client", u"sender", u"recipient", u"reason", u"offset", u"limit"});
    f.integer(u"from", &q.from, 0, max);
    f.integer(u"to", &q.to, 0, max);
    f.string(u"client", &q.client, false, 512);
    f.string(u"sender", &q.sender, false, 512);
    f.string(u"recipient", &q.recipient, false, 512);
    f.string(u"reason", &q.reason, false, 512);
    f.integer(u"offset", &q.offset, 0, 10'000'000);
    f.integer(u"limit", &q.limit, 1, kMaxLimit);
    if (f.ok() && q.to != 0 && q.to <= q.from)
        f.fail(u"to", QStringLiteral("must be after from"));
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return q;
}

QJsonObject RejectionRow::toJson() const
{
    return QJsonObject{
        {QStringLiteral("time"), time},           {QStringLiteral("reason"), reason},
        {QStringLiteral("client"), client},       {QStringLiteral("sender"), sender},
        {QStringLiteral("recipient"), recipient}, {QStringLiteral("attempts"), attempts},
        {QStringLiteral("firstSeen"), firstSeen}};
}

std::optional<RejectionRow> RejectionRow::fromJson(const QJsonObject &o, const QString &path,
                                                   ProtocolError *error)
{
    JsonFields f(o, path);
    RejectionRow r;
    const qint64 max = JsonFields::kMaxExactInteger;
    f.onlyKnown(
        {u"time", u"reason", u"client", u"sender", u"recipient", u"attempts", u"firstSeen"});
    f.integer(u"time", &r.time, 0, max, true);
    f.string(u"reason", &r.reason, true);
    f.string(u"client", &r.client, true);
    f.string(u"sender", &r.sender, true);
    f.string(u"recipient", &r.recipient, true);
    f.integer(u"attempts", &r.attempts, 0, max, true);
    f.integer(u"firstSeen", &r.firstSeen, 0, max, true);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return r;
}

QJsonObject RejectionPage::toJson() const
{
    QJsonArray list;
    for (const RejectionRow &r : rows)
        list.append(r.toJson());
    return QJsonObject{{QStringLiteral("offset"), offset},
                       {QStringLiteral("more"), more},
                       {QStringLiteral("rows"), list}};
}

std::optional<RejectionPage> RejectionPage::fromJson(const QJsonObject &o, ProtocolError *error)
{
    JsonFields f(o, QStringLiteral("result"));
    RejectionPage p;
    QJsonArray list;
    f.onlyKnown({u"offset", u"more", u"rows"});
    f.integer(u"offset", &p.offset, 0, JsonFields::kMaxExactInteger, true);
    f.boolean(u"more", &p.more, true);
    f.array(u"rows", &list, true, RejectionQuery::kMaxLimit);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString path = QStringLiteral("result.rows[%1]").arg(i);
        if (!list[i].isObject()) {
            *error = ProtocolError::badRequest(path, QStringLiteral("must be an object"));
            return std::nullopt;
        }
        const std::optional<RejectionRow> r =
            RejectionRow::fromJson(list[i].toObject(), path, error);
        if (!r)
            return std::nullopt;
        p.rows.append(*r);
    }
    return p;
}

} // namespace greygate::protocol
