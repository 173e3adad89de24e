// SPDX-License-Identifier: GPL-3.0-or-later
// The Redis store failing under policy load: redis-server killed (SIGKILL) and restarted on
// its port, then paused (SIGSTOP) and resumed (SIGCONT), while clients keep asking. In both
// failure modes every request is answered within a second (--redis-timeout-ms=200 bounds
// each Redis command), each answer is either the greylisting decision or exactly the
// configured failure mode's (--redis-fail=open: DUNNO; closed: the "state unavailable"
// deferral), both kinds are seen, and after each fault the decisions come from Redis again.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "PolicyLoad.h"
#include "RedisTestServer.h"
#include "RobustnessKit.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <atomic>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int AnswerDeadlineMs = 1'000;
constexpr int OutageMs = 1'500;
const QByteArray Greylisted = "DEFER_IF_PERMIT Greylisted";
const QByteArray Unavailable = "DEFER_IF_PERMIT Greylisting state unavailable";

} // namespace

class FaultRedisStoreTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyAnswerInTimeAndByTheFailureMode_data();
    void everyAnswerInTimeAndByTheFailureMode();
};

void FaultRedisStoreTest::everyAnswerInTimeAndByTheFailureMode_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QByteArray>("failureAnswer");
    QTest::newRow("fail open") << QStringLiteral("open") << QByteArray("DUNNO");
    QTest::newRow("fail closed") << QStringLiteral("closed") << Unavailable;
}

void FaultRedisStoreTest::everyAnswerInTimeAndByTheFailureMode()
{
    QFETCH(QString, mode);
    QFETCH(QByteArray, failureAnswer);
    QTemporaryDir work;
    QVERIFY(work.isValid());
    RedisTestServer redis;
    GREYGATE_START_REDIS(redis);
    QString error;
    DaemonProcess daemon(work.filePath(QStringLiteral("greygated.log")));
    QVERIFY2(daemon.startOnFreePort(
                 greygated(),
                 [&](quint16 port) {
                     return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                        QStringLiteral("--dbdir=") +
                                            work.filePath(QStringLiteral("db")),
                                        QStringLiteral("--store=") + redis.url(),
                                        QStringLiteral("--redis-fail=") + mode,
                                        QStringLiteral("--redis-timeout-ms=200"),
                                        QStringLiteral("--delay=3600"),
                                        QStringLiteral("--user=root")};
                 },
                 30'000, &error),
             qPrintable(error));

    std::atomic<qint64> decided = 0;
    std::atomic<qint64> failureMode = 0;
    PolicyLoad::Options options;
    options.clients = 3;
    options.maxRequestsPerClient = 1'000'000;
    options.runMs = 60'000;
    options.answerTimeoutMs = AnswerDeadlineMs;
    options.pauseUs = 2'000; // a steady stream, not a saturating one: this is about latency
    options.tag = mode.toLatin1();
    PolicyLoad load(daemon.port(), options, [&](const QByteArray &action) {
        // New triplets: the decision is a deferral; anything else must be the failure mode's.
        if (action.startsWith(Greylisted)) {
            ++decided;
            return true;
        }
        if (action.startsWith(failureAnswer)) {
            ++failureMode;
            return true;
        }
        return false;
    });
    // Decisions from Redis again: a new triplet gets the greylisting deferral.
    PolicyClient probe;
    QVERIFY(probe.connectTo(daemon.port()));
    int probes = 0;
    const auto decidesAgain = [&] {
        const QDeadlineTimer deadline(20'000);
        while (!deadline.hasExpired()) {
            const QByteArray sender = "probe" + letters(quint64(++probes)) + "@probe.example";
            const auto a =
                probe.askRcpt("203.0.113.9", sender, "p@dest.example", {}, AnswerDeadlineMs);
            if (!a)
                return false;
            if (a->startsWith(Greylisted))
                return true;
            QThread::msleep(100);
        }
        return false;
    };

    load.start();
    QVERIFY(load.waitForAnswers(100, 20'000));
    const qint64 beforeKill = failureMode;

    redis.kill();
    QThread::msleep(OutageMs);
    const qint64 duringKill = failureMode - beforeKill;
    QVERIFY2(redis.restart(&error), qPrintable(error));
    QVERIFY2(decidesAgain(), qPrintable(daemon.log()));

    const qint64 beforePause = failureMode;
    redis.pause();
    QThread::msleep(OutageMs);
    const qint64 duringPause = failureMode - beforePause;
    redis.resume();
    QVERIFY2(decidesAgain(), qPrintable(daemon.log()));
    // The load's own requests are decided again too, not only the probe's.
    const qint64 decidedAfter = decided;
    QTRY_VERIFY_WITH_TIMEOUT(decided > decidedAfter + 50, 20'000);
    load.stop();

    qInfo("%s: %lld answered (%lld decided, %lld by the failure mode: %lld while killed, %lld "
          "while paused), %lld unanswered within %d ms",
          qPrintable(mode), qlonglong(load.answered()), qlonglong(decided.load()),
          qlonglong(failureMode.load()), qlonglong(duringKill), qlonglong(duringPause),
          qlonglong(load.unanswered()), AnswerDeadlineMs);
    QVERIFY2(load.unanswered() == 0 && load.refused() == 0,
             qPrintable(load.failures().join(u'\n')));
    QVERIFY2(duringKill > 0, "no failure-mode answer while Redis was down");
    QVERIFY2(duringPause > 0, "no failure-mode answer while Redis was paused");
    QVERIFY2(daemon.log().contains(QStringLiteral("mode=") + mode), qPrintable(daemon.log()));
    probe.close();
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(FaultRedisStoreTest)
#include "tst_fault_redis_store.moc"
