// SPDX-License-Identifier: GPL-3.0-or-later
// Sustained load on one greygated serving both the policy server and the SMTP proxy (SQLite,
// a recording backend in the test process), for GREYGATE_LOAD_SECONDS (60 by default, as in
// CI; bench/load/run-load.sh runs it for minutes). Policy clients cycle over a fixed set of
// triplets per client and SMTP clients relay mail (with a greylisted recipient in each
// transaction), so the daemon's state reaches a steady size. It checks: every policy
// request answered (within a deadline), every message relayed and received by the backend,
// resident memory (VmRSS) at the end within 20 % + 8 MiB of the reading after warm-up, open
// file descriptors back to the count before the load once the clients are gone, and no
// connection left open (to the policy port, the SMTP port or the backend).

#include "DaemonProcess.h"
#include "PolicyLoad.h"
#include "RobustnessKit.h"
#include "ScriptedSmtpBackend.h"
#include "SmtpClient.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <atomic>
#include <thread>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int SmtpClients = 2;
const QByteArray Policies = QByteArrayLiteral(R"({"policies": [{"id": 1,
  "narrative": "Partners skip greylisting", "action": "bypass",
  "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}]})");

int loadSeconds()
{
    const int n = qEnvironmentVariableIntValue("GREYGATE_LOAD_SECONDS");
    return n > 0 ? n : 60;
}

struct SmtpLoadResult
{
    qint64 relayed = 0;
    QStringList failures;
};

// Sessions of 10 messages each until stopped: a greylisted transaction (451, RSET), then
// partner messages relayed through the backend. Senders cycle over a fixed set.
void smtpLoad(quint16 port, int client, const std::atomic<bool> &stop, SmtpLoadResult *result)
{
    const auto fail = [result](const QString &what) {
        if (result->failures.size() < 10)
            result->failures.append(what);
    };
    for (int session = 0; !stop && session < 1'000'000; ++session) {
        SmtpClient smtp;
        if (!smtp.connectTo(port) || !smtp.readReply() || !smtp.command("EHLO load.test")) {
            fail(QStringLiteral("session: ") + smtp.errorString());
            return;
        }
        const QByteArray grey = "g" + letters(quint64(client * 1000 + session % 500));
        const auto deferred = smtp.command("MAIL FROM:<" + grey + "@sender.example>");
        const auto rcpt = smtp.command("RCPT TO:<rcpt@example.test>");
        if (!deferred || !rcpt || rcpt->code != 451 || !smtp.command("RSET"))
            fail(QStringLiteral("greylisted rcpt: ") +
                 QString::fromLatin1(rcpt ? rcpt->summary() : smtp.errorString().toLatin1()));
        for (int m = 0; m < 10 && !stop; ++m) {
            const auto mail = smtp.command("MAIL FROM:<bulk@partner.test>");
            const auto to = smtp.command("RCPT TO:<rcpt@example.test>");
            const auto data = smtp.command("DATA");
            const auto done =
                smtp.command("Subject: load " + QByteArray::number(session) + "\r\n\r\nbody\r\n.");
            if (!mail || !to || !data || !done || done->code != 250) {
                fail(QStringLiteral("message: ") +
                     QString::fromLatin1(done ? done->summary() : smtp.errorString().toLatin1()));
                return;
            }
            ++result->relayed;
        }
        smtp.command("QUIT");
    }
}

} // namespace

class LoadSustainedTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void memoryAndDescriptorsStayFlatUnderSustainedLoad();
};

void LoadSustainedTest::memoryAndDescriptorsStayFlatUnderSustainedLoad()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString policies = work.filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(policies, Policies));
    ScriptedSmtpBackend backend;
    QString error;
    QVERIFY2(backend.startListening(&error), qPrintable(error));
    const quint16 smtpPort = freeTcpPort();
    // Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) before it
    // is reused, so a sanitized daemon's VmRSS grows until the quarantine is full however
    // little it keeps, and the fewer bytes it frees per request the longer that takes. A small
    // quarantine makes VmRSS measure what the daemon holds. The daemon inherits this.
    const QByteArray asan = qgetenv("ASAN_OPTIONS");
    if (!asan.isEmpty() && !asan.contains("quarantine_size_mb"))
        qputenv("ASAN_OPTIONS", asan + ":quarantine_size_mb=16");
    DaemonProcess daemon(work.filePath(QStringLiteral("greygated.log")));
    QVERIFY2(daemon.startOnFreePort(
                 greygated(),
                 [&](quint16 port) {
                     return QStringList{
                         QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                         QStringLiteral("--smtp-listen=127.0.0.1:%1").arg(smtpPort),
                         QStringLiteral("--smtp-backend=127.0.0.1:%1").arg(backend.port()),
                         // A connection given back waits for its RSET reply before it is idle,
                         // so a client's next session may open another: the pool's bound, not
                         // the number of clients, is what limits those kept afterwards.
                         QStringLiteral("--smtp-backend-pool=%1").arg(SmtpClients),
                         QStringLiteral("--dbdir=") + work.filePath(QStringLiteral("db")),
                         QStringLiteral("--policies=") + policies,
                         QStringLiteral("--delay=3600"),        // retries stay deferred all along
                         QStringLiteral("--log-level=warning"), // a log line per session
                         QStringLiteral("--user=root")};
                 },
                 30'000, &error),
             qPrintable(error));
    QVERIFY(portAcceptsConnections(smtpPort, 10'000));
    // The readiness probes' connections gone, so that a leaked descriptor is not hidden by one.
    QVERIFY(waitServerAtRest(daemon.port()));
    QVERIFY(waitServerAtRest(smtpPort));
    const qint64 pid = daemon.pid();
    const int fdsBefore = openFds(pid);
    const qint64 rssBefore = residentKb(pid);

    const int seconds = loadSeconds();
    PolicyLoad::Options options;
    options.clients = 2;
    options.maxRequestsPerClient = 100'000'000;
    options.runMs = (seconds + 30) * 1000;
    options.answerTimeoutMs = 5'000;
    options.distinct = 5'000;
    PolicyLoad policy(daemon.port(), options, [](const QByteArray &a) {
        return a.startsWith("DEFER_IF_PERMIT"); // new, or a retry before the delay
    });
    std::atomic<bool> stop = false;
    QList<SmtpLoadResult> smtpResults(SmtpClients);
    std::vector<std::thread> smtpThreads;
    policy.start();
    for (int c = 0; c < SmtpClients; ++c)
        smtpThreads.emplace_back([&, c] { smtpLoad(smtpPort, c, stop, &smtpResults[c]); });

    // Warm-up: a fifth of the run (the triplet set filled, caches and buffers at their size).
    QThread::sleep(quint64(std::max(5, seconds / 5)));
    const qint64 rssWarm = residentKb(pid);
    const int fdsWarm = openFds(pid);
    const qint64 answeredWarm = policy.answered();
    const QDeadlineTimer end(qint64(seconds) * 1000 - qint64(std::max(5, seconds / 5)) * 1000);
    qint64 rssPeak = rssWarm;
    while (!end.hasExpired() && daemon.isRunning()) {
        QThread::msleep(500);
        rssPeak = std::max(rssPeak, residentKb(pid));
    }
    const qint64 rssEnd = residentKb(pid);
    stop = true;
    policy.stop();
    for (std::thread &t : smtpThreads)
        t.join();
    QVERIFY2(daemon.isRunning(), qPrintable(daemon.log()));

    qint64 relayed = 0;
    for (const SmtpLoadResult &r : std::as_const(smtpResults)) {
        QVERIFY2(r.failures.isEmpty(), qPrintable(r.failures.join(u'\n')));
        relayed += r.relayed;
    }
    QVERIFY2(policy.unanswered() == 0 && policy.refused() == 0,
             qPrintable(policy.failures().join(u'\n')));
    QCOMPARE(backend.messageCount(), relayed);

    // Nothing left open once the clients are gone.
    QTRY_COMPARE_WITH_TIMEOUT(establishedOnPort(daemon.port()), 0, 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(establishedOnPort(smtpPort), 0, 10'000);
    // The proxy keeps at most --smtp-backend-pool greeted backend connections for reuse.
    QTRY_VERIFY_WITH_TIMEOUT(backend.openSessions() <= SmtpClients, 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(openFds(pid) <= fdsBefore + backend.openSessions(), 10'000);
    const int fdsAfter = openFds(pid);

    qInfo("%d s: %lld policy requests answered (%lld after warm-up), %lld messages relayed; "
          "VmRSS KiB: start %lld, after warm-up %lld, peak %lld, end %lld; fds: start %d, "
          "under load %d, end %d",
          seconds, qlonglong(policy.answered()), qlonglong(policy.answered() - answeredWarm),
          qlonglong(relayed), qlonglong(rssBefore), qlonglong(rssWarm), qlonglong(rssPeak),
          qlonglong(rssEnd), fdsBefore, fdsWarm, fdsAfter);
    QVERIFY(policy.answered() > answeredWarm && relayed > 0);
    QVERIFY2(rssEnd <= rssWarm + rssWarm / 5 + 8 * 1024,
             qPrintable(QStringLiteral("VmRSS grew from %1 KiB after warm-up to %2 KiB")
                            .arg(rssWarm)
                            .arg(rssEnd)));
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(LoadSustainedTest)
#include "tst_load_sustained.moc"
