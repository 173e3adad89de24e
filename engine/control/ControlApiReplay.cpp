// SPDX-License-Identifier: GPL-3.0-or-later
// ControlApi's shadow policies, policy.replay and the policy versions (docs/api.md):
// the would-be effect of shadow policies on each attempt, a candidate policy set decided
// against the recorded attempts, and the policy table's history from the audit log.
#include "ControlApi.h"
#include "alerts/ShadowAnnotator.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policy/PolicyJson.h"
#include "policy/PolicyJsonReader.h"
#include "policy/PolicyReplay.h"
#include "policy/PolicySet.h"
#include "policy/PolicyVersions.h"
#include "policy/UnreachablePolicies.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/JsonFields.h"
#include "store/Store.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace greygate {

using namespace protocol;

namespace {

constexpr qint64 kMaxReplayHours = 48;
// The audit log is read in pages; this many entries at most for one history question.
constexpr int kAuditPage = 10'000;
constexpr qint64 kMaxAuditScanned = 500'000;

QJsonObject countsJson(const ShadowTally::Counts &c)
{
    return QJsonObject{{QStringLiteral("greylist"), qint64(c.greylist)},
                       {QStringLiteral("bypass"), qint64(c.bypass)}};
}

PolicyVersions::Table tableOf(const PolicyDocument &doc)
{
    PolicyVersions::Table table;
    for (const Policy &p : doc.policies)
        table.insert(p.id, PolicyJson::policyToJson(p, doc.groups));
    return table;
}

QJsonArray policiesJson(const PolicyVersions::Table &table)
{
    QJsonArray out;
    for (const QJsonObject &o : table)
        out.append(o);
    return out;
}

} // namespace

void ControlApi::annotateShadow(Event &e) const
{
    // The same evaluation the daemon's composition installs (engine/alerts/ShadowAnnotator).
    ShadowAnnotator::annotate(e, m_handler, m_engine.normaliser());
}

QJsonObject ControlApi::shadowCounts(const QList<Policy> &policies) const
{
    // Every shadow policy, with nothing counted yet too, and policies counted while they
    // were shadow policies.
    QSet<qint64> ids;
    for (const Policy &p : policies) {
        if (p.mode == PolicyMode::Shadow)
            ids.insert(p.id);
    }
    for (qint64 id : m_events.shadow().policies())
        ids.insert(id);
    const Seconds now = m_clock.now();
    QJsonObject out;
    for (qint64 id : std::as_const(ids)) {
        out.insert(QString::number(id),
                   QJsonObject{{QStringLiteral("lastHour"),
                                countsJson(m_events.shadow().lastHour(id, now))},
                               {QStringLiteral("total"), countsJson(m_events.shadow().total(id))}});
    }
    return out;
}

ControlApi::Result ControlApi::replay(const QJsonObject &params, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    QJsonObject candidate;
    qint64 hours = 24;
    qint64 limit = m_events.attempts().capacity();
    f.onlyKnown({u"candidate", u"hours", u"limit"});
    f.object(u"candidate", &candidate, true);
    f.integer(u"hours", &hours, 1, kMaxReplayHours);
    if (!f.integer(u"limit", &limit, 1, m_events.attempts().capacity())) {
        *error = f.error();
        return std::nullopt;
    }
    // The candidate is a policy document (policy.export's form); what it leaves out (the
    // groups, the internal configuration) is the current one.
    const PolicySet &set = m_handler.policies().set();
    const PolicyDocument current = set.document();
    if (!candidate.contains(QStringLiteral("groups"))) {
        QJsonArray groups;
        for (const SenderGroup &g : current.groups)
            groups.append(PolicyJson::groupToJson(g));
        candidate.insert(QStringLiteral("groups"), groups);
    }
    if (!candidate.contains(QStringLiteral("internal")))
        candidate.insert(QStringLiteral("internal"), PolicyJson::internalToJson(current.internal));
    if (!candidate.contains(QStringLiteral("policies"))) {
        *error = ProtocolError::badRequest(QStringLiteral("params.candidate.policies"),
                                           QStringLiteral("missing"));
        return std::nullopt;
    }
    QString why;
    std::optional<PolicyDocument> doc =
        PolicyJson::parse(QJsonDocument(candidate).toJson(QJsonDocument::Compact), &why);
    if (!doc) {
        *error = ProtocolError::badRequest(QStringLiteral("params.candidate"), why);
        return std::nullopt;
    }
    const Seconds now = m_clock.now();
    const Seconds from = now - hours * 3600;
    QList<ReplayAttempt> attempts;
    for (const AttemptRecord &r : m_events.attempts().since(from, limit)) {
        const std::optional<TripletKey> key =
            m_engine.normaliser().normalise(r.client, r.sender, r.recipient);
        if (!key)
            continue;
        attempts.append(ReplayAttempt{r.time, r.client, key->sender, key->recipient,
                                      r.outcome == AttemptOutcome::Outbound});
    }
    const PolicyIndex candidateIndex(*doc);
    const PolicyReplay::Result result =
        PolicyReplay(m_handler.policies().currentIndex(), candidateIndex, &set.autoAllow())
            .run(attempts);
    QJsonObject out = result.toJson();
    out.insert(QStringLiteral("from"), from);
    out.insert(QStringLiteral("to"), now);
    out.insert(QStringLiteral("held"), qint64(m_events.attempts().size()));
    out.insert(QStringLiteral("oldestHeld"), m_events.attempts().oldest());
    out.insert(QStringLiteral("unreachable"),
               UnreachablePolicies::toJson(UnreachablePolicies::find(doc->policies, now)));
    return out;
}

std::optional<QList<AuditEntry>> ControlApi::policyAudit(Error *error) const
{
    QList<AuditEntry> out;
    AuditQuery q;
    q.limit = kAuditPage;
    for (qint64 scanned = 0; scanned < kMaxAuditScanned; scanned += kAuditPage) {
        QString why;
        const QList<AuditRecord> page = m_store.audit(q, &why);
        if (!why.isEmpty()) {
            *error = Error{ErrorCode::Internal, QStringLiteral("cannot read the audit log: ") + why,
                           QString()};
            return std::nullopt;
        }
        for (const AuditRecord &r : page) {
            if (!r.objectId.startsWith("policy:"))
                continue;
            out.append(AuditEntry{r.revision, r.time, QString::fromUtf8(r.who),
                                  QString::fromUtf8(r.what), QString::fromUtf8(r.objectId),
                                  QJsonDocument::fromJson(r.beforeJson).object(),
                                  QJsonDocument::fromJson(r.afterJson).object()});
        }
        if (page.size() < q.limit)
            break;
        q.offset += q.limit;
    }
    // Time, then commit order: a clock step back must not mix up the undo order.
    std::stable_sort(out.begin(), out.end(), [](const AuditEntry &a, const AuditEntry &b) {
        return a.revision < b.revision;
    });
    return out;
}

ControlApi::Result ControlApi::versionCall(const QString &method, const QJsonObject &params,
                                           const ControlCaller &caller, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    qint64 version = 0, to = 0, offset = 0, limit = 100;
    if (method == u"policy.versions") {
        f.onlyKnown({u"offset", u"limit"});
        f.integer(u"offset", &offset, 0, 10'000'000);
        f.integer(u"limit", &limit, 1, 1000);
    } else if (method == u"policy.version.diff") {
        f.onlyKnown({u"from", u"to"});
        f.integer(u"from", &version, 0, JsonFields::kMaxExactInteger, true);
        f.integer(u"to", &to, 0, JsonFields::kMaxExactInteger);
    } else {
        f.onlyKnown({u"version"});
        f.integer(u"version", &version, 0, JsonFields::kMaxExactInteger, true);
    }
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    const std::optional<QList<AuditEntry>> entries = policyAudit(error);
    if (!entries)
        return std::nullopt;
    const PolicySet &set = m_handler.policies().set();
    const PolicyDocument doc = set.document();
    const PolicyVersions::Table current = tableOf(doc);
    if (method == u"policy.versions") {
        const QList<PolicyVersion> all = PolicyVersions::versions(*entries);
        QJsonArray list;
        for (qsizetype i = all.size() - 1 - offset; i >= 0 && list.size() < limit; --i)
            list.append(all[i].toJson());
        return QJsonObject{{QStringLiteral("total"), all.size()},
                           {QStringLiteral("offset"), offset},
                           {QStringLiteral("revision"), qint64(set.revision())},
                           {QStringLiteral("versions"), list}};
    }
    QString why;
    const std::optional<PolicyVersions::Table> at =
        PolicyVersions::tableAt(current, *entries, quint64(version), &why);
    if (!at) {
        *error = Error{ErrorCode::NotFound, why, QString()};
        return std::nullopt;
    }
    if (method == u"policy.version.get")
        return QJsonObject{{QStringLiteral("version"), version},
                           {QStringLiteral("policies"), policiesJson(*at)}};
    if (method == u"policy.version.diff") {
        std::optional<PolicyVersions::Table> other = current;
        if (f.has(u"to"))
            other = PolicyVersions::tableAt(current, *entries, quint64(to), &why);
        if (!other) {
            *error = Error{ErrorCode::NotFound, why, QString()};
            return std::nullopt;
        }
        QJsonObject out = PolicyVersions::diff(*at, *other);
        out.insert(QStringLiteral("from"), version);
        out.insert(QStringLiteral("to"), f.has(u"to") ? to : qint64(set.revision()));
        return out;
    }
    // policy.rollback: the version's policies read back as an import reads them, against
    // the groups as they are now.
    QList<Policy> policies;
    for (const QJsonObject &o : *at) {
        const std::optional<Policy> p = PolicyJsonReader().readPolicy(o, doc.groups, &why);
        if (!p) {
            *error = Error{ErrorCode::Conflict,
                           QStringLiteral("version %1 cannot be restored: policy %2: %3 "
                                          "(restore or recreate the group it names first)")
                               .arg(version)
                               .arg(o.value(QStringLiteral("id")).toInteger())
                               .arg(why),
                           QString()};
            return std::nullopt;
        }
        policies.append(*p);
    }
    const Seconds now = m_clock.now();
    std::optional<QJsonValue> result = change(
        [&](PolicySet &s) {
            return s.replacePolicies(policies, QStringLiteral("policy.rollback"), caller.who, now);
        },
        caller, error);
    if (!result)
        return std::nullopt;
    QJsonObject out = result->toObject();
    out.insert(QStringLiteral("restored"), version);
    return out;
}

} // namespace greygate
