// SPDX-License-Identifier: GPL-3.0-or-later
// The greylist queue of the shared Redis store (RedisQueue) on a real redis-server: listings
// filtered, sorted and paged as GreylistEngine::query() does, over more triplets than one
// SCAN step; closed windows and the page-depth bound; release and delete atomically on the
// triplet's key, as the decision script sees them; a Redis that is away answers an error.

#include "RedisTestServer.h"
#include "greylist/GreylistEngine.h"
#include "store/redis/RedisConnection.h"
#include "store/redis/RedisDecider.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisQueue.h"
#include "store/redis/RedisSyncClient.h"

#include <QSet>
#include <QTest>
#include <hiredis/hiredis.h>
#include <memory>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int WaitMs = 20'000;

struct Listed
{
    bool answered = false;
    std::optional<TripletPage> page;
    QString error;
};

} // namespace

class TestRedisQueue : public QObject
{
    Q_OBJECT

private:
    RedisTestServer m_redis;
    RedisOptions m_options;
    GreylistConfig m_config;
    std::unique_ptr<RedisConnection> m_connection;
    std::unique_ptr<RedisQueue> m_queue;
    RedisSyncClient m_sync;
    qint64 m_now = 0;

    // A triplet as the decision script leaves it, times relative to Redis's clock.
    void put(const TripletKey &key, bool passed, qint64 firstAgo, qint64 lastAgo, int attempts)
    {
        const QByteArray k = RedisKeys::triplet(key);
        const qint64 first = m_now - firstAgo;
        QString error;
        QVERIFY2(
            m_sync.command({"HSET", k, "status", passed ? "1" : "0", "first",
                            QByteArray::number(first), "last", QByteArray::number(m_now - lastAgo),
                            "passed", passed ? QByteArray::number(m_now - lastAgo) : "0",
                            "attempts", QByteArray::number(attempts)},
                           &error),
            qPrintable(error));
        if (!passed) {
            QVERIFY(m_sync.command({"ZADD", RedisKeys::due(),
                                    QByteArray::number(first + m_config.retryWindow),
                                    RedisKeys::dueMember(first, k)},
                                   &error));
        }
    }
    Listed list(const TripletQuery &q)
    {
        Listed out;
        m_queue->list(q, [&out](std::optional<TripletPage> page, const QString &error) {
            out.answered = true;
            out.page = std::move(page);
            out.error = error;
        });
        (void)QTest::qWaitFor([&] { return out.answered; }, WaitMs);
        return out;
    }
    std::optional<RedisQueue::Change> change(bool release, const TripletKey &key)
    {
        bool answered = false;
        std::optional<RedisQueue::Change> result;
        const auto done = [&](std::optional<RedisQueue::Change> r, const QString &) {
            answered = true;
            result = r;
        };
        if (release)
            m_queue->release(key, done);
        else
            m_queue->remove(key, done);
        (void)QTest::qWaitFor([&] { return answered; }, WaitMs);
        return result;
    }
    static TripletKey key(int i, const QByteArray &domain = "sender.example")
    {
        return TripletKey{"192.0.2.0/24", "user" + QByteArray::number(i) + "@" + domain,
                          "rcpt@corp.example"};
    }

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QString error;
        m_options = *RedisOptions::fromUrl(m_redis.url(), &error);
        m_options.timeoutMs = 2000;
        QVERIFY2(m_sync.connect(m_options, &error), qPrintable(error));
        m_config.delay = 300;
        m_config.retryWindow = 3600;
        m_config.passedLifetime = 86400;
    }
    void init()
    {
        QString error;
        QVERIFY(m_sync.command({"FLUSHALL"}, &error));
        const RedisSyncClient::Reply t = m_sync.command({"TIME"}, &error);
        QVERIFY(t);
        m_now = RedisSyncClient::integer(t->element[0]);
        m_connection = std::make_unique<RedisConnection>(m_options);
        m_connection->start();
        QTRY_VERIFY(m_connection->isUp());
        m_queue = std::make_unique<RedisQueue>(*m_connection, m_config);
    }
    void cleanup()
    {
        m_queue.reset();
        m_connection.reset();
    }

    void emptyStoreListsNothing()
    {
        const Listed l = list(TripletQuery{});
        QVERIFY2(l.page, qPrintable(l.error));
        QCOMPARE(l.page->total, 0);
        QVERIFY(l.page->records.isEmpty());
    }

    void filtersAndStatesSelectAsInMemory()
    {
        put(key(1), false, 10, 10, 1);
        put(key(2), false, 20, 5, 3);
        put(key(3), true, 900, 100, 4);
        put(key(4, "other.example"), true, 900, 50, 2);
        // A window that closed (waiting for the sweep's claim) and a passed one past its
        // lifetime are no longer held.
        put(key(5), false, 3700, 3650, 2);
        put(key(6), true, 200'000, 90'000, 2);
        put(TripletKey{"198.51.100.7", "x@y.example", "rcpt@corp.example"}, false, 1, 1, 1);

        TripletQuery any;
        Listed l = list(any);
        QVERIFY2(l.page, qPrintable(l.error));
        QCOMPARE(l.page->total, 5);

        TripletQuery deferred;
        deferred.state = TripletQuery::State::Deferred;
        l = list(deferred); // through gg:due
        QCOMPARE(l.page->total, 3);
        for (const TripletRecord &r : std::as_const(l.page->records))
            QCOMPARE(r.state.status, TripletStatus::Deferred);

        TripletQuery passed;
        passed.state = TripletQuery::State::Passed;
        l = list(passed);
        QCOMPARE(l.page->total, 2);

        TripletQuery client;
        client.client = "198.51.100.7";
        l = list(client);
        QCOMPARE(l.page->total, 1);
        QCOMPARE(l.page->records.at(0).key.sender, QByteArray("x@y.example"));

        TripletQuery domain;
        domain.domain = "other.example";
        l = list(domain);
        QCOMPARE(l.page->total, 1);
        QCOMPARE(l.page->records.at(0).state.attempts, 2u);
        QCOMPARE(l.page->records.at(0).state.lastSeen, m_now - 50);

        TripletQuery sender;
        sender.sender = "user2@";
        l = list(sender);
        QCOMPARE(l.page->total, 1);
        QCOMPARE(l.page->records.at(0).state.attempts, 3u);
    }

    // More triplets than one SCAN step, listed in pages that neither overlap nor skip, in
    // the asked order, with the memory bound (only the best offset + limit kept) in play.
    void pagesOfAManyStepWalkAreSortedAndDisjoint()
    {
        QString error;
        QList<QByteArrayList> commands;
        constexpr int n = 2500;
        for (int i = 0; i < n; ++i) {
            commands.append({"HSET", RedisKeys::triplet(key(i)), "status", "0", "first",
                             QByteArray::number(m_now - 10), "last",
                             QByteArray::number(m_now - (i % 97)), "passed", "0", "attempts",
                             QByteArray::number(1 + i % 5)});
        }
        QVERIFY2(m_sync.pipeline(commands, {}, &error), qPrintable(error));
        QSet<QByteArray> seen;
        qint64 previous = std::numeric_limits<qint64>::max();
        for (qsizetype offset = 0; offset < n; offset += 700) {
            TripletQuery q;
            q.sort = TripletQuery::SortKey::LastSeen;
            q.descending = true;
            q.offset = offset;
            q.limit = 700;
            const Listed l = list(q);
            QVERIFY2(l.page, qPrintable(l.error));
            QCOMPARE(l.page->total, n);
            QCOMPARE(l.page->records.size(), std::min<qsizetype>(700, n - offset));
            for (const TripletRecord &r : std::as_const(l.page->records)) {
                QVERIFY(r.state.lastSeen <= previous);
                previous = r.state.lastSeen;
                QVERIFY2(!seen.contains(r.key.sender), r.key.sender.constData());
                seen.insert(r.key.sender);
            }
        }
        QCOMPARE(seen.size(), n);

        TripletQuery top;
        top.sort = TripletQuery::SortKey::Attempts;
        top.descending = false;
        top.limit = 3;
        const Listed l = list(top);
        QCOMPARE(l.page->records.size(), 3);
        for (const TripletRecord &r : std::as_const(l.page->records))
            QCOMPARE(r.state.attempts, 1u);
    }

    void pagesBeyondTheBoundAreRefusedWithWhatToDo()
    {
        TripletQuery q;
        q.offset = RedisQueue::kMaxWindow;
        const Listed l = list(q);
        QVERIFY(!l.page);
        QVERIFY2(l.error.contains(u"narrow the filter"), qPrintable(l.error));
    }

    void releaseMakesADeferredTripletPassAndTheDecisionAgrees()
    {
        put(key(1), false, 5, 5, 1);
        QCOMPARE(change(true, key(1)), RedisQueue::Change::Done);
        QCOMPARE(change(true, key(1)), RedisQueue::Change::AlreadyPassed);
        QCOMPARE(change(true, key(9)), RedisQueue::Change::NotFound);
        TripletQuery passed;
        passed.state = TripletQuery::State::Passed;
        const Listed l = list(passed);
        QCOMPARE(l.page->total, 1);
        QVERIFY(l.page->records.at(0).state.passedAt >= m_now);

        // The sender's retry is accepted at once, by the decision script.
        RedisDecider decider(*m_connection, m_config, true);
        bool answered = false;
        Verdict verdict = Verdict::Defer;
        decider.decide(key(1), [&](const Decision *d) {
            answered = true;
            if (d)
                verdict = d->verdict;
        });
        QTRY_VERIFY(answered);
        QCOMPARE(verdict, Verdict::PassedKnown);
    }

    void deleteForgetsTheTripletAndClosedWindowsAreNotFound()
    {
        put(key(1), true, 900, 10, 3);
        put(key(2), false, 3700, 3690, 2); // window closed: the sweep's, not the admin's
        QCOMPARE(change(false, key(1)), RedisQueue::Change::Done);
        QCOMPARE(change(false, key(1)), RedisQueue::Change::NotFound);
        QCOMPARE(change(false, key(2)), RedisQueue::Change::NotFound);
        QCOMPARE(change(true, key(2)), RedisQueue::Change::NotFound);
        QString error;
        QCOMPARE(RedisSyncClient::integer(
                     m_sync.command({"EXISTS", RedisKeys::triplet(key(1))}, &error).get()),
                 0);
    }

    void redisAwayAnswersAnErrorAtOnce()
    {
        RedisOptions o = m_options;
        o.port = 1; // nothing listens there
        RedisConnection down(o);
        down.start();
        RedisQueue queue(down, m_config);
        bool answered = false;
        QString why;
        queue.list(TripletQuery{}, [&](std::optional<TripletPage> page, const QString &error) {
            answered = true;
            QVERIFY(!page);
            why = error;
        });
        QVERIFY(answered);
        QVERIFY2(why.contains(u"unreachable"), qPrintable(why));
        // A change waits for the connect at most (bounded by the timeout), then fails.
        bool changed = false;
        std::optional<RedisQueue::Change> result = RedisQueue::Change::Done;
        queue.remove(key(1), [&](std::optional<RedisQueue::Change> r, const QString &) {
            changed = true;
            result = r;
        });
        QTRY_VERIFY(changed);
        QVERIFY(!result);
    }
};

QTEST_GUILESS_MAIN(TestRedisQueue)
#include "tst_redis_queue.moc"
