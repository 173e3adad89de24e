// SPDX-License-Identifier: GPL-3.0-or-later
#include "ControlApi.h"

#include "RewritingApi.h"
#include "dns/DnsResolver.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/Hello.h"
#include "protocol/JsonFields.h"
#include "protocol/Methods.h"
#include "protocol/QueueMessages.h"
#include "protocol/RejectionMessages.h"
#include "protocol/StatsRange.h"
#include "protocol/Status.h"
#include "store/Store.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>

namespace greygate {

using namespace protocol;

namespace {

Counters countersOf(const MinuteStats::Counts &c)
{
    Counters out;
    out.attempts = c.attempts;
    out.deferred = c.deferred;
    out.passed = c.passed;
    out.bypassed = c.bypassed;
    out.blocked = c.blocked;
    out.failedToRetry = c.failedToRetry;
    return out;
}

QString text(const QByteArray &bytes)
{
    return QString::fromUtf8(bytes);
}

bool noParams(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    if (!f.onlyKnown({})) {
        *error = f.error();
        return false;
    }
    return true;
}

const QHash<QString, TripletQuery::SortKey> &sortKeys()
{
    static const QHash<QString, TripletQuery::SortKey> keys = {
        {QStringLiteral("firstSeen"), TripletQuery::SortKey::FirstSeen},
        {QStringLiteral("lastSeen"), TripletQuery::SortKey::LastSeen},
        {QStringLiteral("attempts"), TripletQuery::SortKey::Attempts},
        {QStringLiteral("client"), TripletQuery::SortKey::Client},
        {QStringLiteral("sender"), TripletQuery::SortKey::Sender},
        {QStringLiteral("recipient"), TripletQuery::SortKey::Recipient},
        {QStringLiteral("passAt"), TripletQuery::SortKey::PassAt},
        {QStringLiteral("expiresAt"), TripletQuery::SortKey::ExpiresAt},
    };
    return keys;
}

// queue.list's params as the engine's query (in memory or in the shared store).
TripletQuery tripletQueryOf(const QueueQuery &q, const TripletNormaliser &normaliser)
{
    TripletQuery t;
    t.state = q.state == u"deferred" ? TripletQuery::State::Deferred
              : q.state == u"passed" ? TripletQuery::State::Passed
                                     : TripletQuery::State::Any;
    // An address finds its network's entry; anything else is compared with the keys as they
    // are listed ("192.0.2.0/24").
    t.client = normaliser.clientKey(q.client.toUtf8()).value_or(q.client.toUtf8());
    t.sender = q.sender.toLower().toUtf8();
    t.recipient = q.recipient.toLower().toUtf8();
    t.domain = q.domain.toLower().toUtf8();
    t.sort = sortKeys().value(q.sort, TripletQuery::SortKey::LastSeen);
    t.descending = q.descending;
    t.offset = q.offset;
    t.limit = q.limit;
    return t;
}

QueueEntry entryOf(const TripletRecord &r, Seconds delay, Seconds expiresAt)
{
    QueueEntry e;
    e.client = QString::fromUtf8(r.key.client);
    e.sender = QString::fromUtf8(r.key.sender);
    e.recipient = QString::fromUtf8(r.key.recipient);
    e.state = r.state.status == TripletStatus::Passed ? QStringLiteral("passed")
                                                      : QStringLiteral("deferred");
    e.attempts = r.state.attempts;
    e.firstSeen = r.state.firstSeen;
    e.lastSeen = r.state.lastSeen;
    e.passAt = r.state.firstSeen + delay;
    e.expiresAt = expiresAt;
    return e;
}

} // namespace

ControlApi::ControlApi(GreylistEngine &engine, Store &store, GreylistPolicyHandler &handler,
                       EventLog &events, const Clock &clock, const ControlOptions &options)
    : m_engine(engine)
    , m_store(store)
    , m_handler(handler)
    , m_events(events)
    , m_clock(clock)
    , m_options(options)
    , m_started(clock.now())
{
    // Shadow policies are evaluated beside each recorded attempt (ControlApiReplay.cpp).
    m_events.setAttemptAnnotator([this](Event &attempt) { annotateShadow(attempt); });
    // Pool retries become events for the console's "Bypass for N h" (ControlApiSpf.cpp).
    m_poolRetryConnection =
        QObject::connect(&handler, &GreylistPolicyHandler::poolRetryDetected, &handler,
                         [this](const PoolRetry &retry) { recordPoolRetry(retry); });
}

ControlApi::~ControlApi()
{
    QObject::disconnect(m_poolRetryConnection);
    m_events.setAttemptAnnotator(nullptr);
}

std::optional<QJsonValue> ControlApi::call(const QString &method, const QJsonObject &params,
                                           const ControlCaller &caller, ProtocolError *error)
{
    if (method == u"hello")
        return hello(params, caller, error);
    if (method == u"ping")
        return noParams(params, error)
                   ? Result(QJsonObject{{QStringLiteral("time"), m_clock.now()}})
                   : std::nullopt;
    if (method == u"status")
        return status(params, error);
    if (method == u"stats")
        return stats(params, false, error);
    if (method == u"report")
        return stats(params, true, error);
    if (method == u"stats.breakdown")
        return breakdown(params, error);
    if (method == u"queue.list")
        return queueList(params, error);
    if (method == u"queue.release" || method == u"queue.delete" || method == u"queue.permit")
        return queueChange(method, params, caller, error);
    if (method == u"rejections.list")
        return rejections(params, error);
    if (method == u"audit.list")
        return auditList(params, error);
    if (method == u"policy.explain")
        return explain(params, error);
    if (method == u"policy.replay")
        return replay(params, error);
    if (method == u"policy.versions" || method == u"policy.version.get" ||
        method == u"policy.version.diff" || method == u"policy.rollback")
        return versionCall(method, params, caller, error);
    if (method.startsWith(u"policy."))
        return policyCall(method, params, caller, error);
    if (method.startsWith(u"group."))
        return groupCall(method, params, caller, error);
    if (method.startsWith(u"autoallow."))
        return autoAllowCall(method, params, caller, error);
    if (std::optional<Result> issue11 = releaseCall(method, params, caller, error))
        return *issue11;
    if (std::optional<Result> spf = spfCall(method, params, caller, error))
        return *spf;
    if (method.startsWith(u"rewriting.")) {
        RewritingApi rewriting(m_engine, m_store, m_events, m_clock,
                               m_handler.policies().set().revision());
        if (std::optional<Result> r = rewriting.call(method, params, caller, error))
            return *r;
    }
    *error = ProtocolError::badRequest(QStringLiteral("method"), QStringLiteral("unknown method"));
    return std::nullopt;
}

ControlApi::Result ControlApi::hello(const QJsonObject &params, const ControlCaller &caller,
                                     Error *error)
{
    if (!noParams(params, error))
        return std::nullopt;
    const GreylistConfig &c = m_engine.config();
    Hello h;
    h.apiVersion = Methods::kApiVersion;
    h.proxyName = m_options.proxyName;
    h.engineVersion = QStringLiteral(GREYGATE_VERSION);
    h.uptimeSeconds = std::max<qint64>(m_clock.now() - m_started, 0);
    h.storeKind = m_store.kind();
    if (m_options.storeHealth)
        h.storeHealth = m_options.storeHealth();
    h.role =
        caller.role == ControlRole::Admin ? QStringLiteral("admin") : QStringLiteral("readonly");
    h.config = m_options.configSummary;
    h.config.insert(QStringLiteral("delay"), c.delay);
    h.config.insert(QStringLiteral("retryWindow"), c.retryWindow);
    h.config.insert(QStringLiteral("passedLifetime"), c.passedLifetime);
    h.config.insert(QStringLiteral("autoWhitelistClients"), qint64(c.autoWhitelistClients));
    h.config.insert(QStringLiteral("lookupBySubnet"), c.lookupBySubnet);
    h.config.insert(QStringLiteral("ipv4Prefix"), c.ipv4Prefix);
    h.config.insert(QStringLiteral("ipv6Prefix"), c.ipv6Prefix);
    return h.toJson();
}

ControlApi::Result ControlApi::status(const QJsonObject &params, Error *error)
{
    if (!noParams(params, error))
        return std::nullopt;
    const PolicySet &set = m_handler.policies().set();
    const PolicyDocument doc = set.document();
    Status s;
    s.time = m_clock.now();
    s.uptimeSeconds = std::max<qint64>(s.time - m_started, 0);
    s.triplets = m_engine.tripletCount();
    s.clients = m_engine.clientCount();
    s.memoryBytes = qint64(m_engine.memoryBytes());
    s.totals = countersOf(m_events.totals());
    s.lastEventId = qint64(m_events.lastId());
    s.policyRevision = qint64(set.revision());
    s.policies = doc.policies.size();
    s.groups = doc.groups.size();
    s.autoAllow = set.autoAllow().size();
    s.connections = m_connections ? m_connections() : 0;
    if (m_options.storeHealth)
        s.storeHealth = m_options.storeHealth();
    return s.toJson();
}

ControlApi::Result ControlApi::stats(const QJsonObject &params, bool report, Error *error)
{
    QJsonObject p = params;
    if (report && !p.contains(QStringLiteral("step")) && p.value(QStringLiteral("to")).isDouble() &&
        p.value(QStringLiteral("from")).isDouble()) {
        // A report sums by day unless told otherwise.
        p.insert(QStringLiteral("step"), 1440);
    }
    const std::optional<StatsQuery> q = StatsQuery::fromJson(p, error);
    if (!q)
        return std::nullopt;
    StatsRange r;
    r.from = q->from - q->from % 60;
    r.to = q->to;
    r.stepMinutes = q->stepMinutes;
    for (const MinuteStats::Bucket &b : m_events.stats().range(q->from, q->to, q->stepMinutes)) {
        const Counters c = countersOf(b.counts);
        r.buckets.append(StatsBucket{b.time, c});
        r.total += c;
    }
    return r.toJson();
}

std::optional<TripletKey> ControlApi::tripletOf(const QJsonObject &params, Error *error) const
{
    const std::optional<TripletRef> ref = TripletRef::fromJson(params, error);
    if (!ref)
        return std::nullopt;
    TripletKey key{ref->client.toUtf8(), ref->sender.toUtf8(), ref->recipient.toUtf8()};
    // A control byte (the key separator 0x1f among them) could make a key that names another
    // triplet: refuse it, as the normaliser does for the policy server's input.
    for (const auto &[field, value] :
         {std::pair{u"client", &key.client}, std::pair{u"sender", &key.sender},
          std::pair{u"recipient", &key.recipient}}) {
        if (!TripletNormaliser::acceptableField(*value)) {
            *error = ProtocolError::badRequest(QStringLiteral("params.") + field,
                                               QStringLiteral("holds a control character"));
            return std::nullopt;
        }
    }
    return key;
}

bool ControlApi::queueHere(Error *error) const
{
    // With the shared Redis store the triplets live in Redis, not in this host's memory:
    // an empty list or "no such triplet" from memory would be wrong, so say where they are.
    if (m_store.kind() != u"redis")
        return true;
    *error = Error{ErrorCode::Conflict,
                   QStringLiteral("the greylist is in the shared Redis store: the queue cannot "
                                  "be browsed, released or deleted through the control API in "
                                  "Redis mode yet (use redis-cli on the gg:{CLIENT}:t:* keys, "
                                  "docs/redis.md)"),
                   QString()};
    return false;
}

ControlApi::Result ControlApi::queueList(const QJsonObject &params, Error *error)
{
    const std::optional<QueueQuery> q = QueueQuery::fromJson(params, error);
    if (!q || !queueHere(error))
        return std::nullopt;
    const TripletPage page = m_engine.query(tripletQueryOf(*q, m_engine.normaliser()));
    QueuePage out;
    out.total = page.total;
    out.offset = q->offset;
    for (const TripletRecord &r : page.records)
        out.entries.append(entryOf(r, m_engine.config().delay, m_engine.expiresAt(r.state)));
    return out.toJson();
}

bool ControlApi::prepareCommit(Error *error)
{
    // Changes a failed commit left in the handler's batch go first, so that the store sees
    // every change in the order memory did.
    if (m_handler.pendingChanges() > 0 && !m_handler.commit()) {
        *error = Error{ErrorCode::Internal,
                       QStringLiteral("the store is failing; nothing was changed"), QString()};
        return false;
    }
    return true;
}

bool ControlApi::commit(WriteBatch &batch, Error *error)
{
    QString why;
    if (!m_store.commit(batch, &why)) {
        *error = Error{ErrorCode::Internal,
                       QStringLiteral("the change is in memory but could not be saved: ") + why,
                       QString()};
        return false;
    }
    return true;
}

ControlApi::Result ControlApi::queueChange(const QString &method, const QJsonObject &params,
                                           const ControlCaller &caller, Error *error)
{
    const std::optional<TripletKey> key = tripletOf(params, error);
    if (!key || !prepareCommit(error))
        return std::nullopt;
    if (method == u"queue.permit")
        return permitSender(*key, caller, error);
    if (!queueHere(error))
        return std::nullopt;

    WriteBatch batch;
    if (method == u"queue.release") {
        switch (m_engine.release(*key, batch)) {
        case GreylistEngine::ReleaseResult::NotFound:
            *error = Error{ErrorCode::NotFound, QStringLiteral("no such triplet"), QString()};
            return std::nullopt;
        case GreylistEngine::ReleaseResult::AlreadyPassed:
            *error = Error{ErrorCode::Conflict, QStringLiteral("the triplet has already passed"),
                           QString()};
            return std::nullopt;
        case GreylistEngine::ReleaseResult::Released:
            break;
        }
    } else if (!m_engine.remove(*key, batch)) {
        *error = Error{ErrorCode::NotFound, QStringLiteral("no such triplet"), QString()};
        return std::nullopt;
    }
    if (!commit(batch, error))
        return std::nullopt;
    queueChanged(method, *key, caller);
    QJsonObject result{{QStringLiteral("ok"), true}};
    if (const std::optional<TripletState> s = m_engine.triplet(*key)) {
        result.insert(QStringLiteral("state"), s->status == TripletStatus::Passed
                                                   ? QStringLiteral("passed")
                                                   : QStringLiteral("deferred"));
    }
    return result;
}

bool ControlApi::callAsync(const QString &method, const QJsonObject &params,
                           const ControlCaller &caller, Reply reply)
{
    if (spfCallAsync(method, params, caller, reply))
        return true;
    if (!m_shared.list)
        return false;
    if (method == u"queue.list")
        sharedList(params, std::move(reply));
    else if (method == u"queue.release" || method == u"queue.delete" || method == u"queue.permit")
        sharedChange(method, params, caller, std::move(reply));
    else
        return false;
    return true;
}

void ControlApi::sharedList(const QJsonObject &params, Reply reply)
{
    Error error;
    const std::optional<QueueQuery> q = QueueQuery::fromJson(params, &error);
    if (!q)
        return reply(std::nullopt, error);
    if (m_shared.maxWindow > 0 && q->offset + q->limit > m_shared.maxWindow) {
        return reply(std::nullopt,
                     ProtocolError::badRequest(
                         QStringLiteral("params.offset"),
                         QStringLiteral("offset + limit at most %1 with the shared Redis store: "
                                        "narrow the filter instead of paging that deep")
                             .arg(m_shared.maxWindow)));
    }
    m_shared.list(tripletQueryOf(*q, m_engine.normaliser()),
                  [self = std::weak_ptr<ControlApi *>(m_self), offset = q->offset,
                   reply = std::move(reply)](std::optional<TripletPage> page, const QString &why) {
                      const std::shared_ptr<ControlApi *> api = self.lock();
                      if (!api)
                          return;
                      if (!page)
                          return reply(std::nullopt, Error{ErrorCode::Internal, why, QString()});
                      QueuePage out;
                      out.total = page->total;
                      out.offset = offset;
                      const Seconds delay = (*api)->m_engine.config().delay;
                      for (const TripletRecord &r : std::as_const(page->records))
                          out.entries.append(
                              entryOf(r, delay, (*api)->m_shared.expiresAt(r.state)));
                      reply(out.toJson(), Error{});
                  });
}

void ControlApi::sharedChange(const QString &method, const QJsonObject &params,
                              const ControlCaller &caller, Reply reply)
{
    Error error;
    const std::optional<TripletKey> key = tripletOf(params, &error);
    if (!key || !prepareCommit(&error))
        return reply(std::nullopt, error);
    // queue.permit: the sender joins Permitted Senders (a policy change, shared through the
    // store as any), then its triplet goes from the shared greylist.
    Result permitted;
    if (method == u"queue.permit") {
        permitted = permitSender(*key, caller, &error);
        if (!permitted)
            return reply(std::nullopt, error);
    }
    const auto &call = method == u"queue.release" ? m_shared.release : m_shared.remove;
    call(*key,
         [self = std::weak_ptr<ControlApi *>(m_self), method, key = *key, caller, permitted,
          reply = std::move(reply)](std::optional<SharedQueue::Change> result, const QString &why) {
             const std::shared_ptr<ControlApi *> api = self.lock();
             if (!api)
                 return;
             if (permitted) {
                 // The permit itself is done; a triplet left behind only ends as a rejection.
                 if (result == SharedQueue::Change::Done)
                     (*api)->queueChanged(method, key, caller);
                 return reply(permitted, Error{});
             }
             if (!result)
                 return reply(std::nullopt, Error{ErrorCode::Internal, why, QString()});
             if (*result == SharedQueue::Change::NotFound)
                 return reply(std::nullopt, Error{ErrorCode::NotFound,
                                                  QStringLiteral("no such triplet"), QString()});
             if (*result == SharedQueue::Change::AlreadyPassed)
                 return reply(std::nullopt,
                              Error{ErrorCode::Conflict,
                                    QStringLiteral("the triplet has already passed"), QString()});
             (*api)->queueChanged(method, key, caller);
             QJsonObject out{{QStringLiteral("ok"), true}};
             if (method == u"queue.release")
                 out.insert(QStringLiteral("state"), QStringLiteral("passed"));
             reply(out, Error{});
         });
}

void ControlApi::queueChanged(const QString &method, const TripletKey &key,
                              const ControlCaller &caller)
{
    Event e;
    e.type = EventType::QueueChange;
    e.time = m_clock.now();
    e.client = key.client;
    e.sender = key.sender;
    e.recipient = key.recipient;
    e.action = method;
    e.who = caller.who;
    m_events.append(std::move(e));
}

ControlApi::Result ControlApi::rejections(const QJsonObject &params, Error *error)
{
    const std::optional<protocol::RejectionQuery> q =
        protocol::RejectionQuery::fromJson(params, error);
    if (!q)
        return std::nullopt;
    const auto matches = [&](const RejectionEntry &r) {
        const auto has = [](const QByteArray &field, const QString &filter) {
            return filter.isEmpty() ||
                   QString::fromUtf8(field).contains(filter, Qt::CaseInsensitive);
        };
        return has(r.key.client, q->client) && has(r.key.sender, q->sender) &&
               has(r.key.recipient, q->recipient) && has(r.reason, q->reason);
    };
    // The store filters by time only: the other filters are applied here, over a bounded
    // number of rows read in chunks.
    constexpr int kChunk = 1000;
    constexpr qint64 kMaxScanned = 200'000;
    RejectionPage page;
    page.offset = q->offset;
    qint64 skipped = 0;
    qint64 scanned = 0;
    ::greygate::RejectionQuery sq;
    sq.from = q->from;
    sq.to = q->to;
    sq.offset = q->filtered() ? 0 : int(q->offset);
    while (scanned < kMaxScanned) {
        sq.limit = q->filtered() ? kChunk : int(q->limit + 1);
        QString why;
        const QList<RejectionEntry> rows = m_store.rejections(sq, &why);
        if (!why.isEmpty()) {
            *error = Error{ErrorCode::Internal, QStringLiteral("cannot read rejections: ") + why,
                           QString()};
            return std::nullopt;
        }
        for (const RejectionEntry &r : rows) {
            if (!matches(r))
                continue;
            if (q->filtered() && skipped < q->offset) {
                ++skipped;
                continue;
            }
            if (page.rows.size() == q->limit) {
                page.more = true;
                break;
            }
            RejectionRow row;
            row.time = r.time;
            row.reason = text(r.reason);
            row.client = text(r.key.client);
            row.sender = text(r.key.sender);
            row.recipient = text(r.key.recipient);
            row.attempts = r.attempts;
            row.firstSeen = r.firstSeen;
            page.rows.append(row);
        }
        scanned += rows.size();
        if (page.more || rows.size() < sq.limit || !q->filtered())
            break;
        sq.offset += int(rows.size());
    }
    return page.toJson();
}

ControlApi::Result ControlApi::auditList(const QJsonObject &params, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    AuditQuery q;
    QString objectId;
    qint64 offset = 0, limit = 100;
    f.onlyKnown({u"from", u"to", u"objectId", u"offset", u"limit"});
    f.integer(u"from", &q.from, 0, JsonFields::kMaxExactInteger);
    f.integer(u"to", &q.to, 0, JsonFields::kMaxExactInteger);
    f.string(u"objectId", &objectId, false, 1024);
    f.integer(u"offset", &offset, 0, 10'000'000);
    f.integer(u"limit", &limit, 1, 1000);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    q.objectId = objectId.toUtf8();
    q.offset = int(offset);
    q.limit = int(limit);
    QString why;
    const QList<AuditRecord> records = m_store.audit(q, &why);
    if (!why.isEmpty()) {
        *error = Error{ErrorCode::Internal, QStringLiteral("cannot read the audit log: ") + why,
                       QString()};
        return std::nullopt;
    }
    QJsonArray list;
    for (const AuditRecord &r : records) {
        list.append(
            QJsonObject{{QStringLiteral("revision"), qint64(r.revision)},
                        {QStringLiteral("time"), r.time},
                        {QStringLiteral("who"), text(r.who)},
                        {QStringLiteral("what"), text(r.what)},
                        {QStringLiteral("objectId"), text(r.objectId)},
                        {QStringLiteral("before"), QJsonDocument::fromJson(r.beforeJson).object()},
                        {QStringLiteral("after"), QJsonDocument::fromJson(r.afterJson).object()}});
    }
    return QJsonObject{{QStringLiteral("offset"), offset}, {QStringLiteral("entries"), list}};
}

} // namespace greygate
