// SPDX-License-Identifier: GPL-3.0-or-later
// The decision script on a real redis-server: GreylistEngine's state machine at every edge,
// two "proxies" (two connections) racing, the shared expiry claimed exactly once, the
// script cache lost, and Redis unreachable or stalled. Time moves by rewriting the stored
// first/last-seen times (Redis's TIME is the clock and cannot be wound forward).

#include "RedisTestServer.h"
#include "store/redis/RedisConnection.h"
#include "store/redis/RedisDecider.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisSyncClient.h"

#include <QSignalSpy>
#include <QTest>
#include <hiredis/hiredis.h>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int WaitMs = 10'000;

GreylistConfig config()
{
    GreylistConfig c;
    c.delay = 60;
    c.retryWindow = 12 * 3600;
    c.passedLifetime = 36 * 86400;
    c.autoWhitelistClients = 0;
    return c;
}

TripletKey key(const char *sender = "a@sender.example")
{
    return TripletKey{QByteArrayLiteral("192.0.2.0/24"), QByteArray(sender),
                      QByteArrayLiteral("b@rcpt.example")};
}

} // namespace

class TestRedisDecider : public QObject
{
    Q_OBJECT

private:
    RedisTestServer m_redis;
    RedisOptions m_options;
    RedisSyncClient m_sync;

    std::optional<Decision> decideOnce(RedisDecider &decider, const TripletKey &k)
    {
        std::optional<Decision> out;
        bool called = false;
        decider.decide(k, [&](const Decision *d) {
            called = true;
            if (d)
                out = *d;
        });
        QDeadlineTimer deadline(WaitMs);
        while (!called && !deadline.hasExpired())
            QTest::qWait(1);
        return out;
    }
    qint64 redisNow()
    {
        QString error;
        RedisSyncClient::Reply r = m_sync.command({QByteArrayLiteral("TIME")}, &error);
        return r ? RedisSyncClient::integer(r->element[0]) : 0;
    }
    qint64 integer(const QByteArrayList &argv)
    {
        QString error;
        RedisSyncClient::Reply r = m_sync.command(argv, &error);
        return RedisSyncClient::integer(r.get());
    }
    void run(const QByteArrayList &argv)
    {
        QString error;
        QVERIFY2(m_sync.command(argv, &error), qPrintable(error));
    }
    qint64 field(const TripletKey &k, const char *name)
    {
        return integer({"HGET", RedisKeys::triplet(k), name});
    }
    void shiftBack(const TripletKey &k, const char *name, qint64 seconds)
    {
        run({"HSET", RedisKeys::triplet(k), name, QByteArray::number(field(k, name) - seconds)});
    }
    qint64 rejections() { return integer({"XLEN", RedisKeys::rejections()}); }

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QString error;
        m_options = *RedisOptions::fromUrl(m_redis.url(), &error);
        m_options.timeoutMs = 2000;
        QVERIFY2(m_sync.connect(m_options, &error), qPrintable(error));
    }
    void init() { run({"FLUSHALL"}); }

    void firstSightDefersAndRecordsWithTheWindowTtl()
    {
        RedisConnection connection(m_options);
        connection.start();
        RedisDecider decider(connection, config(), true);
        const std::optional<Decision> d = decideOnce(decider, key());
        QVERIFY(d);
        QCOMPARE(d->verdict, Verdict::Defer);
        QCOMPARE(d->attempts, 1u);
        QCOMPARE(d->waitSeconds, 60);
        QCOMPARE(field(key(), "status"), 0);
        const qint64 ttl = integer({"TTL", RedisKeys::triplet(key())});
        QVERIFY2(ttl > 12 * 3600 && ttl <= 12 * 3600 + RedisDecider::kGraceSeconds,
                 qPrintable(QString::number(ttl)));
        // Its deadline is queued for the shared sweep.
        QTRY_COMPARE(integer({"ZCARD", RedisKeys::due()}), 1);
        QCOMPARE(integer({"ZSCORE", RedisKeys::due(),
                          RedisKeys::dueMember(d->firstSeen, RedisKeys::triplet(key()))}),
                 d->firstSeen + 12 * 3600);
    }

    void earlyRetryDefersAgainAndCounts()
    {
        RedisConnection connection(m_options);
        connection.start();
        RedisDecider decider(connection, config(), true);
        QVERIFY(decideOnce(decider, key()));
        shiftBack(key(), "first", 20);
        const std::optional<Decision> d = decideOnce(decider, key());
        QVERIFY(d);
        QCOMPARE(d->verdict, Verdict::Defer);
        QCOMPARE(d->attempts, 2u);
        QVERIFY2(d->waitSeconds <= 40 && d->waitSeconds >= 39,
                 qPrintable(QString::number(d->waitSeconds)));
        QCOMPARE(integer({"ZCARD", RedisKeys::due()}), 1); // no second deadline
    }

    void retryAfterTheDelayPassesWithThePassedLifetime()
    {
        RedisConnection connection(m_options);
        connection.start();
        RedisDecider decider(connection, config(), true);
        QVERIFY(decideOnce(decider, key()));
        shiftBack(key(), "first", 61);
        const std::optional<Decision> d = decideOnce(decider, key());
        QVERIFY(d);
        QCOMPARE(d->verdict, Verdict::PassedNow);
        QVERIFY(d->delayedSeconds >= 61);
        QCOMPARE(d->attempts, 2u);
        QCOMPARE(field(key(), "status"), 1);
        const qint64 ttl = integer({"TTL", RedisKeys::triplet(key())});
        QVERIFY2(ttl > 36 * 86400 - 60 && ttl <= 36 * 86400, qPrintable(QString::number(ttl)));

        // A passed triplet: accepted silently, refreshed.
        const std::optional<Decision> again = decideOnce(decider, key());
        QVERIFY(again);
        QCOMPARE(again->verdict, Verdict::PassedKnown);
        QCOMPARE(again->attempts, 3u);
    }

    void passedTripletUnusedForItsLifetimeIsGreylistedAgain()
    {
        RedisConnection connection(m_options);
        connection.start();
        RedisDecider decider(connection, config(), true);
        QVERIFY(decideOnce(decider, key()));
        shiftBack(key(), "first", 61);
        QCOMPARE(decideOnce(decider, key())->verdict, Verdict::PassedNow);
        shiftBack(key(), "last", 36 * 86400);
        const std::optional<Decision> d = decideOnce(decider, key());
        QVERIFY(d);
        QCOMPARE(d->verdict, Verdict::Defer);
        QCOMPARE(d->attempts, 1u);
        QCOMPARE(rejections(), 0); // it had passed: no "Sender Failed to Retry"
    }

    void retryAfterTheWindowStartsAgainAndLogsTheFailureOnce()
    {
        RedisConnection connection(m_options);
        connection.start();
        RedisDecider decider(connection, config(), true);
        QSignalSpy logged(&decider, &RedisDecider::rejectionsLogged);
        const qint64 first = decideOnce(decider, key())->firstSeen;
        QCOMPARE(decideOnce(decider, key())->attempts, 2u);
        // The window closed: move the triplet and its queued deadline 12 h back.
        run({"ZREM", RedisKeys::due(), RedisKeys::dueMember(first, RedisKeys::triplet(key()))});
        shiftBack(key(), "first", 12 * 3600 + 5);
        const qint64 oldFirst = first - 12 * 3600 - 5;
        run({"ZADD", RedisKeys::due(), QByteArray::number(oldFirst + 12 * 3600),
             RedisKeys::dueMember(oldFirst, RedisKeys::triplet(key()))});

        const std::optional<Decision> d = decideOnce(decider, key());
        QVERIFY(d);
        QCOMPARE(d->verdict, Verdict::Defer);
        QCOMPARE(d->attempts, 1u); // afresh
        QTRY_COMPARE(rejections(), 1);
        // Announced once Redis has confirmed the write, which may come after the entry is
        // already visible to another reader.
        QTRY_COMPARE(logged.size(), 1);
        const RejectionEntry entry = logged[0][0].value<QList<RejectionEntry>>().first();
        QCOMPARE(entry.attempts, 2u);
        QCOMPARE(entry.firstSeen, oldFirst);
        QCOMPARE(entry.key, key());
        // The sweep finds nothing more to log for that window.
        decider.sweepNow();
        QTest::qWait(100);
        QCOMPARE(rejections(), 1);
    }

    void twoProxiesRacingTheFirstAttemptAgree()
    {
        RedisConnection a(m_options), b(m_options);
        a.start();
        b.start();
        QTRY_VERIFY(a.isUp() && b.isUp());
        RedisDecider da(a, config(), true), db(b, config(), true);
        std::optional<Decision> ra, rb;
        int done = 0;
        // Both sent before either reply is read: Redis runs the scripts one after the other.
        da.decide(key(), [&](const Decision *d) {
            ra = *d;
            ++done;
        });
        db.decide(key(), [&](const Decision *d) {
            rb = *d;
            ++done;
        });
        QTRY_COMPARE(done, 2);
        QCOMPARE(ra->verdict, Verdict::Defer);
        QCOMPARE(rb->verdict, Verdict::Defer);
        QCOMPARE(ra->firstSeen, rb->firstSeen);
        QCOMPARE(QSet<quint32>({ra->attempts, rb->attempts}), QSet<quint32>({1u, 2u}));
        QTRY_COMPARE(integer({"ZCARD", RedisKeys::due()}), 1);
    }

    void twoProxiesSweepingClaimEachClosedWindowOnce()
    {
        RedisConnection a(m_options), b(m_options);
        a.start();
        b.start();
        QTRY_VERIFY(a.isUp() && b.isUp());
        RedisDecider da(a, config(), true), db(b, config(), true);
        const int n = 30;
        for (int i = 0; i < n; ++i) {
            const QByteArray sender = "s" + QByteArray::number(i) + "@sender.example";
            QVERIFY(decideOnce(i % 2 ? da : db, key(sender.constData())));
        }
        // Every deadline is due now.
        QTRY_COMPARE(integer({"ZCARD", RedisKeys::due()}), n);
        run({"ZUNIONSTORE", RedisKeys::due(), "1", RedisKeys::due(), "WEIGHTS", "0"});
        da.sweepNow();
        db.sweepNow();
        QTRY_COMPARE(integer({"ZCARD", RedisKeys::due()}), 0);
        QTRY_COMPARE(rejections(), n);
        QTest::qWait(100);
        QCOMPARE(rejections(), n);
        QCOMPARE(da.stats().rejections + db.stats().rejections, quint64(n));
        QCOMPARE(integer({"EXISTS", RedisKeys::triplet(key("s0@sender.example"))}), 0);
    }

    void autoWhitelistedClientIsAcceptedWithoutATriplet()
    {
        GreylistConfig c = config();
        c.autoWhitelistClients = 1;
        RedisConnection connection(m_options);
        connection.start();
        RedisDecider decider(connection, c, true);
        QVERIFY(decideOnce(decider, key()));
        shiftBack(key(), "first", 61);
        QCOMPARE(decideOnce(decider, key())->verdict, Verdict::PassedNow);
        QCOMPARE(integer({"HGET", RedisKeys::client(key().client), "passes"}), 1);
        const std::optional<Decision> other = decideOnce(decider, key("new@sender.example"));
        QVERIFY(other);
        QCOMPARE(other->verdict, Verdict::ClientWhitelisted);
        QCOMPARE(integer({"EXISTS", RedisKeys::triplet(key("new@sender.example"))}), 0);
    }

    void lostScriptCacheIsReloaded()
    {
        RedisConnection connection(m_options);
        connection.start();
        RedisDecider decider(connection, config(), true);
        run({"SCRIPT", "FLUSH"});
        const std::optional<Decision> d = decideOnce(decider, key());
        QVERIFY(d);
        QCOMPARE(d->verdict, Verdict::Defer);
        QCOMPARE(decider.stats().scriptLoads, 1u);
        QVERIFY(decideOnce(decider, key()));
        QCOMPARE(decider.stats().scriptLoads, 1u); // cached again
    }

    void unreachableRedisFailsAtOnce()
    {
        RedisOptions o = m_options;
        o.port = 1; // nothing listens there
        RedisConnection connection(o);
        connection.start();
        RedisDecider decider(connection, config(), false);
        QTRY_COMPARE(connection.health(), RedisConnection::Health::Down);
        bool called = false;
        decider.decide(key(), [&](const Decision *d) {
            called = true;
            QVERIFY(!d);
        });
        QVERIFY(called); // at once, not after a timeout
        QCOMPARE(decider.stats().unavailable, 1u);
        QVERIFY(!decider.failOpen());
    }

    void stalledRedisTimesOutThenReconnects()
    {
        RedisOptions o = m_options;
        o.timeoutMs = 200;
        RedisConnection connection(o);
        connection.start();
        QTRY_VERIFY(connection.isUp());
        RedisDecider decider(connection, config(), true);
        m_redis.pause();
        bool called = false;
        bool answered = true;
        decider.decide(key(), [&](const Decision *d) {
            called = true;
            answered = d != nullptr;
        });
        QTRY_VERIFY_WITH_TIMEOUT(called, WaitMs);
        m_redis.resume();
        QVERIFY(!answered);
        QCOMPARE(connection.stats().timeouts, 1u);
        QTRY_VERIFY_WITH_TIMEOUT(connection.isUp(), WaitMs);
        QVERIFY(decideOnce(decider, key("after@sender.example")));
    }
};

QTEST_GUILESS_MAIN(TestRedisDecider)
#include "tst_redis_decider.moc"
