// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisQueue.h"

#include "RedisConnection.h"
#include "RedisKeys.h"
#include "RedisScripts.h"
#include "RedisSyncClient.h"

#include <QElapsedTimer>
#include <QSet>
#include <algorithm>
#include <hiredis/hiredis.h>
#include <vector>

namespace greygate {

namespace {

constexpr Seconds kMaxSpan = 0xffffffffLL;

QByteArrayView domainOf(QByteArrayView address)
{
    const qsizetype at = address.lastIndexOf('@');
    return at < 0 ? QByteArrayView() : address.sliced(at + 1);
}

// The characters SCAN's MATCH treats as a pattern, escaped so a client key is literal.
QByteArray globEscaped(const QByteArray &text)
{
    QByteArray out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            out.append('\\');
        out.append(c);
    }
    return out;
}

} // namespace

struct RedisQueue::Listing
{
    TripletQuery query;
    ListDone done;
    QElapsedTimer started;
    Seconds now = 0;
    bool dueOnly = false; // ZSCAN of gg:due instead of SCAN
    QByteArray cursor = "0";
    bool scanDone = false;
    bool finished = false;
    qsizetype pending = 0; // HMGETs in flight
    qsizetype total = 0;
    QSet<size_t> seen; // SCAN may return a key twice (while Redis rehashes)
    std::vector<TripletRecord> best;
};

// The queue is gone (shutdown) with the listing under way: answered once, touching nothing.
void RedisQueue::abandoned(Listing &l)
{
    if (l.finished)
        return;
    l.finished = true;
    l.done(std::nullopt, QStringLiteral("shutting down"));
}

RedisQueue::RedisQueue(RedisConnection &connection, const GreylistConfig &config, QObject *parent)
    : QObject(parent)
    , m_connection(connection)
    , m_config(config)
    , m_self(std::make_shared<RedisQueue *>(this))
{
    // The same bounds as the decision script (RedisDecider).
    for (Seconds *span : {&m_config.delay, &m_config.retryWindow, &m_config.passedLifetime})
        *span = std::clamp<Seconds>(*span, 1, kMaxSpan);
}

RedisQueue::~RedisQueue() = default;

Seconds RedisQueue::expiresAt(const TripletState &state) const
{
    return state.status == TripletStatus::Passed ? state.lastSeen + m_config.passedLifetime
                                                 : state.firstSeen + m_config.retryWindow;
}

void RedisQueue::list(const TripletQuery &query, ListDone done)
{
    if (query.offset < 0 || query.limit <= 0 || query.offset + query.limit > kMaxWindow) {
        done(std::nullopt, QStringLiteral("offset + limit beyond %1 in the shared Redis store: "
                                          "narrow the filter instead of paging that deep")
                               .arg(kMaxWindow));
        return;
    }
    if (m_listings >= kMaxListings) {
        done(std::nullopt, QStringLiteral("%1 queue listings are already walking the shared "
                                          "Redis store: try again in a few seconds")
                               .arg(kMaxListings));
        return;
    }
    if (!m_connection.isUp()) {
        done(std::nullopt, QStringLiteral("the shared Redis store is unreachable (%1): try again "
                                          "when /healthz says it is back")
                               .arg(RedisConnection::healthName(m_connection.health())));
        return;
    }
    ++m_listings;
    auto l = std::make_shared<Listing>();
    l->query = query;
    l->done = std::move(done);
    l->started.start();
    l->dueOnly = query.state == TripletQuery::State::Deferred && query.client.isEmpty();
    // Redis's clock decides what is still held, as it does for the decisions.
    m_connection.command({QByteArrayLiteral("TIME")}, [self = std::weak_ptr<RedisQueue *>(m_self),
                                                       l](const redisReply *reply,
                                                          const QByteArray &error) {
        const std::shared_ptr<RedisQueue *> q = self.lock();
        if (!q)
            return abandoned(*l);
        if (!reply || !error.isEmpty() || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
            return (*q)->finish(l, QString::fromUtf8(error));
        }
        l->now = RedisSyncClient::integer(reply->element[0]);
        (*q)->step(l);
    });
}

void RedisQueue::step(const std::shared_ptr<Listing> &l)
{
    if (l->started.elapsed() > kListTimeoutMs) {
        finish(l, QStringLiteral("the listing did not finish within %1 s (a large greylist in "
                                 "Redis): narrow the filter (client, state, sender...)")
                      .arg(kListTimeoutMs / 1000));
        return;
    }
    QByteArrayList argv;
    if (l->dueOnly) {
        argv = {QByteArrayLiteral("ZSCAN"), RedisKeys::due(), l->cursor, QByteArrayLiteral("COUNT"),
                QByteArray::number(kScanCount)};
    } else {
        // A client filter is a key exactly: Redis then matches it while scanning.
        const QByteArray pattern = l->query.client.isEmpty()
                                       ? RedisKeys::tripletPattern()
                                       : QByteArrayLiteral("gg:{") + globEscaped(l->query.client) +
                                             QByteArrayLiteral("}:t:*");
        argv = {QByteArrayLiteral("SCAN"),  l->cursor,
                QByteArrayLiteral("MATCH"), pattern,
                QByteArrayLiteral("COUNT"), QByteArray::number(kScanCount)};
    }
    m_connection.command(argv, [self = std::weak_ptr<RedisQueue *>(m_self),
                                l](const redisReply *reply, const QByteArray &error) {
        const std::shared_ptr<RedisQueue *> q = self.lock();
        if (!q)
            return abandoned(*l);
        if (l->finished)
            return;
        if (!reply || !error.isEmpty() || reply->type != REDIS_REPLY_ARRAY ||
            reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_ARRAY) {
            return (*q)->finish(l, error.isEmpty() ? QStringLiteral("unexpected SCAN reply")
                                                   : QString::fromUtf8(error));
        }
        l->cursor = RedisSyncClient::string(reply->element[0]);
        const redisReply *items = reply->element[1];
        if (l->dueOnly) {
            // member, score pairs: a window whose end has passed is the sweep's, not queued.
            for (size_t i = 0; i + 1 < items->elements; i += 2) {
                Seconds first = 0;
                QByteArray key;
                if (RedisSyncClient::integer(items->element[i + 1]) > l->now &&
                    RedisKeys::splitDueMember(RedisSyncClient::string(items->element[i]), &first,
                                              &key))
                    (*q)->collect(l, key);
            }
        } else {
            for (size_t i = 0; i < items->elements; ++i)
                (*q)->collect(l, RedisSyncClient::string(items->element[i]));
        }
        // The next step goes out behind this step's HMGETs: Redis answers in order, so at
        // most two steps are in flight.
        if (l->cursor == "0")
            l->scanDone = true;
        else
            (*q)->step(l);
        if (l->scanDone && l->pending == 0)
            (*q)->finish(l, QString());
    });
}

void RedisQueue::collect(const std::shared_ptr<Listing> &l, const QByteArray &redisKey)
{
    const std::optional<TripletKey> key = RedisKeys::tripletFromKey(redisKey);
    if (!key)
        return;
    const TripletQuery &q = l->query;
    if ((!q.client.isEmpty() && key->client != q.client) ||
        (!q.sender.isEmpty() && !key->sender.contains(q.sender)) ||
        (!q.recipient.isEmpty() && !key->recipient.contains(q.recipient)) ||
        (!q.domain.isEmpty() && domainOf(key->sender) != q.domain &&
         domainOf(key->recipient) != q.domain))
        return;
    const size_t hash = qHash(redisKey);
    if (l->seen.contains(hash))
        return;
    l->seen.insert(hash);
    ++l->pending;
    m_connection.command(
        {QByteArrayLiteral("HMGET"), redisKey, QByteArrayLiteral("status"),
         QByteArrayLiteral("first"), QByteArrayLiteral("last"), QByteArrayLiteral("passed"),
         QByteArrayLiteral("attempts")},
        [self = std::weak_ptr<RedisQueue *>(m_self), l, key = *key](const redisReply *reply,
                                                                    const QByteArray &error) {
            const std::shared_ptr<RedisQueue *> q = self.lock();
            if (!q || l->finished)
                return;
            --l->pending;
            if (!reply || !error.isEmpty() || reply->type != REDIS_REPLY_ARRAY ||
                reply->elements != 5)
                return (*q)->finish(l, error.isEmpty() ? QStringLiteral("unexpected HMGET reply")
                                                       : QString::fromUtf8(error));
            if (reply->element[0]->type == REDIS_REPLY_STRING) {
                TripletState s;
                s.status = RedisSyncClient::string(reply->element[0]) == "1"
                               ? TripletStatus::Passed
                               : TripletStatus::Deferred;
                s.firstSeen = RedisSyncClient::integer(reply->element[1]);
                s.lastSeen = RedisSyncClient::integer(reply->element[2]);
                s.passedAt = RedisSyncClient::integer(reply->element[3]);
                s.attempts = quint32(RedisSyncClient::integer(reply->element[4]));
                const bool passed = s.status == TripletStatus::Passed;
                // Still held: a deferred one within its window (after it, the entry only waits
                // for the sweep's claim), a passed one within its lifetime.
                const bool held = (*q)->expiresAt(s) > l->now;
                const TripletQuery::State want = l->query.state;
                if (held && (want == TripletQuery::State::Any ||
                             (want == TripletQuery::State::Passed) == passed)) {
                    ++l->total;
                    l->best.push_back(TripletRecord{key, s});
                    // Only the best offset + limit matter: memory stays bounded by the page.
                    if (l->best.size() >= 2 * size_t(l->query.offset + l->query.limit) + 1024)
                        (*q)->trim(*l);
                }
            }
            if (l->scanDone && l->pending == 0)
                (*q)->finish(l, QString());
        });
}

bool RedisQueue::before(const TripletQuery &q, const TripletRecord &a, const TripletRecord &b) const
{
    const auto number = [&](const TripletRecord &r) -> qint64 {
        switch (q.sort) {
        case TripletQuery::SortKey::FirstSeen:
            return r.state.firstSeen;
        case TripletQuery::SortKey::LastSeen:
            return r.state.lastSeen;
        case TripletQuery::SortKey::Attempts:
            return r.state.attempts;
        case TripletQuery::SortKey::PassAt:
            return r.state.firstSeen + m_config.delay;
        case TripletQuery::SortKey::ExpiresAt:
            return expiresAt(r.state);
        default:
            return 0;
        }
    };
    const auto text = [&](const TripletRecord &r) -> QByteArrayView {
        switch (q.sort) {
        case TripletQuery::SortKey::Client:
            return r.key.client;
        case TripletQuery::SortKey::Sender:
            return r.key.sender;
        case TripletQuery::SortKey::Recipient:
            return r.key.recipient;
        default:
            return {};
        }
    };
    // As GreylistEngine::query(): ascending with the whole key as the tie-break, so pages
    // neither overlap nor skip.
    const TripletRecord &x = q.descending ? b : a;
    const TripletRecord &y = q.descending ? a : b;
    const qint64 nx = number(x), ny = number(y);
    if (nx != ny)
        return nx < ny;
    if (const int t = text(x).compare(text(y)); t != 0)
        return t < 0;
    return std::tie(x.key.client, x.key.sender, x.key.recipient) <
           std::tie(y.key.client, y.key.sender, y.key.recipient);
}

void RedisQueue::trim(Listing &l) const
{
    const size_t window = size_t(l.query.offset + l.query.limit);
    if (l.best.size() <= window)
        return;
    std::nth_element(
        l.best.begin(), l.best.begin() + qsizetype(window), l.best.end(),
        [&](const TripletRecord &a, const TripletRecord &b) { return before(l.query, a, b); });
    l.best.resize(window);
}

void RedisQueue::finish(const std::shared_ptr<Listing> &l, const QString &error)
{
    l->finished = true;
    --m_listings;
    if (!error.isEmpty()) {
        l->done(std::nullopt,
                QStringLiteral("cannot list the queue in the shared Redis store: ") + error);
        return;
    }
    trim(*l);
    TripletPage page;
    page.total = l->total;
    const size_t offset = size_t(l->query.offset);
    if (offset < l->best.size()) {
        std::sort(
            l->best.begin(), l->best.end(),
            [&](const TripletRecord &a, const TripletRecord &b) { return before(l->query, a, b); });
        for (size_t i = offset; i < l->best.size(); ++i)
            page.records.append(std::move(l->best[i]));
    }
    l->best.clear();
    l->done(std::move(page), QString());
}

void RedisQueue::release(const TripletKey &key, ChangeDone done)
{
    change(RedisScripts::release(), key,
           {QByteArray::number(m_config.retryWindow), QByteArray::number(m_config.passedLifetime)},
           std::move(done));
}

void RedisQueue::remove(const TripletKey &key, ChangeDone done)
{
    change(RedisScripts::remove(), key, {QByteArray::number(m_config.retryWindow)},
           std::move(done));
}

void RedisQueue::change(const QByteArray &script, const TripletKey &key, const QByteArrayList &args,
                        ChangeDone done)
{
    if (!RedisKeys::usable(key)) {
        done(Change::NotFound, QString());
        return;
    }
    // EVAL, not EVALSHA: an admin's change is rare, and the script is short.
    m_connection.command(
        QByteArrayList{QByteArrayLiteral("EVAL"), script, QByteArrayLiteral("1"),
                       RedisKeys::triplet(key)} +
            args,
        [done = std::move(done)](const redisReply *reply, const QByteArray &error) {
            if (!reply || !error.isEmpty() || reply->type != REDIS_REPLY_INTEGER) {
                done(std::nullopt, QStringLiteral("the shared Redis store did not answer: ") +
                                       QString::fromUtf8(error.isEmpty() ? "bad reply" : error));
                return;
            }
            done(reply->integer == 1   ? Change::Done
                 : reply->integer == 2 ? Change::AlreadyPassed
                                       : Change::NotFound,
                 QString());
        });
}

} // namespace greygate
