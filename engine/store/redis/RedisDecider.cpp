// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisDecider.h"

#include "RedisConnection.h"
#include "RedisKeys.h"
#include "RedisLog.h"
#include "RedisScripts.h"
#include "RedisSyncClient.h"
#include "util/LogLine.h"

#include <algorithm>
#include <hiredis/hiredis.h>

namespace greygate {

namespace {

constexpr Seconds kMaxSpan = 0xffffffffLL;

qint64 element(const redisReply *r, size_t i)
{
    return r && r->type == REDIS_REPLY_ARRAY && i < r->elements
               ? RedisSyncClient::integer(r->element[i])
               : 0;
}

} // namespace

RedisDecider::RedisDecider(RedisConnection &connection, const GreylistConfig &config, bool failOpen,
                           QObject *parent)
    : QObject(parent)
    , m_connection(connection)
    , m_config(config)
    , m_failOpen(failOpen)
    , m_decideSha(RedisScripts::sha1(RedisScripts::decide()))
    , m_expireSha(RedisScripts::sha1(RedisScripts::expire()))
    , m_dueSha(RedisScripts::sha1(RedisScripts::due()))
{
    // The same bounds as GreylistEngine: spans beyond 32-bit seconds mean "forever".
    for (Seconds *span : {&m_config.delay, &m_config.retryWindow, &m_config.passedLifetime})
        *span = std::clamp<Seconds>(*span, 0, kMaxSpan);
    // Redis refuses EXPIRE 0; a lifetime of at least a second keeps the script simple.
    m_config.passedLifetime = std::max<Seconds>(m_config.passedLifetime, 1);
    m_config.retryWindow = std::max<Seconds>(m_config.retryWindow, 1);
    m_decideArgs = {QByteArray::number(m_config.delay), QByteArray::number(m_config.retryWindow),
                    QByteArray::number(m_config.passedLifetime),
                    QByteArray::number(m_config.autoWhitelistClients),
                    QByteArray::number(kGraceSeconds)};
    connect(&m_sweepTimer, &QTimer::timeout, this, &RedisDecider::sweepNow);
}

void RedisDecider::runScript(const QByteArray &script, const QByteArray &sha,
                             const QByteArrayList &keys, const QByteArrayList &args, Reply cb)
{
    QByteArrayList argv;
    argv.reserve(3 + keys.size() + args.size());
    argv << QByteArrayLiteral("EVALSHA") << sha << QByteArray::number(keys.size());
    argv << keys << args;
    m_connection.command(argv, [this, script, argv, cb = std::move(cb)](
                                   const redisReply *reply, const QByteArray &error) mutable {
        if (!reply || !error.startsWith("NOSCRIPT")) {
            cb(reply, error);
            return;
        }
        // The script cache is empty (a restarted or failed-over Redis, SCRIPT FLUSH): EVAL
        // sends the script once and caches it again for the EVALSHAs after it.
        ++m_stats.scriptLoads;
        argv[0] = QByteArrayLiteral("EVAL");
        argv[1] = script;
        m_connection.command(argv, std::move(cb));
    });
}

void RedisDecider::decide(const TripletKey &key, std::function<void(const Decision *)> done)
{
    if (!RedisKeys::usable(key)) {
        // Cannot be keyed (the normaliser never lets this through): a temporary failure is
        // the answer that loses no mail.
        Decision d;
        d.waitSeconds = m_config.delay;
        done(&d);
        return;
    }
    const QByteArray tripletKey = RedisKeys::triplet(key);
    runScript(
        RedisScripts::decide(), m_decideSha, {tripletKey, RedisKeys::client(key.client)},
        m_decideArgs,
        [this, tripletKey, done = std::move(done)](const redisReply *reply,
                                                   const QByteArray &error) {
            if (!reply || !error.isEmpty() || reply->type != REDIS_REPLY_ARRAY ||
                reply->elements < 9) {
                ++m_stats.unavailable;
                qCWarning(lcRedis).noquote()
                    << LogLine("redis decision failed, failure mode applies")
                           .add("mode", m_failOpen ? "open" : "closed")
                           .add("error", error.isEmpty() ? QByteArrayLiteral("bad reply") : error)
                           .text();
                done(nullptr);
                return;
            }
            ++m_stats.decisions;
            Decision d;
            d.verdict = Verdict(std::clamp<qint64>(element(reply, 0), 0, 3));
            d.attempts = quint32(element(reply, 1));
            d.firstSeen = element(reply, 2);
            d.waitSeconds = element(reply, 3);
            d.delayedSeconds = element(reply, 4);
            const bool created = element(reply, 6) != 0;
            const Seconds previousFirst = element(reply, 7);
            const qint64 previousAttempts = element(reply, 8);
            done(&d);
            if (created) {
                m_connection.command(
                    {QByteArrayLiteral("ZADD"), RedisKeys::due(),
                     QByteArray::number(d.firstSeen + m_config.retryWindow),
                     RedisKeys::dueMember(d.firstSeen, tripletKey)},
                    [](const redisReply *, const QByteArray &e) {
                        if (!e.isEmpty())
                            qCWarning(lcRedis).noquote()
                                << LogLine("cannot queue a retry deadline").add("error", e).text();
                    });
            }
            if (previousFirst > 0)
                claim(previousFirst, tripletKey, previousAttempts);
        });
}

void RedisDecider::startSweeping(int intervalMs)
{
    m_sweepTimer.start(intervalMs);
}

void RedisDecider::stopSweeping()
{
    m_sweepTimer.stop();
}

void RedisDecider::sweepNow()
{
    if (m_sweeping || !m_connection.isUp())
        return;
    m_sweeping = true;
    runScript(RedisScripts::due(), m_dueSha, {RedisKeys::due()}, {QByteArray::number(kSweepBatch)},
              [this](const redisReply *reply, const QByteArray &error) {
                  m_sweeping = false;
                  if (!reply || !error.isEmpty() || reply->type != REDIS_REPLY_ARRAY)
                      return; // the next tick tries again
                  for (size_t i = 0; i < reply->elements; ++i) {
                      Seconds first = 0;
                      QByteArray tripletKey;
                      const QByteArray member = RedisSyncClient::string(reply->element[i]);
                      if (RedisKeys::splitDueMember(member, &first, &tripletKey)) {
                          claim(first, tripletKey, -1);
                      } else {
                          m_connection.command(
                              {QByteArrayLiteral("ZREM"), RedisKeys::due(), member},
                              [](const redisReply *, const QByteArray &) {});
                      }
                  }
                  if (reply->elements >= size_t(kSweepBatch))
                      QTimer::singleShot(0, this, &RedisDecider::sweepNow);
              });
}

void RedisDecider::claim(Seconds firstSeen, const QByteArray &tripletKey, qint64 knownAttempts)
{
    m_connection.command(
        {QByteArrayLiteral("ZREM"), RedisKeys::due(), RedisKeys::dueMember(firstSeen, tripletKey)},
        [this, firstSeen, tripletKey, knownAttempts](const redisReply *reply,
                                                     const QByteArray &error) {
            if (!reply || !error.isEmpty())
                return; // not claimed: the deadline stays for the next sweep
            if (RedisSyncClient::integer(reply) != 1) {
                ++m_stats.claimsLost;
                return;
            }
            if (knownAttempts >= 0) {
                // The decision script already closed that window (it restarted the triplet).
                logRejection(firstSeen, tripletKey, quint32(knownAttempts));
                return;
            }
            runScript(RedisScripts::expire(), m_expireSha, {tripletKey},
                      {QByteArray::number(firstSeen)},
                      [this, firstSeen, tripletKey](const redisReply *r, const QByteArray &e) {
                          if (!r || !e.isEmpty() || r->type != REDIS_REPLY_INTEGER)
                              return; // passed, removed or whitelisted meanwhile
                          logRejection(firstSeen, tripletKey, quint32(r->integer));
                      });
        });
}

void RedisDecider::logRejection(Seconds firstSeen, const QByteArray &tripletKey, quint32 attempts)
{
    RejectionEntry entry;
    entry.time = firstSeen + m_config.retryWindow;
    entry.reason = QByteArrayLiteral("Sender Failed to Retry");
    entry.key = RedisKeys::tripletFromKey(tripletKey).value_or(TripletKey{tripletKey, {}, {}});
    entry.attempts = attempts;
    entry.firstSeen = firstSeen;
    m_connection.command({QByteArrayLiteral("XADD"),
                          RedisKeys::rejections(),
                          QByteArrayLiteral("MAXLEN"),
                          QByteArrayLiteral("~"),
                          QByteArray::number(RedisKeys::kLogCap),
                          QByteArrayLiteral("*"),
                          QByteArrayLiteral("time"),
                          QByteArray::number(entry.time),
                          QByteArrayLiteral("first"),
                          QByteArray::number(firstSeen),
                          QByteArrayLiteral("attempts"),
                          QByteArray::number(attempts),
                          QByteArrayLiteral("client"),
                          entry.key.client,
                          QByteArrayLiteral("sender"),
                          entry.key.sender,
                          QByteArrayLiteral("recipient"),
                          entry.key.recipient,
                          QByteArrayLiteral("reason"),
                          entry.reason},
                         [this, entry](const redisReply *, const QByteArray &error) {
                             if (!error.isEmpty()) {
                                 qCWarning(lcRedis).noquote()
                                     << LogLine("cannot write a rejection")
                                            .add("error", error)
                                            .add("client", entry.key.client)
                                            .text();
                                 return;
                             }
                             ++m_stats.rejections;
                             Q_EMIT rejectionsLogged({entry});
                         });
}

} // namespace greygate
