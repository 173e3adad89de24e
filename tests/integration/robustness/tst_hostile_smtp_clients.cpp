// SPDX-License-Identifier: GPL-3.0-or-later
// Slow and hostile clients of greygated's SMTP proxy (docs/smtp.md, "Limits"): slowloris
// sessions dribbling a command a byte at a time up to --smtp-max-per-client (the next one
// from that address gets 421 4.7.0) and --smtp-max-connections (the next one from anywhere
// gets 421 4.3.2), each closed by --smtp-command-timeout however it dribbles; 2,000 idle
// sessions from 100 addresses; clients that vanish mid-command and mid-DATA. Meanwhile a
// well-behaved client's message is relayed (each reply within a deadline, a bound), nothing
// half-received reaches the backend, and afterwards no session or socket is left open.

#include "DaemonProcess.h"
#include "RobustnessKit.h"
#include "ScriptedSmtpBackend.h"
#include "SmtpClient.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <vector>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int ReplyDeadlineMs = 5'000;
const QByteArray Policies = QByteArrayLiteral(R"({"policies": [{"id": 1,
  "narrative": "Partners skip greylisting", "action": "bypass",
  "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}]})");

QByteArray loopback(int n)
{
    return "127.0." + QByteArray::number(n / 250) + '.' + QByteArray::number(n % 250 + 1);
}

} // namespace

class HostileSmtpClientsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void slowlorisUpToPerClientAndTotalLimits();
    void thousandsOfIdleSessionsStarveNoOne();
    void clientsVanishingMidCommandAndMidDataDeliverNothing();

private:
    bool start(DaemonProcess &proxy, const QStringList &extra);
    // A well-behaved message through the proxy, relayed (250 at the dot); empty when it was.
    QString relayOne(quint16 port, const QByteArray &token);

    QTemporaryDir m_work;
    ScriptedSmtpBackend m_backend;
    int m_proxies = 0;
};

void HostileSmtpClientsTest::initTestCase()
{
    QVERIFY(m_work.isValid());
    QVERIFY(raiseFileLimit(10'000) >= 6'000);
    QVERIFY(writeFile(m_work.filePath(QStringLiteral("policies.json")), Policies));
    QString error;
    QVERIFY2(m_backend.startListening(&error), qPrintable(error));
}

bool HostileSmtpClientsTest::start(DaemonProcess &proxy, const QStringList &extra)
{
    QString error;
    const QString dbdir = m_work.filePath(QStringLiteral("db%1").arg(++m_proxies));
    const bool ok = proxy.startOnFreePort(
        greygated(),
        [&](quint16 port) {
            return QStringList{QStringLiteral("--smtp-listen=127.0.0.1:%1").arg(port),
                               QStringLiteral("--smtp-backend=127.0.0.1:%1").arg(m_backend.port()),
                               QStringLiteral("--dbdir=") + dbdir,
                               QStringLiteral("--policies=") +
                                   m_work.filePath(QStringLiteral("policies.json")),
                               QStringLiteral("--user=root")} +
                   extra;
        },
        30'000, &error);
    if (!ok) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    // The start's readiness probe and the proxy's first backend probe gone, so that the
    // test's socket counts start from the daemon at rest.
    if (!waitServerAtRest(proxy.port())) {
        qWarning("the readiness probe's connection is still held");
        return false;
    }
    QThread::msleep(300);
    return true;
}

QString HostileSmtpClientsTest::relayOne(quint16 port, const QByteArray &token)
{
    SmtpClient smtp;
    if (!smtp.connectTo(port, ReplyDeadlineMs))
        return QStringLiteral("cannot connect: ") + smtp.errorString();
    const qsizetype before = m_backend.messageCount();
    const QList<std::pair<QByteArray, int>> steps = {
        {{}, 220},
        {"EHLO good.client.test", 250},
        {"MAIL FROM:<bulk@partner.test>", 250},
        {"RCPT TO:<rcpt@example.test>", 250},
        {"DATA", 354},
        {"Subject: " + token + "\r\n\r\nwell-behaved\r\n.", 250}};
    for (const auto &[line, code] : steps) {
        const auto reply =
            line.isEmpty() ? smtp.readReply(ReplyDeadlineMs) : smtp.command(line, ReplyDeadlineMs);
        if (!reply || reply->code != code)
            return QString::fromLatin1(line + " -> " +
                                       (reply ? reply->summary() : smtp.errorString().toLatin1()));
    }
    smtp.command("QUIT", ReplyDeadlineMs);
    if (m_backend.messageCount() != before + 1)
        return QStringLiteral("relayed, but the backend has %1 new messages")
            .arg(m_backend.messageCount() - before);
    return {};
}

void HostileSmtpClientsTest::slowlorisUpToPerClientAndTotalLimits()
{
    constexpr int PerClient = 10;
    constexpr int Total = 40;
    DaemonProcess proxy(m_work.filePath(QStringLiteral("slowloris.log")));
    QVERIFY(start(proxy, {QStringLiteral("--smtp-max-per-client=%1").arg(PerClient),
                          QStringLiteral("--smtp-max-connections=%1").arg(Total),
                          QStringLiteral("--smtp-command-timeout=3")}));
    const int baseline = openSockets(proxy.pid());

    // Up to the per-client limit from one address; one more from it gets 421 4.7.0.
    std::vector<int> slow;
    for (int i = 0; i < PerClient; ++i)
        slow.push_back(rawConnect(proxy.port(), "127.0.0.3"));
    QTRY_VERIFY_WITH_TIMEOUT(openSockets(proxy.pid()) >= baseline + PerClient, 10'000);
    {
        SmtpClient over;
        QVERIFY(over.connectTo(proxy.port(), ReplyDeadlineMs,
                               QHostAddress(QStringLiteral("127.0.0.3"))));
        const auto refused = over.readReply(ReplyDeadlineMs);
        QVERIFY2(refused && refused->code == 421 && refused->enhancedCode() == "4.7.0",
                 qPrintable(over.errorString()));
    }
    QVERIFY(relayOne(proxy.port(), "during-per-client").isEmpty());

    // Up to the total from other addresses; one more from a new address gets 421 4.3.2.
    for (int i = PerClient; i < Total; ++i)
        slow.push_back(rawConnect(proxy.port(), loopback(4 + i / PerClient).constData()));
    for (const int fd : slow)
        QVERIFY(fd >= 0);
    QTRY_VERIFY_WITH_TIMEOUT(openSockets(proxy.pid()) >= baseline + Total, 10'000);
    {
        SmtpClient over;
        QVERIFY(over.connectTo(proxy.port(), ReplyDeadlineMs,
                               QHostAddress(QStringLiteral("127.0.0.99"))));
        const auto refused = over.readReply(ReplyDeadlineMs);
        QVERIFY2(refused && refused->code == 421 && refused->enhancedCode() == "4.3.2",
                 qPrintable(over.errorString()));
    }

    // They dribble "NOOP" and then junk, a byte every 200 ms, never a whole line: the
    // command timeout (3 s) closes each all the same, with 421 4.4.2.
    const QByteArray dribble =
        "NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    QList<QByteArray> received(qsizetype(slow.size()));
    const QDeadlineTimer closing(30'000);
    qsizetype open = qsizetype(slow.size());
    for (int step = 0; open > 0 && !closing.hasExpired(); ++step) {
        open = 0;
        for (std::size_t i = 0; i < slow.size(); ++i) {
            if (drain(slow[i], &received[qsizetype(i)])) {
                rawSend(slow[i], dribble.mid(step % dribble.size(), 1));
                ++open;
            }
        }
        QThread::msleep(200);
    }
    QVERIFY2(open == 0, qPrintable(QStringLiteral("%1 slowloris sessions still open after 30 s "
                                                  "with a 3 s command timeout")
                                       .arg(open)));
    // Each was told 421 4.4.2 before the close, unless its own unread junk made the close a
    // reset, which discards what was in flight: counted, not required.
    qsizetype told = 0;
    for (const QByteArray &r : std::as_const(received))
        told += r.contains("421 4.4.2") ? 1 : 0;
    qInfo("%lld slowloris sessions closed by the command timeout, %lld saw the 421 4.4.2",
          qlonglong(slow.size()), qlonglong(told));
    for (const int fd : slow)
        rawClose(fd);
    const QString relayed = relayOne(proxy.port(), "after-slowloris");
    QVERIFY2(relayed.isEmpty(), qPrintable(relayed));
    QTRY_VERIFY_WITH_TIMEOUT(openSockets(proxy.pid()) <= baseline + 1, 10'000);
    QVERIFY(proxy.terminate());
    QCOMPARE(proxy.exitCode(), 0);
}

void HostileSmtpClientsTest::thousandsOfIdleSessionsStarveNoOne()
{
    constexpr int Addresses = 100;
    constexpr int PerAddress = 20; // the default --smtp-max-per-client
    DaemonProcess proxy(m_work.filePath(QStringLiteral("idle.log")));
    QVERIFY(start(proxy, {}));
    const int baseline = openSockets(proxy.pid());
    const qint64 rssBefore = residentKb(proxy.pid());
    std::vector<int> idle;
    for (int a = 0; a < Addresses; ++a) {
        const QByteArray address = loopback(500 + a);
        for (int i = 0; i < PerAddress; ++i) {
            const int fd = rawConnect(proxy.port(), address.constData());
            QVERIFY(fd >= 0);
            idle.push_back(fd);
        }
    }
    const int sessions = Addresses * PerAddress;
    QTRY_VERIFY_WITH_TIMEOUT(openSockets(proxy.pid()) >= baseline + sessions, 30'000);
    const QString relayed = relayOne(proxy.port(), "among-idle");
    QVERIFY2(relayed.isEmpty(), qPrintable(relayed));
    int open = 0;
    for (const int fd : idle) {
        QByteArray banner;
        open += drain(fd, &banner) ? 1 : 0;
    }
    QCOMPARE(open, sessions);
    const qint64 rssHeld = residentKb(proxy.pid());
    qInfo("%d idle SMTP sessions held: VmRSS %lld KiB -> %lld KiB (%lld bytes each)", sessions,
          qlonglong(rssBefore), qlonglong(rssHeld),
          qlonglong((rssHeld - rssBefore) * 1024 / sessions));
    QElapsedTimer closing;
    closing.start();
    for (std::size_t i = 0; i < idle.size(); ++i)
        rawClose(idle[i], i % 2 == 0);
    QTRY_VERIFY_WITH_TIMEOUT(openSockets(proxy.pid()) <= baseline + 1, 60'000);
    qInfo("all %d sessions' sockets released %lld ms after the clients closed", sessions,
          qlonglong(closing.elapsed()));
    QVERIFY(proxy.terminate());
    QCOMPARE(proxy.exitCode(), 0);
}

void HostileSmtpClientsTest::clientsVanishingMidCommandAndMidDataDeliverNothing()
{
    constexpr int Vanishing = 60;
    DaemonProcess proxy(m_work.filePath(QStringLiteral("vanish.log")));
    QVERIFY(start(proxy, {}));
    const int baseline = openSockets(proxy.pid());
    const qsizetype before = m_backend.messageCount();
    for (int i = 0; i < Vanishing; ++i) {
        SmtpClient smtp;
        QVERIFY(smtp.connectTo(proxy.port()));
        QVERIFY(smtp.readReply(ReplyDeadlineMs));
        QVERIFY(smtp.command("EHLO vanishing.test", ReplyDeadlineMs));
        switch (i % 3) {
        case 0: // half a command
            smtp.send("MAIL FROM:<bulk@part");
            break;
        case 1: // after the backend was engaged for a recipient
            QVERIFY(smtp.command("MAIL FROM:<bulk@partner.test>", ReplyDeadlineMs));
            QVERIFY(smtp.command("RCPT TO:<rcpt@example.test>", ReplyDeadlineMs));
            smtp.send("DAT");
            break;
        default: // mid-DATA, without the final dot
            QVERIFY(smtp.command("MAIL FROM:<bulk@partner.test>", ReplyDeadlineMs));
            QVERIFY(smtp.command("RCPT TO:<rcpt@example.test>", ReplyDeadlineMs));
            QCOMPARE(smtp.command("DATA", ReplyDeadlineMs).value_or(SmtpClient::Reply{}).code, 354);
            smtp.send("Subject: half\r\n\r\nthe first half of a message\r\n");
            break;
        }
        smtp.close();
    }
    const QString relayed = relayOne(proxy.port(), "after-vanishing");
    QVERIFY2(relayed.isEmpty(), qPrintable(relayed));
    QCOMPARE(m_backend.messageCount(), before + 1); // the well-behaved one alone
    // The proxy may keep one greeted backend connection for reuse: nothing else stays.
    QTRY_VERIFY_WITH_TIMEOUT(openSockets(proxy.pid()) <= baseline + 1, 10'000);
    QVERIFY(m_backend.openSessions() <= 1);
    QVERIFY(proxy.terminate());
    QCOMPARE(proxy.exitCode(), 0);
}

QTEST_GUILESS_MAIN(HostileSmtpClientsTest)
#include "tst_hostile_smtp_clients.moc"
