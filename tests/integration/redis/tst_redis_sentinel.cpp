// SPDX-License-Identifier: GPL-3.0-or-later
// greygated behind Redis Sentinel, with real processes on loopback: a primary, its replica
// and a Sentinel (redis-server --sentinel) watching them. greygated finds the primary
// through the Sentinel (--store=redis-sentinel://), a triplet greylisted there is replicated;
// the primary is killed, the Sentinel promotes the replica, greygated follows (fail closed
// meanwhile) and the sender's retry passes on the state the replica received. A Sentinel
// that does not know the master name, and a Redis Cluster node, are refused at start with
// the reason.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RedisTestServer.h"
#include "TestSupport.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisSyncClient.h"

#include <QDeadlineTimer>
#include <QTemporaryDir>
#include <QTest>
#include <hiredis/hiredis.h>
#include <unistd.h>

using namespace greygate;
using namespace greygate::test;

namespace {

const QByteArray kClient = "198.51.100.9";
const TripletKey kTriplet{"198.51.100.0/24", "alice@sender.test", "bob@example.com"};

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

RedisOptions direct(quint16 port, bool sentinel = false)
{
    RedisOptions o;
    o.host = QStringLiteral("127.0.0.1");
    o.port = port;
    o.timeoutMs = 2000;
    o.sentinelLink = sentinel;
    return o;
}

// One command on a fresh blocking connection; nullptr when it fails.
RedisSyncClient::Reply run(quint16 port, const QByteArrayList &argv, bool sentinel = false)
{
    RedisSyncClient c;
    QString error;
    if (!c.connect(direct(port, sentinel), &error))
        return nullptr;
    return c.command(argv, &error);
}

} // namespace

class TestRedisSentinel : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_work;

private Q_SLOTS:
    void initTestCase()
    {
        if (!RedisTestServer::available())
            QSKIP("redis-server is not installed (apt-get install redis-server)");
        QVERIFY(m_work.isValid());
    }

    void failoverIsFollowedAndTheReplicatedStateStillDecides()
    {
        RedisTestServer primary;
        RedisTestServer replica;
        RedisTestServer sentinel;
        QString error;
        QVERIFY2(primary.start(&error), qPrintable(error));
        replica.setExtraArgs({QStringLiteral("--replicaof"), QStringLiteral("127.0.0.1"),
                              QString::number(primary.port())});
        QVERIFY2(replica.start(&error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(
            RedisSyncClient::string(run(replica.port(), {"INFO", "replication"}).get())
                .contains("master_link_status:up"),
            15'000);
        QVERIFY2(sentinel.startSentinel("gg", primary.port(), &error), qPrintable(error));
        // The Sentinel learns of the replica from the primary's INFO.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const RedisSyncClient::Reply r =
                    run(sentinel.port(), {"SENTINEL", "replicas", "gg"}, true);
                return r && r->elements == 1;
            }(),
            20'000);
        const QString url = QStringLiteral("redis-sentinel://127.0.0.1:%1/gg").arg(sentinel.port());

        // A master name the Sentinels do not know is refused at start, saying so.
        const ProgramResult unknown = runProgram(
            program(QStringLiteral("greygated")),
            QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(freeTcpPort()),
                        QStringLiteral("--dbdir=") + m_work.filePath(QStringLiteral("x")),
                        QStringLiteral("--store=redis-sentinel://127.0.0.1:%1/nosuch")
                            .arg(sentinel.port())} +
                keepRoot(),
            20'000);
        QVERIFY(unknown.finished);
        QVERIFY(unknown.exitCode != 0);
        QVERIFY2(unknown.err.contains("does not know master"), unknown.err.constData());

        DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated.log")));
        QVERIFY2(daemon.startOnFreePort(
                     program(QStringLiteral("greygated")),
                     [&](quint16 port) {
                         return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                            QStringLiteral("--dbdir=") +
                                                m_work.filePath(QStringLiteral("db")),
                                            QStringLiteral("--store=") + url,
                                            QStringLiteral("--redis-timeout-ms=300"),
                                            QStringLiteral("--redis-fail=closed"),
                                            QStringLiteral("--delay=60")} +
                                keepRoot();
                     },
                     30'000, &error),
                 qPrintable(error));
        PolicyClient client;
        QVERIFY(client.connectTo(daemon.port()));
        const auto ask = [&] {
            return client.askRcpt(kClient, kTriplet.sender, kTriplet.recipient)
                .value_or("NO ANSWER: " + client.errorString().toUtf8());
        };
        const QByteArray first = ask();
        QVERIFY2(first.startsWith("DEFER_IF_PERMIT Greylisted"), first.constData());

        // The delay is over (first sight moved back on the primary), and the replica has it.
        const QByteArray key = RedisKeys::triplet(kTriplet);
        const qint64 seen =
            RedisSyncClient::integer(run(primary.port(), {"HGET", key, "first"}).get());
        QVERIFY(seen > 0);
        QVERIFY(run(primary.port(), {"HSET", key, "first", QByteArray::number(seen - 61)}));
        QTRY_COMPARE_WITH_TIMEOUT(
            RedisSyncClient::integer(run(replica.port(), {"HGET", key, "first"}).get()), seen - 61,
            10'000);

        primary.kill();
        QTRY_COMPARE_WITH_TIMEOUT(
            [&] {
                const RedisSyncClient::Reply r =
                    run(sentinel.port(), {"SENTINEL", "get-master-addr-by-name", "gg"}, true);
                return r && r->elements == 2 ? RedisSyncClient::integer(r->element[1]) : 0;
            }(),
            qint64(replica.port()), 30'000);

        // greygated follows the switch; meanwhile it fails closed (a deferral, never a pass
        // from nothing). Bounded: one question every 100 ms for 20 s at most.
        QByteArray answer;
        QDeadlineTimer deadline(20'000);
        while (!deadline.hasExpired()) {
            answer = ask();
            if (!answer.startsWith("DEFER_IF_PERMIT Greylisting state unavailable"))
                break;
            QTest::qWait(100);
        }
        QVERIFY2(answer.startsWith("PREPEND X-Greylist: delayed 6"),
                 QByteArray(answer + "\n" + daemon.log().toUtf8()).constData());
        // The log is buffered for up to 100 ms: polled.
        QTRY_VERIFY2_WITH_TIMEOUT(
            daemon.log().contains(QStringLiteral("primary 127.0.0.1:%1").arg(replica.port())) &&
                daemon.log().contains(u"redis sentinel switched the primary"),
            qPrintable(daemon.log()), 5'000);
        // New state goes to the new primary.
        const QByteArray other =
            client.askRcpt(kClient, "carol@sender.test", "bob@example.com").value_or("NO ANSWER");
        QVERIFY2(other.startsWith("DEFER_IF_PERMIT Greylisted"), other.constData());
        QCOMPARE(RedisSyncClient::integer(
                     run(replica.port(),
                         {"EXISTS", RedisKeys::triplet({kTriplet.client, "carol@sender.test",
                                                        kTriplet.recipient})})
                         .get()),
                 1);
        QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    }

    void clusterNodeIsRefusedAtStartWithTheReason()
    {
        RedisTestServer node;
        node.setExtraArgs({QStringLiteral("--cluster-enabled"), QStringLiteral("yes"),
                           QStringLiteral("--cluster-config-file"), QStringLiteral("nodes.conf")});
        QString error;
        QVERIFY2(node.start(&error), qPrintable(error));
        const ProgramResult r = runProgram(
            program(QStringLiteral("greygated")),
            QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(freeTcpPort()),
                        QStringLiteral("--dbdir=") + m_work.filePath(QStringLiteral("c")),
                        QStringLiteral("--store=") + node.url()} +
                keepRoot(),
            20'000);
        QVERIFY(r.finished);
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("Cluster node") && r.err.contains("slots"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestRedisSentinel)
#include "tst_redis_sentinel.moc"
