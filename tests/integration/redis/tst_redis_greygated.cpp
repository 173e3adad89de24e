// SPDX-License-Identifier: GPL-3.0-or-later
// Several greygated processes sharing one real redis-server (--store=redis://), spoken to with
// the policy protocol as Postfix would: a triplet first seen by A passes when retried to B
// after the delay; a policy imported through A applies on B; Redis killed and restarted under
// a bounded load with each proxy's --redis-fail observed and no crash; --migrate-store from
// an SQLite dbdir into Redis and back.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RedisTestServer.h"
#include "TestSupport.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisSyncClient.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>
#include <thread>
#include <unistd.h>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int StartTimeoutMs = 30'000;
const QByteArray kOutside = "198.51.100.9";

QString greygated()
{
    return program(QStringLiteral("greygated"));
}

// A root greygated refuses to keep root unless told (when that option exists in this build).
QStringList userArgs()
{
    static const QStringList args = [] {
        if (::geteuid() != 0)
            return QStringList();
        const ProgramResult help = runProgram(greygated(), {QStringLiteral("--help")}, 10'000);
        return help.out.contains("--user") ? QStringList{QStringLiteral("--user=root")}
                                           : QStringList();
    }();
    return args;
}

// One HTTP GET to greygated's metrics server: the status line and the body.
QByteArray httpGet(quint16 port, const QByteArray &path)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5'000))
        return "NO CONNECTION";
    socket.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray reply;
    QDeadlineTimer deadline(5'000);
    while (!deadline.hasExpired() && socket.state() == QAbstractSocket::ConnectedState) {
        socket.waitForReadyRead(100);
        reply += socket.readAll();
    }
    return reply + socket.readAll();
}

QByteArray ask(PolicyClient &client, const QByteArray &sender, const QByteArray &recipient)
{
    return client.askRcpt(kOutside, sender, recipient)
        .value_or("NO ANSWER: " + client.errorString().toUtf8());
}

} // namespace

class TestRedisGreygated : public QObject
{
    Q_OBJECT

private:
    RedisTestServer m_redis;
    QTemporaryDir m_work;
    int m_dirs = 0;

    bool start(DaemonProcess &daemon, const QStringList &extra, QString *error)
    {
        const QString dbdir = m_work.filePath(QStringLiteral("db%1").arg(++m_dirs));
        return daemon.startOnFreePort(
            greygated(),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                   QStringLiteral("--dbdir=") + dbdir,
                                   QStringLiteral("--store=") + m_redis.url(),
                                   QStringLiteral("--redis-timeout-ms=300")} +
                       userArgs() + extra;
            },
            StartTimeoutMs, error);
    }
    void run(const QByteArrayList &argv)
    {
        RedisSyncClient sync;
        QString error;
        QVERIFY2(sync.connect(*RedisOptions::fromUrl(m_redis.url(), &error), &error),
                 qPrintable(error));
        QVERIFY2(sync.command(argv, &error), qPrintable(error));
    }
    // Time passes for a triplet: its first sight moves back (Redis's TIME is the clock).
    void age(const TripletKey &key, qint64 seconds)
    {
        RedisSyncClient sync;
        QString error;
        QVERIFY2(sync.connect(*RedisOptions::fromUrl(m_redis.url(), &error), &error),
                 qPrintable(error));
        const QByteArray k = RedisKeys::triplet(key);
        const qint64 first =
            RedisSyncClient::integer(sync.command({"HGET", k, "first"}, &error).get());
        QVERIFY2(first > 0, "the triplet is not in Redis");
        QVERIFY(sync.command({"HSET", k, "first", QByteArray::number(first - seconds)}, &error));
    }

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QVERIFY(m_work.isValid());
    }
    void init() { run({"FLUSHALL"}); }

    void tripletFirstSeenByAPassesWhenRetriedToBAfterTheDelay()
    {
        DaemonProcess a(m_work.filePath(QStringLiteral("a.log")));
        DaemonProcess b(m_work.filePath(QStringLiteral("b.log")));
        QString error;
        QVERIFY2(start(a, {}, &error), qPrintable(error));
        QVERIFY2(start(b, {}, &error), qPrintable(error));
        PolicyClient toA, toB;
        QVERIFY(toA.connectTo(a.port()));
        QVERIFY(toB.connectTo(b.port()));

        QVERIFY(ask(toA, "alice@sender.test", "bob@example.com").startsWith("DEFER_IF_PERMIT"));
        // Too early on B as well: the same triplet, the same clock.
        QVERIFY(ask(toB, "alice@sender.test", "bob@example.com").startsWith("DEFER_IF_PERMIT"));
        age({"198.51.100.0/24", "alice@sender.test", "bob@example.com"}, 61);
        const QByteArray passed = ask(toB, "alice@sender.test", "bob@example.com");
        QVERIFY2(passed.startsWith("PREPEND X-Greylist: delayed 6"), passed.constData());
        QCOMPARE(ask(toA, "alice@sender.test", "bob@example.com"), QByteArray("DUNNO"));
        QVERIFY2(a.isRunning() && b.isRunning(), qPrintable(a.log() + b.log()));
    }

    void policyImportedThroughAAppliesOnB()
    {
        DaemonProcess b(m_work.filePath(QStringLiteral("b2.log")));
        QString error;
        QVERIFY2(start(b, {}, &error), qPrintable(error));
        PolicyClient toB;
        QVERIFY(toB.connectTo(b.port()));
        QVERIFY(ask(toB, "spam@bad.test", "bob@example.com").startsWith("DEFER_IF_PERMIT"));

        const QString policies = m_work.filePath(QStringLiteral("policies.json"));
        QVERIFY(writeFile(policies, R"({"groups": [
            {"name": "Blocked Senders", "members": ["spam@bad.test"]}]})"));
        DaemonProcess a(m_work.filePath(QStringLiteral("a2.log")));
        QVERIFY2(start(a, {QStringLiteral("--policies=") + policies}, &error), qPrintable(error));
        // A imported the document into Redis before it listened; B hears of it on gg:changes.
        QElapsedTimer applied;
        applied.start();
        QByteArray answer;
        for (int i = 0; i < 500 && applied.elapsed() < 5'000; ++i) {
            answer = ask(toB, "spam@bad.test", "bob@example.com");
            if (answer.startsWith("REJECT"))
                break;
            QTest::qWait(10);
        }
        QCOMPARE(answer, QByteArray("REJECT 5.7.1 Sender blocked by policy"));
        qInfo("policy applied on B %lld ms after A was ready", applied.elapsed());
        QVERIFY2(applied.elapsed() < 3'000, "the change took longer than a loaded second");
        QTRY_VERIFY(b.log().contains(QStringLiteral("policies reloaded from redis")));
    }

    void redisKilledAndRestartedUnderLoadFailsAsConfiguredWithoutACrash()
    {
        DaemonProcess open(m_work.filePath(QStringLiteral("open.log")));
        DaemonProcess closed(m_work.filePath(QStringLiteral("closed.log")));
        QString error;
        QVERIFY2(start(open, {QStringLiteral("--redis-fail=open")}, &error), qPrintable(error));
        const quint16 metrics = freeTcpPort();
        QVERIFY2(start(closed,
                       {QStringLiteral("--redis-fail=closed"),
                        QStringLiteral("--metrics-listen=127.0.0.1:%1").arg(metrics)},
                       &error),
                 qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(
            httpGet(metrics, "/metrics").contains("greygate_store_redis_health{state=\"up\"} 1"),
            10'000);

        // A bounded load on both, from two threads, while Redis goes away and comes back.
        std::atomic<bool> stop{false};
        std::atomic<int> unavailableOpen{0}, unavailableClosed{0}, greylisted{0}, lost{0};
        const auto load = [&](quint16 port, bool failOpen) {
            PolicyClient client;
            if (!client.connectTo(port))
                return;
            for (int i = 0; i < 20'000 && !stop; ++i) {
                const QByteArray rcpt = "r" + QByteArray::number(i % 500) + "@example.com";
                const std::optional<QByteArray> a =
                    client.askRcpt(kOutside, "load@sender.test", rcpt, {}, 5'000);
                if (!a) {
                    ++lost;
                    if (!client.connectTo(port))
                        return;
                    continue;
                }
                if (a->contains("state unavailable"))
                    ++unavailableClosed;
                else if (*a == "DUNNO" && failOpen)
                    ++unavailableOpen; // nothing here is passed yet: DUNNO is the fail mode
                else if (a->startsWith("DEFER_IF_PERMIT Greylisted"))
                    ++greylisted;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        };
        std::thread t1(load, open.port(), true), t2(load, closed.port(), false);
        QTRY_VERIFY_WITH_TIMEOUT(greylisted > 20, 10'000);
        m_redis.kill();
        QTRY_VERIFY_WITH_TIMEOUT(unavailableOpen > 5 && unavailableClosed > 5, 10'000);
        // The health state shows it, and /healthz fails while Redis is away.
        QVERIFY(
            httpGet(metrics, "/metrics").contains("greygate_store_redis_health{state=\"up\"} 0"));
        QVERIFY(httpGet(metrics, "/healthz").startsWith("HTTP/1.1 503"));
        QVERIFY2(m_redis.restart(&error), qPrintable(error));
        const int before = greylisted;
        QTRY_VERIFY_WITH_TIMEOUT(greylisted > before + 20, 15'000);
        QVERIFY(httpGet(metrics, "/healthz").startsWith("HTTP/1.1 200"));
        stop = true;
        t1.join();
        t2.join();
        QVERIFY2(open.isRunning(), qPrintable(open.log()));
        QVERIFY2(closed.isRunning(), qPrintable(closed.log()));
        QCOMPARE(lost.load(), 0); // every request answered: by Redis or by the failure mode
        QVERIFY(open.log().contains(QStringLiteral("mode=open")));
        QVERIFY(closed.log().contains(QStringLiteral("mode=closed")));
        QVERIFY(open.terminate());
        QCOMPARE(open.exitCode(), 0);
        QVERIFY(closed.terminate());
        QCOMPARE(closed.exitCode(), 0);
    }

    void migrateStoreCopiesAnSqliteDbdirIntoRedisAndBack()
    {
        // A triplet deferred by an SQLite greygated...
        const QString sqliteDir = m_work.filePath(QStringLiteral("sqlite"));
        DaemonProcess sqlite(m_work.filePath(QStringLiteral("sqlite.log")));
        QString error;
        QVERIFY2(sqlite.startOnFreePort(
                     greygated(),
                     [&](quint16 port) {
                         return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                            QStringLiteral("--dbdir=") + sqliteDir} +
                                userArgs();
                     },
                     StartTimeoutMs, &error),
                 qPrintable(error));
        {
            PolicyClient client;
            QVERIFY(client.connectTo(sqlite.port()));
            QVERIFY(ask(client, "moved@sender.test", "bob@example.com").startsWith("DEFER_IF"));
        }
        QVERIFY(sqlite.terminate());

        // ... copied into Redis by --migrate-store ...
        ProgramResult migrated = runProgram(
            greygated(),
            QStringList{QStringLiteral("--migrate-store"), sqliteDir, m_redis.url()} + userArgs(),
            60'000);
        QVERIFY2(migrated.finished && migrated.exitCode == 0, migrated.err.constData());
        QVERIFY2(migrated.err.contains("store migrated") && migrated.err.contains("triplets=1"),
                 migrated.err.constData());

        // ... is known to a Redis greygated: its retry passes after the delay.
        DaemonProcess redis(m_work.filePath(QStringLiteral("migrated.log")));
        QVERIFY2(start(redis, {}, &error), qPrintable(error));
        PolicyClient client;
        QVERIFY(client.connectTo(redis.port()));
        age({"198.51.100.0/24", "moved@sender.test", "bob@example.com"}, 61);
        const QByteArray passed = ask(client, "moved@sender.test", "bob@example.com");
        QVERIFY2(passed.startsWith("PREPEND X-Greylist"), passed.constData());

        // And back into a fresh dbdir.
        const QString back = m_work.filePath(QStringLiteral("back"));
        migrated = runProgram(greygated(),
                              QStringList{QStringLiteral("--migrate-store"), m_redis.url(), back} +
                                  userArgs(),
                              60'000);
        QVERIFY2(migrated.finished && migrated.exitCode == 0, migrated.err.constData());
        QVERIFY2(migrated.err.contains("triplets=1"), migrated.err.constData());
        QVERIFY(QFile::exists(back + QStringLiteral("/greygate.db")));
    }

    // greygatectl lists the shared queue through the control API (answered asynchronously
    // from Redis), not this host's empty memory.
    void greygatectlListsTheSharedQueue()
    {
        DaemonProcess a(m_work.filePath(QStringLiteral("ctl.log")));
        QString error;
        QVERIFY2(start(a, {QStringLiteral("--control-listen=127.0.0.1:0")}, &error),
                 qPrintable(error));
        const QRegularExpression re(
            QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
        quint16 port = 0;
        QTRY_VERIFY_WITH_TIMEOUT((port = quint16(re.match(a.log()).captured(1).toUInt())) != 0,
                                 10'000);
        const QString dbdir = m_work.filePath(QStringLiteral("db%1").arg(m_dirs));
        const auto ctl = [&](const QStringList &args) {
            return runProgram(program(QStringLiteral("greygatectl")),
                              QStringList{QStringLiteral("--proxy"),
                                          QStringLiteral("ws://127.0.0.1:%1").arg(port),
                                          QStringLiteral("--token-file"),
                                          dbdir + QStringLiteral("/control.token")} +
                                  args,
                              20'000);
        };
        const ProgramResult status = ctl({QStringLiteral("status")});
        QVERIFY2(status.finished && status.exitCode == 0, status.err.constData());
        PolicyClient toA;
        QVERIFY(toA.connectTo(a.port()));
        QVERIFY(ask(toA, "dave@sender.test", "bob@example.com").startsWith("DEFER_IF_PERMIT"));
        const ProgramResult list = ctl({QStringLiteral("queue"), QStringLiteral("list")});
        QVERIFY(list.finished);
        QVERIFY2(list.exitCode == 0, list.err.constData());
        QVERIFY2(list.out.contains("dave@sender.test"), list.out.constData());
        QVERIFY2(a.isRunning(), qPrintable(a.log()));
    }

    void badStoreUrlIsAUsageError()
    {
        const ProgramResult r =
            runProgram(greygated(), {QStringLiteral("--store=redis://:pw@host:1")}, 10'000);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--redis-password-file"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestRedisGreygated)
#include "tst_redis_greygated.moc"
