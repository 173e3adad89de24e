// SPDX-License-Identifier: GPL-3.0-or-later
// kill -9 of greygated (policy server, SQLite store) at random moments under load, while an
// admin adds policies and groups through the control API, 30 rounds on one dbdir
// (GREYGATE_CRASH_ROUNDS to change it, GREYGATE_TEST_SEED to replay a run). After each kill:
// the database file as the kill left it passes SQLite's `PRAGMA integrity_check`; the store
// opened on the dbdir (replaying the journal, as greygated's start does) passes its own check
// and holds every triplet any client got an answer for; the next greygated lists every policy
// and group whose greygatectl command had succeeded. At the end a sample of the answered
// triplets passes after the delay, while a never-seen triplet is deferred.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "PolicyLoad.h"
#include "RobustnessKit.h"
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
#include <thread>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int DelaySeconds = 2;
constexpr int SampleChecked = 1500;

QByteArray pairKey(const QByteArray &sender, const QByteArray &recipient)
{
    return sender + '\x1f' + recipient;
}

} // namespace

class CrashPolicydSqliteTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void answeredTripletsPoliciesAndGroupsSurviveKillMinus9();

private:
    bool startDaemon(DaemonProcess &daemon, QString *error);
    // Every name acknowledged so far is listed by the running daemon.
    QString missingChanges(const QStringList &policies, const QStringList &groups);
    bool checkStore(const QList<LoadTriplet> &answered, QString *error);

    QTemporaryDir m_work;
    QString m_dbdir;
    quint16 m_controlPort = 0;
};

bool CrashPolicydSqliteTest::startDaemon(DaemonProcess &daemon, QString *error)
{
    if (!daemon.startOnFreePort(
            greygated(),
            [&](quint16 port) {
                // No auto-whitelisting: a client's passes must not hide a lost triplet.
                return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                   QStringLiteral("--dbdir=") + m_dbdir,
                                   QStringLiteral("--delay=%1").arg(DelaySeconds),
                                   QStringLiteral("--auto-whitelist-clients=0"),
                                   QStringLiteral("--user=root"),
                                   QStringLiteral("--control-listen=127.0.0.1:0")};
            },
            30'000, error))
        return false;
    m_controlPort = portFromLogFile(daemon.logPath(), QStringLiteral("control API listening"));
    if (m_controlPort == 0)
        *error = QStringLiteral("no control port in the log: ") + daemon.log();
    return m_controlPort != 0;
}

QString CrashPolicydSqliteTest::missingChanges(const QStringList &policies,
                                               const QStringList &groups)
{
    const CtlResult p =
        ctl(m_controlPort, m_dbdir, {QStringLiteral("policy"), QStringLiteral("list")});
    const CtlResult g =
        ctl(m_controlPort, m_dbdir, {QStringLiteral("group"), QStringLiteral("list")});
    if (p.code != 0 || g.code != 0)
        return QStringLiteral("greygatectl list failed: ") + p.err + g.err;
    QStringList missing;
    for (const QString &name : policies) {
        if (!p.out.contains(name))
            missing.append(QStringLiteral("policy ") + name);
    }
    for (const QString &name : groups) {
        if (!g.out.contains(name))
            missing.append(QStringLiteral("group ") + name);
    }
    return missing.join(QStringLiteral(", "));
}

bool CrashPolicydSqliteTest::checkStore(const QList<LoadTriplet> &answered, QString *error)
{
    // The database file exactly as the kill left it (WAL included) is consistent.
    const ProgramResult raw = runProgram(
        QStringLiteral("sqlite3"),
        {m_dbdir + QStringLiteral("/greygate.db"), QStringLiteral("PRAGMA integrity_check;")},
        60'000);
    if (!raw.finished || raw.out.trimmed() != "ok") {
        *error = QStringLiteral("PRAGMA integrity_check: ") + QString::fromUtf8(raw.out + raw.err);
        return false;
    }
    // Opened by the store, which replays the journal and cuts a torn tail, as at start.
    SqliteStoreOptions options;
    options.dbdir = m_dbdir;
    SqliteStore store(options);
    if (!store.open(error) || !store.checkIntegrity(error))
        return false;
    QSet<QByteArray> stored;
    const bool loaded = store.load(
        [&](TripletRecord &&record) {
            stored.insert(pairKey(record.key.sender, record.key.recipient));
        },
        [](ClientRecord &&) {}, error);
    store.close();
    if (!loaded)
        return false;
    QStringList missing;
    for (const LoadTriplet &t : answered) {
        if (!stored.contains(pairKey(t.sender, t.recipient)))
            missing.append(QString::fromLatin1(t.sender + " -> " + t.recipient));
    }
    if (!missing.isEmpty()) {
        *error = QStringLiteral("%1 of %2 answered triplets missing, e.g. ")
                     .arg(missing.size())
                     .arg(answered.size()) +
                 missing.mid(0, 5).join(u' ');
        return false;
    }
    return true;
}

void CrashPolicydSqliteTest::answeredTripletsPoliciesAndGroupsSurviveKillMinus9()
{
    QVERIFY(m_work.isValid());
    m_dbdir = m_work.filePath(QStringLiteral("db"));
    QVERIFY(QDir().mkpath(m_dbdir));
    QRandomGenerator random(testSeed());

    QList<LoadTriplet> answered;
    QStringList policies; // narratives of the policies whose `policy add` succeeded
    QStringList groups;
    QElapsedTimer sinceLastAnswer;
    const int roundCount = crashRounds();
    for (int round = 0; round < roundCount; ++round) {
        const QString logPath = m_work.filePath(QStringLiteral("greygated-%1.log").arg(round));
        DaemonProcess daemon(logPath);
        QString error;
        QVERIFY2(startDaemon(daemon, &error), qPrintable(error));
        const QString missing = missingChanges(policies, groups);
        QVERIFY2(missing.isEmpty(),
                 qPrintable(QStringLiteral("round %1: lost %2").arg(round).arg(missing)));

        PolicyLoad::Options options;
        options.clients = 3;
        options.maxRequestsPerClient = 4'000;
        options.runMs = 20'000;
        options.tag = letters(quint64(round));
        PolicyLoad load(daemon.port(), options,
                        [](const QByteArray &a) { return a.startsWith("DEFER_IF_PERMIT"); });
        // The admin changes policies and groups while the load runs, until the kill.
        std::atomic<bool> stopAdmin = false;
        QStringList roundPolicies;
        QStringList roundGroups;
        std::thread admin([&] {
            for (int k = 0; k < 20 && !stopAdmin; ++k) {
                const QString name = QStringLiteral("crash-r%1-c%2").arg(round).arg(k);
                const QString file = m_work.filePath(name + QStringLiteral(".json"));
                writeFile(file, QByteArrayLiteral(R"({"narrative":")") + name.toUtf8() +
                                    QByteArrayLiteral(R"(","action":"bypass","from":{"type":)"
                                                      R"("domain","value":")") +
                                    name.toUtf8() +
                                    QByteArrayLiteral(R"(.test"},"to":{"type":"everyone"}})"));
                if (ctl(m_controlPort, m_dbdir,
                        {QStringLiteral("policy"), QStringLiteral("add"), file})
                        .code == 0)
                    roundPolicies.append(name);
                if (ctl(m_controlPort, m_dbdir,
                        {QStringLiteral("group"), QStringLiteral("add"),
                         name + QStringLiteral("-g")})
                        .code == 0)
                    roundGroups.append(name + QStringLiteral("-g"));
            }
        });
        load.start();
        QVERIFY2(load.waitForAnswers(1, 20'000), qPrintable(daemon.log()));
        // A random moment while answers flow and the admin writes (mid-batch, mid-commit).
        const int killAfterMs = 50 + int(random.bounded(900));
        QThread::msleep(quint64(killAfterMs));
        daemon.kill();
        stopAdmin = true;
        load.stop();
        admin.join();
        sinceLastAnswer.start();
        QCOMPARE(daemon.exitStatus(), QProcess::CrashExit);
        QVERIFY2(load.refused() == 0, qPrintable(load.failures().join(u'\n')));
        answered += load.answeredTriplets();
        policies += roundPolicies;
        groups += roundGroups;
        qInfo("round %d: killed after %d ms, %lld answered, %lld policies and %lld groups added",
              round, killAfterMs, qlonglong(load.answered()), qlonglong(roundPolicies.size()),
              qlonglong(roundGroups.size()));
        QVERIFY2(checkStore(answered, &error),
                 qPrintable(QStringLiteral("round %1: %2").arg(round).arg(error)));
    }
    QVERIFY(!policies.isEmpty() && !groups.isEmpty());

    DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated-final.log")));
    QString error;
    QVERIFY2(startDaemon(daemon, &error), qPrintable(error));
    const QString missing = missingChanges(policies, groups);
    QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("final: lost ") + missing));

    // The daemon itself knows them: after the delay a sample of answered triplets passes.
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
    QVERIFY(unseen && unseen->startsWith("DEFER_IF_PERMIT"));
    policy.close();
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(CrashPolicydSqliteTest)
#include "tst_crash_policyd_sqlite.moc"
