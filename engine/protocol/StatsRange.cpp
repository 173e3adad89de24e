// SPDX-License-Identifier: GPL-3.0-or-later
#include "StatsRange.h"

#include "JsonFields.h"

#include <QJsonArray>

namespace greygate::protocol {

QJsonObject StatsQuery::toJson() const
{
    return QJsonObject{{QStringLiteral("from"), from},
                       {QStringLiteral("to"), to},
                       {QStringLiteral("step"), stepMinutes}};
}

std::optional<StatsQuery> StatsQuery::fromJson(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    StatsQuery q;
    f.onlyKnown({u"from", u"to", u"step"});
    f.integer(u"from", &q.from, 0, JsonFields::kMaxExactInteger, true);
    f.integer(u"to", &q.to, 0, JsonFields::kMaxExactInteger, true);
    f.integer(u"step", &q.stepMinutes, 1, 525'600);
    if (f.ok() && q.to <= q.from)
        f.fail(u"to", QStringLiteral("must be after from"));
    if (f.ok() && (q.to - q.from) / (60 * q.stepMinutes) > kMaxBuckets)
        f.fail(u"step", QStringLiteral("the range holds more than %1 buckets").arg(kMaxBuckets));
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    return q;
}

QJsonObject StatsRange::toJson() const
{
    QJsonArray list;
    for (const StatsBucket &b : buckets) {
        QJsonObject o = b.counters.toJson();
        o.insert(QStringLiteral("time"), b.time);
        list.append(o);
    }
    return QJsonObject{{QStringLiteral("from"), from},
                       {QStringLiteral("to"), to},
                       {QStringLiteral("step"), stepMinutes},
                       {QStringLiteral("buckets"), list},
                       {QStringLiteral("total"), total.toJson()}};
}

std::optional<StatsRange> StatsRange::fromJson(const QJsonObject &o, ProtocolError *error)
{
    JsonFields f(o, QStringLiteral("result"));
    StatsRange r;
    QJsonArray list;
    QJsonObject total;
    const qint64 max = JsonFields::kMaxExactInteger;
    f.onlyKnown({u"from", u"to", u"step", u"buckets", u"total"});
    f.integer(u"from", &r.from, 0, max, true);
    f.integer(u"to", &r.to, 0, max, true);
    f.integer(u"step", &r.stepMinutes, 1, max, true);
    f.array(u"buckets", &list, true, StatsQuery::kMaxBuckets);
    f.object(u"total", &total, true);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString path = QStringLiteral("result.buckets[%1]").arg(i);
        if (!list[i].isObject()) {
            *error = ProtocolError::badRequest(path, QStringLiteral("must be an object"));
            return std::nullopt;
        }
        QJsonObject b = list[i].toObject();
        StatsBucket bucket;
        JsonFields bf(b, path);
        bf.integer(u"time", &bucket.time, 0, max, true);
        if (!bf.ok()) {
            *error = bf.error();
            return std::nullopt;
        }
        b.remove(QStringLiteral("time"));
        const std::optional<Counters> c = Counters::fromJson(b, path, error);
        if (!c)
            return std::nullopt;
        bucket.counters = *c;
        r.buckets.append(bucket);
    }
    const std::optional<Counters> t =
        Counters::fromJson(total, QStringLiteral("result.total"), error);
    if (!t)
        return std::nullopt;
    r.total = *t;
    return r;
}

} // namespace greygate::protocol
