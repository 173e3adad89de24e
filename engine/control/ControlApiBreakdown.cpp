// SPDX-License-Identifier: GPL-3.0-or-later
// ControlApi's stats.breakdown (docs/api.md): the event log's hourly breakdown with the
// names of the policies and groups as they are now.
#include "ControlApi.h"
#include "EventJson.h"
#include "events/EventLog.h"
#include "policy/PolicySet.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/JsonFields.h"

#include <QJsonArray>
#include <QJsonObject>

namespace greygate {

using namespace protocol;

namespace {

constexpr qint64 kMaxTime = 253'402'300'799; // 9999-12-31T23:59:59Z

QString deciderName(const PolicySet &set, const HourlyBreakdown::Decider &d)
{
    switch (d.by) {
    case DecidedBy::None:
        return QStringLiteral("greylisting (no policy)");
    case DecidedBy::Policy:
        if (const Policy *p = set.policy(d.id))
            return p->narrative.isEmpty() ? QStringLiteral("policy %1").arg(d.id) : p->narrative;
        return QStringLiteral("policy %1 (deleted)").arg(d.id);
    case DecidedBy::PermittedGroup:
    case DecidedBy::BlockedGroup:
        if (const SenderGroup *g = set.group(d.id))
            return g->name;
        return QStringLiteral("group %1 (deleted)").arg(d.id);
    case DecidedBy::AutoAllow:
        return QStringLiteral("Auto Allow");
    case DecidedBy::Outbound:
        return QStringLiteral("outbound mail");
    case DecidedBy::Other:
        break;
    }
    return QStringLiteral("other");
}

} // namespace

ControlApi::Result ControlApi::breakdown(const QJsonObject &params, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    qint64 from = 0, to = 0, limit = 10;
    f.onlyKnown({u"from", u"to", u"limit"});
    f.integer(u"from", &from, 0, kMaxTime, true);
    f.integer(u"to", &to, 0, kMaxTime, true);
    if (!f.integer(u"limit", &limit, 1, 100)) {
        *error = f.error();
        return std::nullopt;
    }
    if (to <= from) {
        *error = ProtocolError::badRequest(QStringLiteral("params.to"),
                                           QStringLiteral("must be after params.from"));
        return std::nullopt;
    }
    const HourlyBreakdown::Result r = m_events.breakdown().query(from, to, int(limit));
    const PolicySet &set = m_handler.policies().set();
    QJsonArray policies;
    for (const HourlyBreakdown::DeciderCounts &d : r.deciders) {
        policies.append(QJsonObject{
            {QStringLiteral("policy"), EventJson::deciderKey(d.decider.by, d.decider.id)},
            {QStringLiteral("name"), deciderName(set, d.decider)},
            {QStringLiteral("attempts"), qint64(d.counts.attempts)},
            {QStringLiteral("deferred"), qint64(d.counts.deferred)},
            {QStringLiteral("passed"), qint64(d.counts.passed)},
            {QStringLiteral("bypassed"), qint64(d.counts.bypassed)},
            {QStringLiteral("blocked"), qint64(d.counts.blocked)},
        });
    }
    QJsonArray domains;
    for (const HourlyBreakdown::DomainCount &d : r.domains) {
        domains.append(QJsonObject{{QStringLiteral("domain"), QString::fromUtf8(d.domain)},
                                   {QStringLiteral("deferred"), qint64(d.deferred)}});
    }
    return QJsonObject{
        {QStringLiteral("from"), from},
        {QStringLiteral("to"), to},
        {QStringLiteral("policies"), policies},
        {QStringLiteral("deferredSenderDomains"), domains},
        {QStringLiteral("other"),
         QJsonObject{{QStringLiteral("deferred"), qint64(r.otherDeferred)}}},
    };
}

} // namespace greygate
