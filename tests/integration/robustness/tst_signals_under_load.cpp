// SPDX-License-Identifier: GPL-3.0-or-later
// Signals to greygated (policy server, SQLite) while clients keep it busy:
// - SIGHUP, five times with a changed --policies document each time: every request is
//   answered on its own connection (none dropped, each within the deadline), each reload is
//   logged, and the last document is in force (its Blocked Sender is rejected);
// - SIGTERM: greygated exits 0 within its grace time; every request before it was answered
//   correctly or not at all (Postfix sends it again), and every triplet answered is in the
//   store afterwards.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "PolicyLoad.h"
#include "RobustnessKit.h"
#include "TestSupport.h"
#include "store/SqliteStore.h"

#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <csignal>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int Reloads = 5;

QByteArray blockedDocument(int generation)
{
    return QByteArrayLiteral(R"({"groups": [{"name": "Blocked Senders", "members": ["spam)") +
           QByteArray::number(generation) + QByteArrayLiteral(R"(@bad.test"]}]})");
}

} // namespace

class SignalsUnderLoadTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sighupReloadsWithoutDroppingARequest();
    void sigtermAnswersOrDropsAndLosesNothingAnswered();

private:
    bool start(DaemonProcess &daemon, const QString &dbdir, const QStringList &extra);
};

bool SignalsUnderLoadTest::start(DaemonProcess &daemon, const QString &dbdir,
                                 const QStringList &extra)
{
    QString error;
    const bool ok = daemon.startOnFreePort(
        greygated(),
        [&](quint16 port) {
            return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                               QStringLiteral("--dbdir=") + dbdir, QStringLiteral("--user=root"),
                               QStringLiteral("--auto-whitelist-clients=0")} +
                   extra;
        },
        30'000, &error);
    if (!ok)
        qWarning("%s", qPrintable(error));
    return ok;
}

void SignalsUnderLoadTest::sighupReloadsWithoutDroppingARequest()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString policies = work.filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(policies, blockedDocument(0)));
    DaemonProcess daemon(work.filePath(QStringLiteral("greygated.log")));
    QVERIFY(start(daemon, work.filePath(QStringLiteral("db")),
                  {QStringLiteral("--policies=") + policies}));

    PolicyLoad::Options options;
    options.clients = 3;
    options.maxRequestsPerClient = 1'000'000;
    options.runMs = 60'000;
    options.answerTimeoutMs = 5'000;
    PolicyLoad load(daemon.port(), options,
                    [](const QByteArray &a) { return a.startsWith("DEFER_IF_PERMIT"); });
    load.start();
    QVERIFY(load.waitForAnswers(500, 20'000));
    for (int generation = 1; generation <= Reloads; ++generation) {
        QVERIFY(writeFile(policies, blockedDocument(generation)));
        const qint64 before = load.answered();
        QCOMPARE(::kill(pid_t(daemon.pid()), SIGHUP), 0); // our own child, by its PID
        QTRY_VERIFY_WITH_TIMEOUT(
            countInLogFile(daemon.logPath(), QStringLiteral("msg=reloaded")) >= generation, 10'000);
        QVERIFY(load.waitForAnswers(before + 200, 20'000)); // answers go on after each reload
    }
    load.stop();
    qInfo("%d reloads under load: %lld answered, %lld unanswered", Reloads,
          qlonglong(load.answered()), qlonglong(load.unanswered()));
    QVERIFY2(load.unanswered() == 0 && load.refused() == 0,
             qPrintable(load.failures().join(u'\n') + daemon.log()));

    PolicyClient policy;
    QVERIFY(policy.connectTo(daemon.port()));
    const auto blocked =
        policy.askRcpt("192.0.2.9", "spam" + QByteArray::number(Reloads) + "@bad.test", "a@b.test");
    QVERIFY(blocked && blocked->startsWith("REJECT"));
    const auto formerly = policy.askRcpt("192.0.2.9", "spam1@bad.test", "a@b.test");
    QVERIFY(formerly && formerly->startsWith("DEFER_IF_PERMIT"));
    policy.close();
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitCode(), 0);
}

void SignalsUnderLoadTest::sigtermAnswersOrDropsAndLosesNothingAnswered()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString dbdir = work.filePath(QStringLiteral("db"));
    DaemonProcess daemon(work.filePath(QStringLiteral("greygated.log")));
    QVERIFY(start(daemon, dbdir, {}));

    PolicyLoad::Options options;
    options.clients = 4;
    options.maxRequestsPerClient = 1'000'000;
    options.runMs = 60'000;
    options.tag = "term";
    PolicyLoad load(daemon.port(), options,
                    [](const QByteArray &a) { return a.startsWith("DEFER_IF_PERMIT"); });
    load.start();
    QVERIFY(load.waitForAnswers(2'000, 20'000));
    // SIGTERM while requests are in flight on every connection.
    QVERIFY2(daemon.terminate(15'000), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitStatus(), QProcess::NormalExit);
    QCOMPARE(daemon.exitCode(), 0);
    load.stop();
    QVERIFY2(load.refused() == 0, qPrintable(load.failures().join(u'\n')));
    qInfo("SIGTERM under load: %lld answered, %lld in flight dropped", qlonglong(load.answered()),
          qlonglong(load.unanswered()));

    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = dbdir;
    SqliteStore store(storeOptions);
    QString error;
    QVERIFY2(store.open(&error) && store.checkIntegrity(&error), qPrintable(error));
    QSet<QByteArray> stored;
    QVERIFY2(store.load([&](TripletRecord &&r) { stored.insert(r.key.sender); },
                        [](ClientRecord &&) {}, &error),
             qPrintable(error));
    store.close();
    int missing = 0;
    for (const LoadTriplet &t : load.answeredTriplets())
        missing += stored.contains(t.sender) ? 0 : 1;
    QCOMPARE(missing, 0);
}

QTEST_GUILESS_MAIN(SignalsUnderLoadTest)
#include "tst_signals_under_load.moc"
