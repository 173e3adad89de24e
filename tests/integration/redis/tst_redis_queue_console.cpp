// SPDX-License-Identifier: GPL-3.0-or-later
// The console's queue on a Redis-backed proxy: two greygated processes share a real
// redis-server; the console's QueueModel, connected to B's control API, lists the triplet
// that A greylisted (the queue is the shared one, not B's memory), follows B's attempts
// live, releases through B (A then accepts the retry) and deletes (the key leaves Redis).

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RedisTestServer.h"
#include "TestSupport.h"
#include "client/ProxyRegistry.h"
#include "models/QueueModel.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisSyncClient.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <unistd.h>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int WaitMs = 15'000;
const QByteArray kClient = "198.51.100.9";

QStringList keepRoot()
{
    static const QStringList args = [] {
        if (::geteuid() != 0)
            return QStringList();
        const ProgramResult help =
            runProgram(program(QStringLiteral("greygated")), {QStringLiteral("--help")}, 10'000);
        return help.out.contains("--user") ? QStringList{QStringLiteral("--user=root")}
                                           : QStringList();
    }();
    return args;
}

} // namespace

class TestRedisQueueConsole : public QObject
{
    Q_OBJECT

private:
    RedisTestServer m_redis;
    QTemporaryDir m_work;

    bool start(DaemonProcess &daemon, const QString &name, QString *error)
    {
        const QString dbdir = m_work.filePath(name);
        return daemon.startOnFreePort(
            program(QStringLiteral("greygated")),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                   QStringLiteral("--dbdir=") + dbdir,
                                   QStringLiteral("--store=") + m_redis.url(),
                                   QStringLiteral("--delay=3600"),
                                   QStringLiteral("--control-listen=127.0.0.1:0")} +
                       keepRoot();
            },
            30'000, error);
    }

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QVERIFY(m_work.isValid());
    }

    void consoleQueueBrowsesReleasesAndDeletesTheSharedGreylist()
    {
        DaemonProcess a(m_work.filePath(QStringLiteral("a.log")));
        DaemonProcess b(m_work.filePath(QStringLiteral("b.log")));
        QString error;
        QVERIFY2(start(a, QStringLiteral("a"), &error), qPrintable(error));
        QVERIFY2(start(b, QStringLiteral("b"), &error), qPrintable(error));
        PolicyClient toA, toB;
        QVERIFY(toA.connectTo(a.port()));
        QVERIFY(toB.connectTo(b.port()));
        const auto ask = [&](PolicyClient &c, const QByteArray &sender) {
            return c.askRcpt(kClient, sender, "bob@example.com").value_or("NO ANSWER");
        };
        QVERIFY(ask(toA, "alice@sender.test").startsWith("DEFER_IF_PERMIT"));

        // The console, connected to B only.
        quint16 controlPort = 0;
        const QRegularExpression listening(
            QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
        QTRY_VERIFY_WITH_TIMEOUT(
            (controlPort = quint16(listening.match(b.log()).captured(1).toUInt())) != 0, 10'000);
        QFile tokenFile(m_work.filePath(QStringLiteral("b/control.token")));
        QVERIFY(tokenFile.open(QIODevice::ReadOnly));
        ProxyRegistry registry;
        QueueModel queue(registry);
        QAbstractItemModelTester tester(&queue,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        ProxyEndpoint endpoint;
        endpoint.name = QStringLiteral("mx2");
        endpoint.url = QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(controlPort));
        endpoint.token = tokenFile.readAll().trimmed();
        QSignalSpy ready(&registry, &ProxyRegistry::ready);
        const QString proxyId = registry.add(endpoint);
        QVERIFY2(ready.wait(WaitMs), qPrintable(b.log()));
        QSignalSpy page(&queue, &QueueModel::pageLoaded);
        QSignalSpy failed(&queue, &QueueModel::loadFailed);
        queue.setProxyId(proxyId);
        QVERIFY2(page.wait(WaitMs),
                 failed.isEmpty() ? "no page" : qPrintable(failed.first().at(0).toString()));

        // A's deferral is in B's queue: the greylist is the shared one.
        QCOMPARE(queue.rowCount(), 1);
        QCOMPARE(queue.total(), 1);
        QCOMPARE(queue.entry(0).sender, QStringLiteral("alice@sender.test"));
        QCOMPARE(queue.entry(0).client, QStringLiteral("198.51.100.0/24"));
        QCOMPARE(queue.entry(0).state, QStringLiteral("deferred"));
        QCOMPARE(queue.entry(0).attempts, 1);
        QVERIFY(queue.entry(0).passAt - queue.entry(0).firstSeen == 3600);

        // An early retry through B shows live: the model refreshes the row from Redis.
        QVERIFY(ask(toB, "alice@sender.test").startsWith("DEFER_IF_PERMIT"));
        QTRY_COMPARE_WITH_TIMEOUT(queue.entry(0).attempts, 2, WaitMs);

        // Released through B: A accepts the retry at once.
        QSignalSpy done(&queue, &QueueModel::actionDone);
        QSignalSpy refused(&queue, &QueueModel::actionFailed);
        queue.release(0);
        QVERIFY2(done.wait(WaitMs),
                 refused.isEmpty() ? "no answer" : qPrintable(refused.first().at(2).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(queue.entry(0).state, QStringLiteral("passed"), WaitMs);
        QCOMPARE(ask(toA, "alice@sender.test"), QByteArray("DUNNO"));

        // A second deferral, listed after a reload, deleted through B: gone from Redis.
        QVERIFY(ask(toA, "carol@sender.test").startsWith("DEFER_IF_PERMIT"));
        page.clear();
        queue.reload();
        QVERIFY(page.wait(WaitMs));
        QCOMPARE(queue.total(), 2);
        protocol::TripletRef carol;
        carol.client = QStringLiteral("198.51.100.0/24");
        carol.sender = QStringLiteral("carol@sender.test");
        carol.recipient = QStringLiteral("bob@example.com");
        const int row = queue.rowOf(carol);
        QVERIFY(row >= 0);
        done.clear();
        queue.remove(row);
        QVERIFY2(done.wait(WaitMs),
                 refused.isEmpty() ? "no answer" : qPrintable(refused.last().at(2).toString()));
        QTRY_COMPARE_WITH_TIMEOUT(queue.rowCount(), 1, WaitMs);
        RedisSyncClient sync;
        QVERIFY2(sync.connect(*RedisOptions::fromUrl(m_redis.url(), &error), &error),
                 qPrintable(error));
        QCOMPARE(
            RedisSyncClient::integer(
                sync.command({"EXISTS", RedisKeys::triplet({"198.51.100.0/24", "carol@sender.test",
                                                            "bob@example.com"})},
                             &error)
                    .get()),
            0);
        // Its next attempt is greylisted afresh.
        QVERIFY(ask(toA, "carol@sender.test").startsWith("DEFER_IF_PERMIT"));
        QVERIFY2(a.isRunning() && b.isRunning(), qPrintable(a.log() + b.log()));
        QVERIFY(a.terminate());
        QVERIFY(b.terminate());
    }
};

QTEST_GUILESS_MAIN(TestRedisQueueConsole)
#include "tst_redis_queue_console.moc"
