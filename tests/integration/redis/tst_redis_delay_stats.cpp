// SPDX-License-Identifier: GPL-3.0-or-later
// Delay analytics with the shared Redis store: a real greygated on a real redis-server
// (--store=redis://) counts the delay of a triplet that passed, as the Redis script measured
// it, and greygatectl's delay.stats reports it, as with the SQLite store.
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RedisTestServer.h"
#include "TestSupport.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisSyncClient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace greygate::test;

class RedisDelayStatsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QVERIFY(m_work.isValid());
    }

    void aPassDecidedByRedisIsCountedInDelayStats()
    {
        const QString dbdir = m_work.filePath(QStringLiteral("db"));
        DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated.log")));
        QString error;
        QVERIFY2(daemon.startOnFreePort(
                     program(QStringLiteral("greygated")),
                     [&](quint16 port) {
                         return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                            QStringLiteral("--dbdir=") + dbdir,
                                            QStringLiteral("--store=") + m_redis.url(),
                                            QStringLiteral("--control-listen=127.0.0.1:0")};
                     },
                     30'000, &error),
                 qPrintable(error));
        const QRegularExpression re(
            QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
        quint16 controlPort = 0;
        QVERIFY(QTest::qWaitFor(
            [&] {
                const QRegularExpressionMatch m = re.match(daemon.log());
                controlPort = m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
                return controlPort != 0;
            },
            10'000));

        PolicyClient postfix;
        QVERIFY(postfix.connectTo(daemon.port()));
        std::optional<QByteArray> answer =
            postfix.askRcpt("198.51.100.9", "a@slow.test", "carol@corp.test", "I1");
        QVERIFY(answer && answer->startsWith("DEFER_IF_PERMIT"));
        // Ten minutes pass for the triplet: its first sight moves back (Redis's TIME is the
        // clock the script measures with).
        {
            RedisSyncClient sync;
            QVERIFY2(sync.connect(*RedisOptions::fromUrl(m_redis.url(), &error), &error),
                     qPrintable(error));
            const QByteArray key =
                RedisKeys::triplet({"198.51.100.0/24", "a@slow.test", "carol@corp.test"});
            const qint64 first =
                RedisSyncClient::integer(sync.command({"HGET", key, "first"}, &error).get());
            QVERIFY2(first > 0, "the triplet is not in Redis");
            QVERIFY(sync.command({"HSET", key, "first", QByteArray::number(first - 600)}, &error));
        }
        answer = postfix.askRcpt("198.51.100.9", "a@slow.test", "carol@corp.test", "I2");
        QVERIFY2(answer && answer->startsWith("PREPEND X-Greylist: delayed 60"),
                 answer ? answer->constData() : "no answer");

        QJsonObject delay;
        const QStringList ctl{
            QStringLiteral("--proxy"),      QStringLiteral("ws://127.0.0.1:%1").arg(controlPort),
            QStringLiteral("--token-file"), dbdir + QStringLiteral("/control.token"),
            QStringLiteral("--timeout"),    QStringLiteral("20"),
            QStringLiteral("--json"),       QStringLiteral("delay")};
        // The daemon's watch reads the events once a second.
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         const ProgramResult r =
                             runProgram(program(QStringLiteral("greygatectl")), ctl, 30'000);
                         delay = QJsonDocument::fromJson(r.out).object();
                         return delay.value(QStringLiteral("total"))
                                    .toObject()
                                    .value(QStringLiteral("count"))
                                    .toInteger() == 1;
                     },
                     10'000),
                 QJsonDocument(delay).toJson().constData());
        const qint64 max = delay.value(QStringLiteral("total"))
                               .toObject()
                               .value(QStringLiteral("max"))
                               .toInteger();
        QVERIFY2(max >= 600 && max <= 620, qPrintable(QString::number(max)));
        QCOMPARE(delay.value(QStringLiteral("domains"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("domain"))
                     .toString(),
                 QStringLiteral("slow.test"));
        QVERIFY(daemon.terminate());
    }

private:
    RedisTestServer m_redis;
    QTemporaryDir m_work;
};

QTEST_GUILESS_MAIN(RedisDelayStatsTest)
#include "tst_redis_delay_stats.moc"
