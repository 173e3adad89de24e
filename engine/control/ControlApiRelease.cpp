// SPDX-License-Identifier: GPL-3.0-or-later
// ControlApi's issue 11 methods (docs/api.md): timed releases (release.*), delay analytics
// (delay.stats), the failed-to-retry triage (triage.list) and alerts (alerts.list). Releases
// are bypass policies with an end (TimedRelease), so they go through change() like every
// policy change: applied, audited, committed, replicated.
#include "ControlApi.h"
#include "alerts/DaemonWatch.h"
#include "alerts/TriageFacts.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policy/IpAddress.h"
#include "policy/PolicySet.h"
#include "policy/TimedRelease.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/JsonFields.h"
#include "store/Store.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace greygate {

using namespace protocol;

namespace {

constexpr QLatin1StringView kFailedToRetry("Sender Failed to Retry");

QJsonObject releaseJson(const TimedRelease &r, Seconds now)
{
    QJsonObject o{{QStringLiteral("id"), r.policyId},
                  {QStringLiteral("version"), qint64(r.version)},
                  {QStringLiteral("kind"), TimedRelease::kindName(r.kind)},
                  {QStringLiteral("reason"), r.reason},
                  {QStringLiteral("who"), r.who},
                  {QStringLiteral("createdAt"), r.createdAt},
                  {QStringLiteral("until"), r.until},
                  {QStringLiteral("remaining"), std::max<Seconds>(r.until - now, 0)}};
    for (const auto &[key, value] :
         {std::pair{u"client", &r.client}, std::pair{u"sender", &r.sender},
          std::pair{u"domain", &r.domain}, std::pair{u"recipient", &r.recipient}}) {
        if (!value->isEmpty())
            o.insert(key, *value);
    }
    return o;
}

QJsonObject summaryJson(const DelayHistogram::Summary &s)
{
    return QJsonObject{{QStringLiteral("count"), qint64(s.count)},
                       {QStringLiteral("p50"), s.p50},
                       {QStringLiteral("p95"), s.p95},
                       {QStringLiteral("max"), s.max},
                       {QStringLiteral("mean"), s.mean}};
}

// The weights of triage.list's factors: known correspondent 40, retried elsewhere 35,
// retried too early 15, reverse DNS like an MTA 25, SPF pass 25.
constexpr int kMaxTriageScore = 40 + 35 + 15 + 25 + 25;

using Factor = std::pair<std::optional<bool>, QString>;

const QString kNoAddress = QStringLiteral("the client's address was not seen since the daemon "
                                          "started (the store keeps its network)");

Factor reverseDnsFactor(const TriageFacts *facts, const std::optional<QByteArray> &address)
{
    if (!facts)
        return {std::nullopt, QStringLiteral("not known (delay analytics not running)")};
    if (!address)
        return {std::nullopt, kNoAddress};
    const QByteArray &client = *address;
    const std::optional<TriageFacts::Name> name = facts->name(client);
    if (!name) {
        if (facts->namePending(client))
            return {std::nullopt, QStringLiteral("looking up the client's name")};
        return {std::nullopt, facts->canLookUpNames()
                                  ? QStringLiteral("the client's name is not known yet")
                                  : QStringLiteral("no name from Postfix, and no DNS server to "
                                                   "ask: give greygated --dns-server")};
    }
    using Source = TriageFacts::Name::Source;
    const QString shown = QString::fromUtf8(name->name);
    switch (name->source) {
    case Source::None:
        return {false, QStringLiteral("no PTR record for the client")};
    case Source::PtrOnly:
        return {false, QStringLiteral("PTR %1 does not resolve back to the client").arg(shown)};
    case Source::Postfix:
    case Source::Ptr:
        break;
    }
    QString why;
    const bool mta = TriageFacts::looksLikeMta(name->name, client, &why);
    return {mta, why + (name->source == Source::Postfix ? QStringLiteral(" (Postfix client_name)")
                                                        : QStringLiteral(" (PTR, confirmed)"))};
}

Factor spfFactor(const TriageFacts *facts, const std::optional<QByteArray> &address,
                 const QByteArray &sender)
{
    if (!facts)
        return {std::nullopt, QStringLiteral("not known (delay analytics not running)")};
    if (sender.isEmpty())
        return {false, QStringLiteral("the null sender has no SPF domain")};
    if (!address)
        return {std::nullopt, kNoAddress};
    const QByteArray &client = *address;
    if (const std::optional<TriageFacts::Spf> spf = facts->spf(client, sender)) {
        return {spf->result == SpfResult::Pass, QStringLiteral("SPF %1: %2")
                                                    .arg(QLatin1String(spfResultName(spf->result)),
                                                         QString::fromUtf8(spf->detail))};
    }
    if (facts->spfPending(client, sender))
        return {std::nullopt, QStringLiteral("checking SPF")};
    return {std::nullopt, facts->canCheckSpf()
                              ? QStringLiteral("SPF not checked yet")
                              : QStringLiteral("no DNS server to check SPF with: give greygated "
                                               "--dns-server")};
}

} // namespace

std::optional<ControlApi::Result> ControlApi::releaseCall(const QString &method,
                                                          const QJsonObject &params,
                                                          const ControlCaller &caller, Error *error)
{
    if (method == u"release.create")
        return releaseCreate(params, caller, error);
    if (method == u"release.list" || method == u"release.revoke")
        return releaseListOrRevoke(method, params, caller, error);
    if (method == u"release.audit")
        return releaseAudit(params, error);
    if (method == u"delay.stats")
        return delayStats(params, error);
    if (method == u"triage.list")
        return triageList(params, error);
    if (method == u"alerts.list") {
        JsonFields f(params, QStringLiteral("params"));
        if (!f.onlyKnown({})) {
            *error = f.error();
            return Result();
        }
        QJsonArray active, recent;
        if (DaemonWatch *w = m_options.watch) {
            for (const Alert &a : w->alerts().active())
                active.append(a.toJson());
            for (const Alert &a : w->alerts().recent())
                recent.append(a.toJson());
        }
        return Result(QJsonObject{{QStringLiteral("active"), active},
                                  {QStringLiteral("recent"), recent},
                                  {QStringLiteral("enabled"), m_options.watch != nullptr}});
    }
    return std::nullopt;
}

ControlApi::Result ControlApi::releaseCreate(const QJsonObject &params, const ControlCaller &caller,
                                             Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    QString kind;
    TimedRelease r;
    qint64 duration = 0, until = 0;
    f.onlyKnown(
        {u"kind", u"client", u"sender", u"domain", u"recipient", u"for", u"until", u"reason"});
    f.choice(u"kind", &kind, {u"triplet", u"sender", u"domain", u"expect"}, true);
    f.string(u"client", &r.client, false, 64);
    f.string(u"sender", &r.sender, false, 320);
    f.string(u"domain", &r.domain, false, 255);
    f.string(u"recipient", &r.recipient, false, 320);
    f.string(u"reason", &r.reason, true, TimedRelease::kMaxReason);
    f.integer(u"for", &duration, 60, TimedRelease::kMaxDuration);
    f.integer(u"until", &until, 0, JsonFields::kMaxExactInteger);
    if (f.ok() && (duration == 0) == (until == 0))
        f.fail(u"for", QStringLiteral("give either for (seconds) or until (epoch seconds)"));
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    const Seconds now = m_clock.now();
    r.kind = *TimedRelease::kindFromName(kind);
    r.until = duration ? now + duration : until;
    QString why;
    if (!r.toPolicy(now, &why)) {
        *error = ProtocolError::badRequest(why.section(u':', 0, 0), why.section(u':', 1).trimmed());
        return std::nullopt;
    }
    Result out = change([&](PolicySet &s) { return TimedRelease::create(s, r, caller.who, now); },
                        caller, error);
    if (!out)
        return std::nullopt;
    QJsonObject result = out->toObject();
    result.insert(QStringLiteral("until"), r.until);
    // A released triplet leaves the queue: its sender now bypasses greylisting, so its window
    // would only close as a false "Sender Failed to Retry"; once the release ends its next
    // attempt is greylisted afresh.
    if (r.kind == TimedRelease::Kind::Triplet && m_store.kind() != u"redis") {
        const TripletKey key{r.client.toUtf8(), r.sender.toLower().toUtf8(),
                             r.recipient.toLower().toUtf8()};
        WriteBatch batch;
        if (m_engine.remove(key, batch) && commit(batch, error))
            result.insert(QStringLiteral("tripletRemoved"), true);
    }
    return result;
}

ControlApi::Result ControlApi::releaseListOrRevoke(const QString &method, const QJsonObject &params,
                                                   const ControlCaller &caller, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    const Seconds now = m_clock.now();
    if (method == u"release.revoke") {
        qint64 id = 0;
        f.onlyKnown({u"id"});
        if (!f.integer(u"id", &id, 1, JsonFields::kMaxExactInteger, true)) {
            *error = f.error();
            return std::nullopt;
        }
        return change([&](PolicySet &s) { return TimedRelease::revoke(s, id, caller.who, now); },
                      caller, error);
    }
    bool all = false;
    f.onlyKnown({u"all"});
    if (!f.boolean(u"all", &all)) {
        *error = f.error();
        return std::nullopt;
    }
    QJsonArray list;
    for (const TimedRelease &r : TimedRelease::list(m_handler.policies().set(), now, !all))
        list.append(releaseJson(r, now));
    return QJsonObject{{QStringLiteral("time"), now}, {QStringLiteral("releases"), list}};
}

ControlApi::Result ControlApi::releaseAudit(const QJsonObject &params, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    qint64 from = 0, to = 0, limit = 100;
    f.onlyKnown({u"from", u"to", u"limit"});
    f.integer(u"from", &from, 0, JsonFields::kMaxExactInteger);
    f.integer(u"to", &to, 0, JsonFields::kMaxExactInteger);
    f.integer(u"limit", &limit, 1, 1000);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    // The store filters by time and object; releases are policies, so the audit is read in
    // chunks and the release.* entries kept (bounded: 100,000 entries read at most).
    QJsonArray entries;
    AuditQuery q;
    q.from = from;
    q.to = to;
    q.limit = 1000;
    for (int scanned = 0; scanned < 100'000 && entries.size() < limit; scanned += q.limit) {
        QString why;
        const QList<AuditRecord> records = m_store.audit(q, &why);
        if (!why.isEmpty()) {
            *error = Error{ErrorCode::Internal, QStringLiteral("cannot read the audit log: ") + why,
                           QString()};
            return std::nullopt;
        }
        for (const AuditRecord &r : records) {
            if (!r.what.startsWith("release.") || entries.size() >= limit)
                continue;
            const QJsonObject before = QJsonDocument::fromJson(r.beforeJson).object();
            const QJsonObject after = QJsonDocument::fromJson(r.afterJson).object();
            const QJsonObject policy = after.isEmpty() ? before : after;
            const QString narrative = policy.value(QStringLiteral("narrative")).toString();
            entries.append(QJsonObject{
                {QStringLiteral("time"), r.time},
                {QStringLiteral("who"), QString::fromUtf8(r.who)},
                {QStringLiteral("what"), QString::fromUtf8(r.what)},
                {QStringLiteral("objectId"), QString::fromUtf8(r.objectId)},
                {QStringLiteral("reason"), narrative.section(u':', 1).trimmed()},
                {QStringLiteral("kind"), narrative.section(u':', 0, 0).section(u' ', 1)},
                {QStringLiteral("until"), policy.value(QStringLiteral("end"))},
                {QStringLiteral("policy"), policy}});
        }
        if (records.size() < q.limit)
            break;
        q.offset += q.limit;
    }
    return QJsonObject{{QStringLiteral("entries"), entries}};
}

ControlApi::Result ControlApi::delayStats(const QJsonObject &params, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    qint64 from = 0, to = 0, limit = 10;
    QString step = QStringLiteral("hour");
    f.onlyKnown({u"from", u"to", u"step", u"limit"});
    f.integer(u"from", &from, 0, JsonFields::kMaxExactInteger, true);
    f.integer(u"to", &to, 0, JsonFields::kMaxExactInteger, true);
    f.choice(u"step", &step, {u"hour", u"day", u"week"});
    f.integer(u"limit", &limit, 1, 100);
    if (f.ok() && to <= from)
        f.fail(u"to", QStringLiteral("must be after from"));
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    if (!m_options.watch) {
        *error = Error{ErrorCode::Conflict,
                       QStringLiteral("delay analytics are not running in this daemon"), QString()};
        return std::nullopt;
    }
    const Seconds stepSeconds = step == u"week" ? 7 * 86400 : step == u"day" ? 86400 : 3600;
    const DelayStats::Result r = m_options.watch->delays().query(from, to, stepSeconds, int(limit));
    QJsonArray series, domains, policies;
    for (const DelayStats::Point &p : r.series) {
        QJsonObject o = summaryJson(p.summary);
        o.insert(QStringLiteral("time"), p.time);
        series.append(o);
    }
    for (const DelayStats::Domain &d : r.domains) {
        QJsonObject o = summaryJson(d.summary);
        o.insert(QStringLiteral("domain"), QString::fromUtf8(d.domain));
        domains.append(o);
    }
    const PolicySet &set = m_handler.policies().set();
    for (const DelayStats::PolicyDelay &p : r.policies) {
        QJsonObject o = summaryJson(p.summary);
        QString key, name;
        if (p.policy == DelayStats::kNoPolicy) {
            key = QStringLiteral("none");
            name = QStringLiteral("greylisting (no policy)");
        } else if (p.policy == DelayStats::kOtherPolicy) {
            key = name = QStringLiteral("other");
        } else {
            key = QString::number(p.policy);
            const Policy *policy = set.policy(p.policy);
            name = policy ? policy->narrative : QStringLiteral("policy %1 (deleted)").arg(p.policy);
        }
        o.insert(QStringLiteral("policy"), key);
        o.insert(QStringLiteral("name"), name);
        policies.append(o);
    }
    return QJsonObject{
        {QStringLiteral("from"), from},        {QStringLiteral("to"), to},
        {QStringLiteral("step"), step},        {QStringLiteral("total"), summaryJson(r.total)},
        {QStringLiteral("series"), series},    {QStringLiteral("domains"), domains},
        {QStringLiteral("policies"), policies}};
}

ControlApi::Result ControlApi::triageList(const QJsonObject &params, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    const Seconds now = m_clock.now();
    qint64 from = now - 7 * 86400, to = 0, limit = 200;
    f.onlyKnown({u"from", u"to", u"limit"});
    f.integer(u"from", &from, 0, JsonFields::kMaxExactInteger);
    f.integer(u"to", &to, 0, JsonFields::kMaxExactInteger);
    f.integer(u"limit", &limit, 1, 1000);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    ::greygate::RejectionQuery q;
    q.from = from;
    q.to = to;
    q.limit = 5000; // the newest failures are what an admin triages: bounded read
    QString why;
    const QList<RejectionEntry> rows = m_store.rejections(q, &why);
    if (!why.isEmpty()) {
        *error =
            Error{ErrorCode::Internal, QStringLiteral("cannot read rejections: ") + why, QString()};
        return std::nullopt;
    }
    const PolicySet &set = m_handler.policies().set();
    struct Scored
    {
        int score = 0;
        QJsonObject row;
    };
    QList<Scored> scored;
    for (const RejectionEntry &r : rows) {
        if (r.reason != QByteArrayView(kFailedToRetry.data(), kFailedToRetry.size()))
            continue;
        QJsonArray factors;
        int score = 0;
        const auto factor = [&](const char *name, int weight, std::optional<bool> value,
                                const QString &detail) {
            if (value.value_or(false))
                score += weight;
            factors.append(
                QJsonObject{{QStringLiteral("name"), QLatin1String(name)},
                            {QStringLiteral("weight"), weight},
                            {QStringLiteral("value"), value ? QJsonValue(*value) : QJsonValue()},
                            {QStringLiteral("detail"), detail}});
        };
        // A known correspondent: someone inside wrote to this sender (Auto Allow).
        const AutoAllowEntry *known = set.autoAllow().find(r.key.sender, r.key.recipient, now);
        if (!known)
            known = set.autoAllow().find(r.key.sender, QByteArrayView("*"), now);
        factor("knownCorrespondent", 40, known != nullptr,
               known ? QStringLiteral("in Auto Allow: %1 wrote to them").arg(known->internalAddress)
                     : QStringLiteral("not in Auto Allow"));
        // The same sender got through from another network: a pool that retried elsewhere.
        std::optional<bool> elsewhere;
        QString elsewhereDetail = QStringLiteral("not known (delay analytics not running)");
        if (m_options.watch) {
            const std::optional<DaemonWatch::Pass> pass = m_options.watch->lastPass(r.key.sender);
            const std::optional<Cidr> network = Cidr::parse(QByteArrayView(r.key.client));
            const std::optional<IpAddress> ip =
                pass ? IpAddress::parse(pass->client) : std::nullopt;
            elsewhere = pass && ip && network && !network->contains(*ip);
            elsewhereDetail =
                *elsewhere ? QStringLiteral("accepted from %1").arg(QString::fromUtf8(pass->client))
                : pass     ? QStringLiteral("accepted only from the same network")
                           : QStringLiteral("never accepted since the daemon started");
        }
        factor("retriedElsewhere", 35, elsewhere, elsewhereDetail);
        // Retried, but too early and never again: a real MTA's queue, not a one-shot bot.
        factor("retriedTooEarly", 15, r.attempts >= 2,
               QStringLiteral("%1 attempt(s) before the window closed").arg(r.attempts));
        // The client's name (Postfix's client_name, or a forward-confirmed PTR) and the
        // sender's SPF from that client: looked up asynchronously (TriageFacts), so an entry
        // seen for the first time says "looking up" and has them on the next refresh.
        TriageFacts *facts = m_options.watch ? &m_options.watch->triage() : nullptr;
        const std::optional<QByteArray> address =
            facts ? facts->addressOf(r.key.client, r.key.sender, r.key.recipient) : std::nullopt;
        if (address)
            facts->request(*address, r.key.sender);
        const auto [mta, mtaDetail] = reverseDnsFactor(facts, address);
        factor("mtaReverseDns", 25, mta, mtaDetail);
        const auto [spfPass, spfDetail] = spfFactor(facts, address, r.key.sender);
        factor("spfPass", 25, spfPass, spfDetail);
        scored.append(Scored{
            score, QJsonObject{{QStringLiteral("time"), r.time},
                               {QStringLiteral("client"), QString::fromUtf8(r.key.client)},
                               {QStringLiteral("address"),
                                address ? QJsonValue(QString::fromUtf8(*address)) : QJsonValue()},
                               {QStringLiteral("sender"), QString::fromUtf8(r.key.sender)},
                               {QStringLiteral("recipient"), QString::fromUtf8(r.key.recipient)},
                               {QStringLiteral("attempts"), qint64(r.attempts)},
                               {QStringLiteral("firstSeen"), r.firstSeen},
                               {QStringLiteral("score"), score},
                               {QStringLiteral("factors"), factors}}});
    }
    std::stable_sort(scored.begin(), scored.end(), [](const Scored &a, const Scored &b) {
        return a.score != b.score ? a.score > b.score
                                  : a.row.value(QStringLiteral("time")).toInteger() >
                                        b.row.value(QStringLiteral("time")).toInteger();
    });
    QJsonArray out;
    for (qsizetype i = 0; i < scored.size() && i < limit; ++i)
        out.append(scored[i].row);
    return QJsonObject{{QStringLiteral("entries"), out},
                       {QStringLiteral("total"), scored.size()},
                       {QStringLiteral("maxScore"), kMaxTriageScore}};
}

} // namespace greygate
