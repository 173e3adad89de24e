// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisStore.h"

#include "RedisConnection.h"
#include "RedisDecider.h"
#include "RedisKeys.h"
#include "RedisLog.h"
#include "RedisScripts.h"
#include "util/LogLine.h"

#include <QDateTime>
#include <QRandomGenerator>
#include <algorithm>
#include <hiredis/hiredis.h>

namespace greygate {

namespace {

using Sync = RedisSyncClient;

QByteArray num(qint64 n)
{
    return QByteArray::number(n);
}

// A stream entry's fields as a map-like lookup (XRANGE gives [id, [f, v, f, v...]]).
QByteArray field(const redisReply *fields, QByteArrayView name)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        if (Sync::string(fields->element[i]) == name)
            return Sync::string(fields->element[i + 1]);
    }
    return {};
}

QByteArrayList xadd(const QByteArray &stream)
{
    return {QByteArrayLiteral("XADD"),   stream,
            QByteArrayLiteral("MAXLEN"), QByteArrayLiteral("~"),
            num(RedisKeys::kLogCap),     QByteArrayLiteral("*")};
}

// A log stream's entries that `take` keeps (it fills one from an entry's fields and says
// whether the query wants it), ordered by time, then by the order written (a stable sort
// keeps the stream's order), then the query's page.
template <typename Entry, typename Query, typename Take>
QList<Entry> readLog(Sync &sync, const QByteArray &stream, const Query &query, QString *error,
                     Take take)
{
    QList<Entry> all;
    const Sync::Reply reply = sync.command(
        {QByteArrayLiteral("XRANGE"), stream, QByteArrayLiteral("-"), QByteArrayLiteral("+")},
        error);
    if (!reply)
        return all;
    for (size_t i = 0; i < reply->elements; ++i) {
        const redisReply *entry = reply->element[i];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
            continue;
        Entry e;
        if (take(entry->element[1], &e))
            all.append(std::move(e));
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const Entry &a, const Entry &b) { return a.time < b.time; });
    return all.mid(std::max(query.offset, 0), std::max(query.limit, 0));
}

} // namespace

RedisStore::RedisStore(const RedisOptions &options, const GreylistConfig &timing)
    : m_options(options)
    , m_timing(timing)
    , m_proxyId(QByteArray::number(QRandomGenerator::global()->generate64(), 16))
{}

RedisStore::~RedisStore() = default;

bool RedisStore::ensureConnected(QString *error)
{
    return m_sync.isConnected() || m_sync.connect(m_options, error);
}

bool RedisStore::open(QString *error)
{
    if (!m_sync.connect(m_options, error))
        return false;
    // A Cluster node would answer MOVED for most keys, and one decision's keys (the triplet
    // and gg:due) live on different slots: refused here, with the reason, rather than
    // failing decision by decision (docs/redis.md).
    const Sync::Reply info =
        m_sync.command({QByteArrayLiteral("INFO"), QByteArrayLiteral("cluster")}, error);
    if (!info)
        return false;
    if (Sync::string(info.get()).contains("cluster_enabled:1")) {
        *error = QStringLiteral("this Redis is a Cluster node, which greygated does not support "
                                "(a decision's keys span several slots, and MOVED redirections "
                                "are not followed): use one primary, redis:// or "
                                "redis-sentinel:// (docs/redis.md)");
        m_sync.close();
        return false;
    }
    // Loaded ahead, so the first decisions find them cached (EVALSHA); a later NOSCRIPT
    // (Redis restarted) is handled where the scripts run.
    for (const QByteArray *script : {&RedisScripts::decide(), &RedisScripts::expire(),
                                     &RedisScripts::due(), &RedisScripts::maxRevision()}) {
        if (!m_sync.command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), *script},
                            error))
            return false;
    }
    return true;
}

void RedisStore::close()
{
    m_sync.close();
}

bool RedisStore::load(const std::function<void(TripletRecord &&)> &onTriplet,
                      const std::function<void(ClientRecord &&)> &onClient, QString *error)
{
    if (!ensureConnected(error))
        return false;
    const bool triplets = m_sync.scan(
        RedisKeys::tripletPattern(),
        [&](const QByteArrayList &keys) {
            QList<QByteArrayList> commands;
            for (const QByteArray &k : keys)
                commands.append({QByteArrayLiteral("HMGET"), k, QByteArrayLiteral("status"),
                                 QByteArrayLiteral("first"), QByteArrayLiteral("last"),
                                 QByteArrayLiteral("passed"), QByteArrayLiteral("attempts")});
            QString e;
            return m_sync.pipeline(
                commands,
                [&](qsizetype i, const redisReply *r) {
                    const std::optional<TripletKey> key = RedisKeys::tripletFromKey(keys[i]);
                    if (!key || r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
                        r->element[0]->type != REDIS_REPLY_STRING)
                        return; // gone meanwhile (TTL) or not ours
                    TripletRecord record;
                    record.key = *key;
                    record.state.status = Sync::integer(r->element[0]) == 1
                                              ? TripletStatus::Passed
                                              : TripletStatus::Deferred;
                    record.state.firstSeen = Sync::integer(r->element[1]);
                    record.state.lastSeen = Sync::integer(r->element[2]);
                    record.state.passedAt = Sync::integer(r->element[3]);
                    record.state.attempts = quint32(Sync::integer(r->element[4]));
                    onTriplet(std::move(record));
                },
                &e);
        },
        error);
    if (!triplets)
        return false;
    return m_sync.scan(
        RedisKeys::clientPattern(),
        [&](const QByteArrayList &keys) {
            QList<QByteArrayList> commands;
            for (const QByteArray &k : keys)
                commands.append({QByteArrayLiteral("HMGET"), k, QByteArrayLiteral("passes"),
                                 QByteArrayLiteral("last")});
            QString e;
            return m_sync.pipeline(
                commands,
                [&](qsizetype i, const redisReply *r) {
                    const QByteArray &k = keys[i];
                    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                        r->element[0]->type != REDIS_REPLY_STRING || !k.endsWith("}:c"))
                        return;
                    ClientRecord record;
                    record.client = k.mid(4, k.size() - 7);
                    record.passes = quint32(Sync::integer(r->element[0]));
                    record.lastSeen = Sync::integer(r->element[1]);
                    onClient(std::move(record));
                },
                &e);
        },
        error);
}

QList<QByteArrayList> RedisStore::commandsFor(const WriteBatch &batch, Seconds now) const
{
    QList<QByteArrayList> out;
    const Seconds window = std::max<Seconds>(m_timing.retryWindow, 1);
    const Seconds life = std::max<Seconds>(m_timing.passedLifetime, 1);
    for (const TripletRecord &t : batch.upsertTriplets) {
        if (!RedisKeys::usable(t.key))
            continue;
        const QByteArray key = RedisKeys::triplet(t.key);
        const bool passed = t.state.status == TripletStatus::Passed;
        const Seconds ttl = passed ? t.state.lastSeen + life - now
                                   : t.state.firstSeen + window + RedisDecider::kGraceSeconds - now;
        if (ttl <= 0)
            continue; // already expired: Redis would drop it at once
        out.append({QByteArrayLiteral("DEL"), key});
        out.append({QByteArrayLiteral("HSET"), key, QByteArrayLiteral("status"),
                    num(passed ? 1 : 0), QByteArrayLiteral("first"), num(t.state.firstSeen),
                    QByteArrayLiteral("last"), num(t.state.lastSeen), QByteArrayLiteral("passed"),
                    num(t.state.passedAt), QByteArrayLiteral("attempts"), num(t.state.attempts)});
        out.append({QByteArrayLiteral("EXPIRE"), key, num(ttl)});
        if (!passed)
            out.append({QByteArrayLiteral("ZADD"), RedisKeys::due(),
                        num(t.state.firstSeen + window),
                        RedisKeys::dueMember(t.state.firstSeen, key)});
    }
    for (const QByteArray &joined : batch.removeTriplets) {
        if (const std::optional<TripletKey> key = TripletKey::split(joined))
            out.append({QByteArrayLiteral("DEL"), RedisKeys::triplet(*key)});
    }
    for (const ClientRecord &c : batch.upsertClients) {
        const Seconds ttl = c.lastSeen + life - now;
        if (ttl <= 0 || c.client.contains('{') || c.client.contains('}'))
            continue;
        const QByteArray key = RedisKeys::client(c.client);
        out.append({QByteArrayLiteral("HSET"), key, QByteArrayLiteral("passes"), num(c.passes),
                    QByteArrayLiteral("last"), num(c.lastSeen), QByteArrayLiteral("counted"),
                    num(c.lastSeen)});
        out.append({QByteArrayLiteral("EXPIRE"), key, num(ttl)});
    }
    for (const QByteArray &client : batch.removeClients)
        out.append({QByteArrayLiteral("DEL"), RedisKeys::client(client)});
    for (const RejectionEntry &r : batch.rejections) {
        QByteArrayList cmd = xadd(RedisKeys::rejections());
        cmd << QByteArrayLiteral("time") << num(r.time) << QByteArrayLiteral("first")
            << num(r.firstSeen) << QByteArrayLiteral("attempts") << num(r.attempts)
            << QByteArrayLiteral("client") << r.key.client << QByteArrayLiteral("sender")
            << r.key.sender << QByteArrayLiteral("recipient") << r.key.recipient
            << QByteArrayLiteral("reason") << r.reason;
        out.append(cmd);
    }
    quint64 revision = 0;
    for (const DocumentRecord &d : batch.documents) {
        const QByteArray f = num(int(d.kind)) + ':' + d.id;
        revision = std::max(revision, d.revision);
        if (d.removed)
            out.append({QByteArrayLiteral("HDEL"), RedisKeys::documents(), f});
        else
            out.append({QByteArrayLiteral("HSET"), RedisKeys::documents(), f,
                        num(d.version) + ':' + QByteArray::number(d.revision) + ':' + d.json});
    }
    for (const AuditRecord &a : batch.audit) {
        revision = std::max(revision, a.revision);
        QByteArrayList cmd = xadd(RedisKeys::audit());
        cmd << QByteArrayLiteral("revision") << QByteArray::number(a.revision)
            << QByteArrayLiteral("time") << num(a.time) << QByteArrayLiteral("who") << a.who
            << QByteArrayLiteral("what") << a.what << QByteArrayLiteral("object") << a.objectId
            << QByteArrayLiteral("before") << a.beforeJson << QByteArrayLiteral("after")
            << a.afterJson;
        out.append(cmd);
    }
    if (revision > 0)
        out.append({QByteArrayLiteral("EVAL"), RedisScripts::maxRevision(), QByteArrayLiteral("1"),
                    RedisKeys::documentRevision(), QByteArray::number(revision)});
    if (!batch.documents.isEmpty())
        out.append({QByteArrayLiteral("PUBLISH"), RedisKeys::changesChannel(),
                    m_proxyId + ' ' + QByteArray::number(revision)});
    return out;
}

bool RedisStore::commit(const WriteBatch &batch, QString *error)
{
    if (batch.isEmpty())
        return true;
    const QList<QByteArrayList> commands = commandsFor(batch, QDateTime::currentSecsSinceEpoch());
    if (!m_async) {
        if (!ensureConnected(error))
            return false;
        return m_sync.pipeline(commands, {}, error);
    }
    if (!m_async->isUp()) {
        *error = QStringLiteral("Redis is unreachable (") + m_options.displayName() +
                 QStringLiteral("): the change is kept and saved once it is back");
        return false;
    }
    // Queued in order on the one connection: Redis applies them in that order, and a later
    // read on it sees them. A failure after this point is logged (the connection drops and
    // the health state says so).
    for (const QByteArrayList &argv : commands) {
        m_async->command(argv, [](const redisReply *, const QByteArray &e) {
            if (!e.isEmpty())
                qCWarning(lcRedis).noquote()
                    << LogLine("redis write failed").add("error", e).text();
        });
    }
    return true;
}

QList<RejectionEntry> RedisStore::rejections(const RejectionQuery &query, QString *error)
{
    if (!ensureConnected(error))
        return {};
    return readLog<RejectionEntry>(m_sync, RedisKeys::rejections(), query, error,
                                   [&query](const redisReply *f, RejectionEntry *r) {
                                       r->time = field(f, "time").toLongLong();
                                       if (r->time < query.from ||
                                           (query.to > 0 && r->time >= query.to))
                                           return false;
                                       r->firstSeen = field(f, "first").toLongLong();
                                       r->attempts = field(f, "attempts").toUInt();
                                       r->key.client = field(f, "client");
                                       r->key.sender = field(f, "sender");
                                       r->key.recipient = field(f, "recipient");
                                       r->reason = field(f, "reason");
                                       return true;
                                   });
}

bool RedisStore::parseDocument(QByteArrayView f, QByteArrayView value, DocumentRecord *out)
{
    const qsizetype colon = f.indexOf(':');
    const qsizetype c1 = value.indexOf(':');
    const qsizetype c2 = c1 < 0 ? -1 : value.indexOf(':', c1 + 1);
    if (colon <= 0 || c2 < 0)
        return false;
    bool ok = false;
    const uint kind = f.first(colon).toUInt(&ok);
    if (!ok || !isDocumentKind(quint8(kind)) || kind > 255)
        return false;
    out->kind = DocumentKind(kind);
    out->id = f.sliced(colon + 1).toByteArray();
    out->removed = false;
    out->version = value.first(c1).toUInt(&ok);
    if (!ok)
        return false;
    out->revision = value.sliced(c1 + 1, c2 - c1 - 1).toULongLong(&ok);
    out->json = value.sliced(c2 + 1).toByteArray();
    return ok;
}

bool RedisStore::loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                               QString *error)
{
    if (!ensureConnected(error))
        return false;
    const Sync::Reply reply =
        m_sync.command({QByteArrayLiteral("HGETALL"), RedisKeys::documents()}, error);
    if (!reply)
        return false;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        DocumentRecord d;
        if (parseDocument(Sync::string(reply->element[i]), Sync::string(reply->element[i + 1]), &d))
            onDocument(std::move(d));
    }
    return true;
}

bool RedisStore::documentRevision(quint64 *revision, QString *error)
{
    if (!ensureConnected(error))
        return false;
    const Sync::Reply reply =
        m_sync.command({QByteArrayLiteral("GET"), RedisKeys::documentRevision()}, error);
    if (!reply)
        return false;
    *revision = quint64(Sync::integer(reply.get()));
    return true;
}

QList<AuditRecord> RedisStore::audit(const AuditQuery &query, QString *error)
{
    if (!ensureConnected(error))
        return {};
    return readLog<AuditRecord>(
        m_sync, RedisKeys::audit(), query, error, [&query](const redisReply *f, AuditRecord *a) {
            a->time = field(f, "time").toLongLong();
            a->objectId = field(f, "object");
            if (a->time < query.from || (query.to > 0 && a->time >= query.to) ||
                (!query.objectId.isEmpty() && a->objectId != query.objectId))
                return false;
            a->revision = field(f, "revision").toULongLong();
            a->who = field(f, "who");
            a->what = field(f, "what");
            a->beforeJson = field(f, "before");
            a->afterJson = field(f, "after");
            return true;
        });
}

bool RedisStore::pruneBefore(Seconds rejectionsBefore, Seconds auditBefore, QString *error)
{
    if (!ensureConnected(error))
        return false;
    // Stream ids are the insertion time in milliseconds: MINID drops what is older.
    QList<QByteArrayList> commands;
    if (rejectionsBefore > 0)
        commands.append({QByteArrayLiteral("XTRIM"), RedisKeys::rejections(),
                         QByteArrayLiteral("MINID"), num(rejectionsBefore * 1000)});
    if (auditBefore > 0)
        commands.append({QByteArrayLiteral("XTRIM"), RedisKeys::audit(), QByteArrayLiteral("MINID"),
                         num(auditBefore * 1000)});
    return commands.isEmpty() || m_sync.pipeline(commands, {}, error);
}

bool RedisStore::checkIntegrity(QString *error)
{
    if (!ensureConnected(error))
        return false;
    const Sync::Reply reply = m_sync.command({QByteArrayLiteral("CONFIG"), QByteArrayLiteral("GET"),
                                              QByteArrayLiteral("maxmemory-policy")},
                                             error);
    if (!reply)
        return false;
    if (reply->elements == 2 && Sync::string(reply->element[1]).startsWith("allkeys-")) {
        *error = QStringLiteral("Redis evicts keys (maxmemory-policy ") +
                 QString::fromUtf8(Sync::string(reply->element[1])) +
                 QStringLiteral("): set it to noeviction");
        return false;
    }
    return true;
}

} // namespace greygate
