// SPDX-License-Identifier: GPL-3.0-or-later
#include "Status.h"

#include "JsonFields.h"

namespace greygate::protocol {

QJsonObject Status::toJson() const
{
    QJsonObject o{{QStringLiteral("time"), time},
                  {QStringLiteral("uptimeSeconds"), uptimeSeconds},
                  {QStringLiteral("triplets"), triplets},
                  {QStringLiteral("clients"), clients},
                  {QStringLiteral("memoryBytes"), memoryBytes},
                  {QStringLiteral("totals"), totals.toJson()},
                  {QStringLiteral("lastEventId"), lastEventId},
                  {QStringLiteral("policyRevision"), policyRevision},
                  {QStringLiteral("policies"), policies},
                  {QStringLiteral("groups"), groups},
                  {QStringLiteral("autoAllow"), autoAllow},
                  {QStringLiteral("connections"), connections}};
    if (!storeHealth.isEmpty())
        o.insert(QStringLiteral("storeHealth"), storeHealth);
    return o;
}

std::optional<Status> Status::fromJson(const QJsonObject &o, ProtocolError *error)
{
    JsonFields f(o, QStringLiteral("result"));
    Status s;
    const qint64 max = JsonFields::kMaxExactInteger;
    QJsonObject totals;
    f.onlyKnown({u"time", u"uptimeSeconds", u"triplets", u"clients", u"memoryBytes", u"totals",
                 u"lastEventId", u"policyRevision", u"policies", u"groups", u"autoAllow",
                 u"connections", u"storeHealth"});
    f.integer(u"time", &s.time, 0, max, true);
    f.integer(u"uptimeSeconds", &s.uptimeSeconds, 0, max, true);
    f.integer(u"triplets", &s.triplets, 0, max, true);
    f.integer(u"clients", &s.clients, 0, max, true);
    f.integer(u"memoryBytes", &s.memoryBytes, 0, max, true);
    f.object(u"totals", &totals, true);
    f.integer(u"lastEventId", &s.lastEventId, 0, max, true);
    f.integer(u"policyRevision", &s.policyRevision, 0, max, true);
    f.integer(u"policies", &s.policies, 0, max, true);
    f.integer(u"groups", &s.groups, 0, max, true);
    f.integer(u"autoAllow", &s.autoAllow, 0, max, true);
    f.integer(u"connections", &s.connections, 0, max, true);
    f.choice(u"storeHealth", &s.storeHealth, {u"ok", u"failing", u"up", u"connecting", u"down"});
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    const std::optional<Counters> c =
        Counters::fromJson(totals, QStringLiteral("result.totals"), error);
    if (!c)
        return std::nullopt;
    s.totals = *c;
    return s;
}

} // namespace greygate::protocol
