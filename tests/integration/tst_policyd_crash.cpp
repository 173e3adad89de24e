// SPDX-License-Identifier: GPL-3.0-or-later
// Durability under a crash: several policy clients load greygated with new triplets, each
// recording every triplet it got an answer for; greygated is killed with SIGKILL at a random
// moment, in several rounds on the same dbdir. After each kill, the store opened on that
// dbdir (with its own crash recovery, as greygated's start-up does) holds every answered
// triplet and passes its integrity check; at the end, greygated itself, restarted, lets
// every answered triplet pass after the delay, while a triplet it never answered is
// deferred (so the check could fail).

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"
#include "store/SqliteStore.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <atomic>
#include <mutex>
#include <thread>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int Rounds = 5;
constexpr int Clients = 4;
constexpr int MaxRequestsPerClientAndRound = 20'000;
constexpr int DelaySeconds = 2;

// Letters only: a normaliser may reduce digits in local parts (VERP-like senders).
QByteArray letters(quint64 n)
{
    QByteArray s;
    do {
        s.prepend(char('a' + n % 26));
        n /= 26;
    } while (n > 0);
    return s;
}

struct Triplet
{
    QByteArray client;
    QByteArray sender;
    QByteArray recipient;
};

// (sender, recipient) is unique per triplet here, and neither is changed by normalisation,
// so it identifies a stored triplet whatever the client address is grouped into.
QByteArray pairKey(const QByteArray &sender, const QByteArray &recipient)
{
    return sender + '\x1f' + recipient;
}

struct LoadResult
{
    QList<Triplet> answered;
    QStringList unexpected; // answers a new triplet must not get
};

// One client: new triplets, one request each, until the connection dies (the kill), the
// bound is reached, or stop is set.
LoadResult runClient(quint16 port, int round, int client, const std::atomic<bool> &stop,
                     std::atomic<qint64> &answeredCount)
{
    LoadResult result;
    PolicyClient policy;
    if (!policy.connectTo(port)) {
        result.unexpected.append(QStringLiteral("connect: ") + policy.errorString());
        return result;
    }
    const QByteArray address = "198.51.100." + QByteArray::number(client + 1);
    const QByteArray prefix = letters(quint64(round) * 26 + quint64(client));
    const QDeadlineTimer deadline(30'000);
    for (int i = 0; i < MaxRequestsPerClientAndRound && !stop && !deadline.hasExpired(); ++i) {
        const Triplet t{address, "s" + prefix + 'x' + letters(i) + "@load.example",
                        "r" + letters(i) + "@dest.example"};
        const std::optional<QByteArray> action = policy.askRcpt(t.client, t.sender, t.recipient);
        if (!action)
            break; // killed: this one was never answered
        if (!action->startsWith("DEFER_IF_PERMIT"))
            result.unexpected.append(QString::fromLatin1(t.sender + " got " + *action));
        result.answered.append(t);
        ++answeredCount;
    }
    return result;
}

} // namespace

class PolicydCrashTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyAnsweredTripletSurvivesKillMinus9();

private:
    bool startDaemon(DaemonProcess &daemon, const QString &dbdir, QString *error);
};

bool PolicydCrashTest::startDaemon(DaemonProcess &daemon, const QString &dbdir, QString *error)
{
    return daemon.startOnFreePort(
        program(QStringLiteral("greygated")),
        [&](quint16 port) {
            // No auto-whitelisting: one client's passes must not let its other triplets
            // through, or the final check could not see a lost triplet.
            return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                               QStringLiteral("--dbdir=") + dbdir,
                               QStringLiteral("--delay=%1").arg(DelaySeconds),
                               QStringLiteral("--auto-whitelist-clients=0")};
        },
        30'000, error);
}

void PolicydCrashTest::everyAnsweredTripletSurvivesKillMinus9()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString dbdir = work.filePath(QStringLiteral("db"));
    QVERIFY(QDir().mkpath(dbdir));
    const quint32 seed = qEnvironmentVariableIsSet("GREYGATE_TEST_SEED")
                             ? quint32(qEnvironmentVariableIntValue("GREYGATE_TEST_SEED"))
                             : QRandomGenerator::global()->generate();
    qInfo("seed %u (set GREYGATE_TEST_SEED to replay)", seed);
    QRandomGenerator random(seed);

    QList<Triplet> answered;
    QElapsedTimer sinceLastAnswer;
    for (int round = 0; round < Rounds; ++round) {
        DaemonProcess daemon(work.filePath(QStringLiteral("greygated-%1.log").arg(round)));
        QString error;
        QVERIFY2(startDaemon(daemon, dbdir, &error), qPrintable(error));

        std::atomic<bool> stop = false;
        std::atomic<qint64> answeredCount = 0;
        QList<LoadResult> results(Clients);
        std::vector<std::thread> threads;
        for (int c = 0; c < Clients; ++c) {
            threads.emplace_back(
                [&, c] { results[c] = runClient(daemon.port(), round, c, stop, answeredCount); });
        }
        // A random moment while answers flow (mid-batch, mid-commit, mid-write), counted
        // from the first answer so that a slow start on a busy machine does not matter.
        const QDeadlineTimer firstAnswer(20'000);
        while (answeredCount == 0 && !firstAnswer.hasExpired())
            QThread::msleep(1);
        const int killAfterMs = 50 + int(random.bounded(700));
        QThread::msleep(killAfterMs);
        daemon.kill();
        stop = true;
        for (std::thread &t : threads)
            t.join();
        sinceLastAnswer.start();
        QCOMPARE(daemon.exitStatus(), QProcess::CrashExit);

        qsizetype roundAnswered = 0;
        for (const LoadResult &r : std::as_const(results)) {
            QVERIFY2(r.unexpected.isEmpty(), qPrintable(r.unexpected.mid(0, 5).join(u'\n')));
            answered += r.answered;
            roundAnswered += r.answered.size();
        }
        qInfo("round %d: killed after %d ms, %lld triplets answered", round, killAfterMs,
              qlonglong(roundAnswered));
        QVERIFY2(roundAnswered > 0, qPrintable(daemon.log()));

        // The dbdir as greygated left it, opened by the store (with its crash recovery).
        SqliteStoreOptions options;
        options.dbdir = dbdir;
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
        QSet<QByteArray> stored;
        QVERIFY2(store.load(
                     [&](TripletRecord &&record) {
                         stored.insert(pairKey(record.key.sender, record.key.recipient));
                     },
                     [](ClientRecord &&) {}, &error),
                 qPrintable(error));
        store.close();
        QStringList missing;
        for (const Triplet &t : std::as_const(answered)) {
            if (!stored.contains(pairKey(t.sender, t.recipient)))
                missing.append(QString::fromLatin1(t.sender + " -> " + t.recipient));
        }
        QVERIFY2(missing.isEmpty(),
                 qPrintable(QStringLiteral("round %1: %2 of %3 answered triplets missing, e.g.\n")
                                .arg(round)
                                .arg(missing.size())
                                .arg(answered.size()) +
                            missing.mid(0, 10).join(u'\n')));
    }

    // Restarted on the same dbdir, greygated knows every answered triplet: after the delay
    // each one's retry passes. A never-seen triplet is still deferred.
    DaemonProcess daemon(work.filePath(QStringLiteral("greygated-final.log")));
    QString error;
    QVERIFY2(startDaemon(daemon, dbdir, &error), qPrintable(error));
    const qint64 waitMs = (DelaySeconds + 1) * 1000 - sinceLastAnswer.elapsed();
    if (waitMs > 0)
        QThread::msleep(quint64(waitMs));

    std::atomic<qsizetype> deferred = 0;
    std::mutex lock;
    QStringList failures;
    std::vector<std::thread> threads;
    for (int c = 0; c < Clients; ++c) {
        threads.emplace_back([&, c] {
            PolicyClient policy;
            if (!policy.connectTo(daemon.port())) {
                const std::lock_guard guard(lock);
                failures.append(policy.errorString());
                return;
            }
            for (qsizetype i = c; i < answered.size(); i += Clients) {
                const Triplet &t = answered.at(i);
                const auto action = policy.askRcpt(t.client, t.sender, t.recipient);
                if (!action || action->startsWith("DEFER")) {
                    const std::lock_guard guard(lock);
                    ++deferred;
                    if (failures.size() < 10)
                        failures.append(QString::fromLatin1(t.sender + " -> " + t.recipient + ": " +
                                                            action.value_or("no answer")) +
                                        u' ' + policy.errorString());
                }
            }
        });
    }
    for (std::thread &t : threads)
        t.join();
    QVERIFY2(deferred == 0, qPrintable(QStringLiteral("%1 of %2 answered triplets unknown after "
                                                      "restart:\n")
                                           .arg(deferred.load())
                                           .arg(answered.size()) +
                                       failures.join(u'\n') + u'\n' + daemon.log()));

    PolicyClient control;
    QVERIFY(control.connectTo(daemon.port()));
    const auto unseen =
        control.askRcpt("198.51.100.1", "never-seen@load.example", "never@dest.example");
    QVERIFY2(unseen && unseen->startsWith("DEFER_IF_PERMIT"), qPrintable(control.errorString()));
    control.close();

    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitStatus(), QProcess::NormalExit);
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(PolicydCrashTest)
#include "tst_policyd_crash.moc"
