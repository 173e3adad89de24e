// SPDX-License-Identifier: GPL-3.0-or-later
// kill -9 of greygated in Redis mode (--store=redis://) at random moments under policy load,
// 30 rounds (GREYGATE_CRASH_ROUNDS, GREYGATE_TEST_SEED to replay); redis-server stays up.
// Every answer during the load is the greylisting deferral a new triplet gets (never the
// failure mode's, Redis being up); after each restart the new greygated serves at once; at
// the end a sample of every round's answered triplets passes after the delay (the deferral
// was recorded in Redis before it was answered), while a never-seen triplet is deferred.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "PolicyLoad.h"
#include "RedisTestServer.h"
#include "RobustnessKit.h"
#include "TestSupport.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {
constexpr int DelaySeconds = 2;
constexpr int SampleChecked = 1500;

} // namespace

class CrashPolicydRedisTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void answeredTripletsSurviveKillMinus9OfGreygated();

private:
    bool startDaemon(DaemonProcess &daemon, QString *error);

    QTemporaryDir m_work;
    RedisTestServer m_redis;
};

bool CrashPolicydRedisTest::startDaemon(DaemonProcess &daemon, QString *error)
{
    return daemon.startOnFreePort(
        greygated(),
        [&](quint16 port) {
            return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                               QStringLiteral("--dbdir=") + m_work.filePath(QStringLiteral("db")),
                               QStringLiteral("--store=") + m_redis.url(),
                               QStringLiteral("--redis-fail=open"),
                               QStringLiteral("--delay=%1").arg(DelaySeconds),
                               QStringLiteral("--auto-whitelist-clients=0"),
                               QStringLiteral("--user=root")};
        },
        30'000, error);
}

void CrashPolicydRedisTest::answeredTripletsSurviveKillMinus9OfGreygated()
{
    GREYGATE_START_REDIS(m_redis);
    QVERIFY(m_work.isValid());
    QString error;
    QRandomGenerator random(testSeed());

    QList<LoadTriplet> answered;
    QElapsedTimer sinceLastAnswer;
    const int roundCount = crashRounds();
    for (int round = 0; round < roundCount; ++round) {
        DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated-%1.log").arg(round)));
        QVERIFY2(startDaemon(daemon, &error), qPrintable(error));
        PolicyLoad::Options options;
        options.clients = 3;
        options.maxRequestsPerClient = 3'000;
        options.runMs = 20'000;
        options.tag = letters(quint64(round));
        // Redis is up: fail-open's DUNNO would mean a decision that was not recorded.
        PolicyLoad load(daemon.port(), options,
                        [](const QByteArray &a) { return a.startsWith("DEFER_IF_PERMIT"); });
        load.start();
        QVERIFY2(load.waitForAnswers(1, 20'000), qPrintable(daemon.log()));
        const int killAfterMs = 50 + int(random.bounded(700));
        QThread::msleep(quint64(killAfterMs));
        daemon.kill();
        load.stop();
        sinceLastAnswer.start();
        QCOMPARE(daemon.exitStatus(), QProcess::CrashExit);
        QVERIFY2(load.refused() == 0, qPrintable(load.failures().join(u'\n')));
        answered += load.answeredTriplets();
        qInfo("round %d: killed after %d ms, %lld answered", round, killAfterMs,
              qlonglong(load.answered()));
    }
    QVERIFY(!answered.isEmpty());

    DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated-final.log")));
    QVERIFY2(startDaemon(daemon, &error), qPrintable(error));
    const qint64 waitMs = (DelaySeconds + 1) * 1000 - sinceLastAnswer.elapsed();
    if (waitMs > 0)
        QThread::msleep(quint64(waitMs));
    QString askError;
    const QStringList deferred =
        deferredAmong(daemon.port(), answered, SampleChecked, random, &askError);
    QVERIFY2(askError.isEmpty(), qPrintable(askError));
    QVERIFY2(deferred.isEmpty(), qPrintable(deferred.join(u'\n')));
    PolicyClient policy;
    QVERIFY(policy.connectTo(daemon.port()));
    const auto unseen = policy.askRcpt("198.51.100.1", "never-seen@load.example", "n@dest.example");
    QVERIFY(unseen && unseen->startsWith("DEFER_IF_PERMIT Greylisted"));
    qInfo("%lld answered triplets over %d kills, %d sampled: all pass after the delay",
          qlonglong(answered.size()), roundCount, SampleChecked);
    policy.close();
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(CrashPolicydRedisTest)
#include "tst_crash_policyd_redis.moc"
