// SPDX-License-Identifier: GPL-3.0-or-later
// kill -9 of greygated as an SMTP proxy at random moments while clients send mail through it,
// 30 rounds on one dbdir (GREYGATE_CRASH_ROUNDS, GREYGATE_TEST_SEED to replay). The backend
// is a recording one in the test process (ScriptedSmtpBackend), so it outlives every kill.
// Every message a client got 250 for at the final dot reached the backend, whole; the
// greylisted senders get their 451 (a deferral committed first) and the SQLite database
// passes `PRAGMA integrity_check` after each kill; the proxy starts again each time.

#include "DaemonProcess.h"
#include "RobustnessKit.h"
#include "ScriptedSmtpBackend.h"
#include "SmtpClient.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QMutex>
#include <QRandomGenerator>
#include <QRegularExpression>
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

constexpr int Clients = 3;
constexpr int MessagesPerSession = 5;

const QByteArray Policies = QByteArrayLiteral(R"({"policies": [{"id": 1,
  "narrative": "Partners skip greylisting", "action": "bypass",
  "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}]})");

struct Sent
{
    QStringList accepted; // tokens of the messages a client got 250 for
    QStringList unexpected;
    QString ended; // why the client stopped
};

bool positive(const std::optional<SmtpClient::Reply> &r)
{
    return r && r->codeClass() == 2;
}

// One client until stopped or the connection dies: sessions of a few messages from a partner
// (bypassed, so relayed at once), each session opened by a greylisted sender's deferral.
Sent sendUntilKilled(quint16 port, const QString &tag, const std::atomic<bool> &stop)
{
    Sent sent;
    for (int session = 0; session < 1000 && !stop; ++session) {
        SmtpClient smtp;
        if (!smtp.connectTo(port) || !positive(smtp.readReply()) ||
            !positive(smtp.command("EHLO client.test"))) {
            sent.ended = QStringLiteral("session start: ") + smtp.errorString();
            return sent;
        }
        // A greylisted sender first: its deferral is committed before the 451.
        const QByteArray greylisted = "g" + tag.toLatin1() + "s" + QByteArray::number(session);
        if (!positive(smtp.command("MAIL FROM:<" + greylisted + "@sender.example>")))
            return sent;
        const auto deferred = smtp.command("RCPT TO:<rcpt@example.test>");
        if (!deferred)
            return sent;
        if (deferred->code != 451)
            sent.unexpected.append(
                QString::fromLatin1(greylisted + " rcpt: " + deferred->summary()));
        if (!positive(smtp.command("RSET"))) {
            sent.ended = QStringLiteral("RSET: ") + smtp.errorString();
            return sent;
        }
        for (int m = 0; m < MessagesPerSession && !stop; ++m) {
            const QString token = QStringLiteral("%1-s%2-m%3").arg(tag).arg(session).arg(m);
            if (!positive(smtp.command("MAIL FROM:<bulk@partner.test>")))
                return sent;
            // partner.test bypasses greylisting: the backend's own 250.
            const auto rcpt = smtp.command("RCPT TO:<" + token.toLatin1() + "@example.test>");
            if (!rcpt)
                return sent;
            if (rcpt->codeClass() != 2)
                sent.unexpected.append(token + QStringLiteral(" rcpt: ") +
                                       QString::fromLatin1(rcpt->summary()));
            if (const auto data = smtp.command("DATA"); !data || data->code != 354) {
                sent.ended = QStringLiteral("DATA: ") +
                             QString::fromLatin1(data ? data->summary() : "no reply");
                return sent;
            }
            const auto done = smtp.command("Subject: " + token.toLatin1() + "\r\n\r\nbody of " +
                                           token.toLatin1() + "\r\n.");
            if (!done)
                return sent; // killed before the answer: the client would send it again
            if (done->code == 250)
                sent.accepted.append(token);
            else
                sent.unexpected.append(token + QStringLiteral(": ") +
                                       QString::fromLatin1(done->summary()));
        }
        smtp.command("QUIT");
    }
    return sent;
}

} // namespace

class CrashSmtpProxyTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyMessageAnswered250ReachedTheBackendAcrossKills();
};

void CrashSmtpProxyTest::everyMessageAnswered250ReachedTheBackendAcrossKills()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString dbdir = work.filePath(QStringLiteral("db"));
    const QString policies = work.filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(policies, Policies));
    ScriptedSmtpBackend backend;
    QString error;
    QVERIFY2(backend.startListening(&error), qPrintable(error));
    QRandomGenerator random(testSeed());

    QStringList accepted;
    const int roundCount = crashRounds();
    for (int round = 0; round < roundCount; ++round) {
        DaemonProcess proxy(work.filePath(QStringLiteral("greygated-%1.log").arg(round)));
        QVERIFY2(proxy.startOnFreePort(
                     greygated(),
                     [&](quint16 port) {
                         return QStringList{
                             QStringLiteral("--smtp-listen=127.0.0.1:%1").arg(port),
                             QStringLiteral("--smtp-backend=127.0.0.1:%1").arg(backend.port()),
                             QStringLiteral("--smtp-hostname=mx.proxy.test"),
                             QStringLiteral("--dbdir=") + dbdir,
                             QStringLiteral("--policies=") + policies,
                             QStringLiteral("--user=root")};
                     },
                     30'000, &error),
                 qPrintable(error));
        const qsizetype before = backend.messageCount();
        std::atomic<bool> stop = false;
        QList<Sent> results(Clients);
        std::vector<std::thread> threads;
        for (int c = 0; c < Clients; ++c) {
            threads.emplace_back([&, c] {
                results[c] =
                    sendUntilKilled(proxy.port(), QStringLiteral("r%1c%2").arg(round).arg(c), stop);
            });
        }
        // Counted from the first message the backend got, so a slow start does not matter.
        const QDeadlineTimer firstMessage(20'000);
        while (backend.messageCount() == before && !firstMessage.hasExpired())
            QThread::msleep(5);
        if (backend.messageCount() == before) {
            stop = true;
            for (std::thread &t : threads)
                t.join();
            QFAIL(qPrintable(QStringLiteral("no message reached the backend: ") + results[0].ended +
                             u'\n' + proxy.log()));
        }
        const int killAfterMs = 20 + int(random.bounded(600));
        QThread::msleep(quint64(killAfterMs));
        proxy.kill();
        stop = true;
        for (std::thread &t : threads)
            t.join();
        QCOMPARE(proxy.exitStatus(), QProcess::CrashExit);
        qsizetype roundAccepted = 0;
        for (const Sent &s : std::as_const(results)) {
            QVERIFY2(s.unexpected.isEmpty(), qPrintable(s.unexpected.mid(0, 5).join(u'\n')));
            accepted += s.accepted;
            roundAccepted += s.accepted.size();
        }
        qInfo("round %d: killed after %d ms, %lld messages answered 250", round, killAfterMs,
              qlonglong(roundAccepted));

        const ProgramResult check = runProgram(
            QStringLiteral("sqlite3"),
            {dbdir + QStringLiteral("/greygate.db"), QStringLiteral("PRAGMA integrity_check;")},
            60'000);
        QVERIFY2(check.finished && check.out.trimmed() == "ok",
                 QByteArray(check.out + check.err).constData());
    }

    // What the backend holds: one token per message, in its Subject and body.
    QSet<QString> received;
    const QRegularExpression subject(QStringLiteral("^Subject: (\\S+)\\r$"),
                                     QRegularExpression::MultilineOption);
    for (const ScriptedSmtpBackend::Message &m : backend.messages()) {
        const QRegularExpressionMatch match = subject.match(QString::fromLatin1(m.content));
        if (match.hasMatch() &&
            m.content.contains(QByteArray("body of " + match.captured(1).toLatin1() + "\r\n")) &&
            m.recipients.size() == 1)
            received.insert(match.captured(1));
    }
    QStringList lost;
    for (const QString &token : std::as_const(accepted)) {
        if (!received.contains(token))
            lost.append(token);
    }
    qInfo("%lld messages answered 250 over %d kills, %lld received whole by the backend",
          qlonglong(accepted.size()), roundCount, qlonglong(received.size()));
    QVERIFY(!accepted.isEmpty());
    QVERIFY2(lost.isEmpty(), qPrintable(QStringLiteral("%1 messages answered 250 never reached "
                                                       "the backend: ")
                                            .arg(lost.size()) +
                                        lost.mid(0, 10).join(u' ')));
}

QTEST_GUILESS_MAIN(CrashSmtpProxyTest)
#include "tst_crash_smtp_proxy.moc"
