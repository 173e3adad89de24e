// SPDX-License-Identifier: GPL-3.0-or-later
// Slow and hostile clients of greygated's policy server (docs/greygated.md, "Errors"):
// slowloris connections up to --max-connections (one more is closed at once; each is closed
// --request-timeout after its first byte), thousands of idle connections, and clients that
// vanish mid-request (FIN or RST). Meanwhile a well-behaved client is served, every answer
// within a deadline (a bound, far above the normal time), and afterwards the daemon holds
// no socket more than before.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RobustnessKit.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <vector>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int AnswerDeadlineMs = 5'000;
const QByteArray FullRequest = "request=smtpd_access_policy\nprotocol_state=RCPT\n"
                               "client_address=192.0.2.5\nsender=a@b.example\n"
                               "recipient=c@d.example\ninstance=1.2.3\n\n";

} // namespace

class HostilePolicyClientsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void slowlorisUpToTheConnectionLimitStarvesNoOne();
    void thousandsOfIdleConnectionsStarveNoOne();
    void clientsVanishingMidRequestLeaveNothingBehind();

private:
    bool start(DaemonProcess &daemon, const QStringList &extra);
    // A well-behaved client: `count` requests, each answered within the deadline.
    QString serveWellBehaved(quint16 port, int count, const QByteArray &tag);

    QTemporaryDir m_work;
    int m_daemons = 0;
};

void HostilePolicyClientsTest::initTestCase()
{
    QVERIFY(m_work.isValid());
    // Room for thousands of sockets here and in the daemons (they inherit the limit).
    QVERIFY(raiseFileLimit(10'000) >= 6'000);
}

bool HostilePolicyClientsTest::start(DaemonProcess &daemon, const QStringList &extra)
{
    QString error;
    const QString dbdir = m_work.filePath(QStringLiteral("db%1").arg(++m_daemons));
    const bool ok = daemon.startOnFreePort(
        greygated(),
        [&](quint16 port) {
            return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                               QStringLiteral("--dbdir=") + dbdir, QStringLiteral("--user=root")} +
                   extra;
        },
        30'000, &error);
    if (!ok) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    // The start's readiness probe (a connection opened and closed) must be gone before a
    // test counts the daemon's sockets, or takes a place under --max-connections.
    if (!waitServerAtRest(daemon.port())) {
        qWarning("the readiness probe's connection is still held");
        return false;
    }
    return true;
}

QString HostilePolicyClientsTest::serveWellBehaved(quint16 port, int count, const QByteArray &tag)
{
    PolicyClient policy;
    if (!policy.connectTo(port, AnswerDeadlineMs))
        return QStringLiteral("well-behaved client cannot connect: ") + policy.errorString();
    for (int i = 0; i < count; ++i) {
        const auto a = policy.askRcpt("192.0.2.1", tag + letters(quint64(i)) + "@good.example",
                                      "rcpt@dest.example", {}, AnswerDeadlineMs);
        if (!a || !a->startsWith("DEFER_IF_PERMIT"))
            return QStringLiteral("well-behaved request %1: %2")
                .arg(i)
                .arg(a ? QString::fromLatin1(*a) : policy.errorString());
    }
    return {};
}

void HostilePolicyClientsTest::slowlorisUpToTheConnectionLimitStarvesNoOne()
{
    constexpr int Limit = 50;
    DaemonProcess daemon(m_work.filePath(QStringLiteral("slowloris.log")));
    QVERIFY(start(daemon, {QStringLiteral("--max-connections=%1").arg(Limit),
                           QStringLiteral("--request-timeout=3")}));
    const int baseline = openSockets(daemon.pid());

    // Limit - 1 slowloris connections, each dribbling a request one byte at a time.
    std::vector<int> slow;
    for (int i = 0; i < Limit - 1; ++i) {
        const int fd = rawConnect(daemon.port());
        QVERIFY(fd >= 0);
        slow.push_back(fd);
    }
    PolicyClient good;
    QVERIFY(good.connectTo(daemon.port()));
    // The last place is the well-behaved client's: served.
    const auto first =
        good.askRcpt("192.0.2.1", "first@good.example", "rcpt@dest.example", {}, AnswerDeadlineMs);
    QVERIFY2(first && first->startsWith("DEFER_IF_PERMIT"), qPrintable(good.errorString()));
    // One more than the limit: closed at once.
    const int extra = rawConnect(daemon.port());
    QVERIFY(extra >= 0);
    QTRY_VERIFY_WITH_TIMEOUT(!drain(extra), 5'000);
    rawClose(extra);

    // While they dribble, the well-behaved client is served.
    const QDeadlineTimer dribbling(2'000);
    int sent = 0;
    while (!dribbling.hasExpired() && sent < FullRequest.size() - 1) {
        for (const int fd : slow)
            rawSend(fd, FullRequest.mid(sent, 1));
        ++sent;
        const auto a = good.askRcpt("192.0.2.1", "good" + letters(quint64(sent)) + "@good.example",
                                    "rcpt@dest.example", {}, AnswerDeadlineMs);
        QVERIFY2(a && a->startsWith("DEFER_IF_PERMIT"), qPrintable(good.errorString()));
        QThread::msleep(100);
    }
    // Each is closed --request-timeout (3 s) after its first byte, whatever it sends since.
    const QDeadlineTimer closing(20'000);
    qsizetype open = qsizetype(slow.size());
    while (open > 0 && !closing.hasExpired()) {
        open = 0;
        for (const int fd : slow) {
            if (drain(fd)) {
                rawSend(fd, "x");
                ++open;
            }
        }
        QThread::msleep(200);
    }
    QCOMPARE(open, 0);
    for (const int fd : slow)
        rawClose(fd);
    QVERIFY(serveWellBehaved(daemon.port(), 20, "after").isEmpty());
    good.close();
    QTRY_COMPARE_WITH_TIMEOUT(openSockets(daemon.pid()), baseline, 10'000);
    QVERIFY2(daemon.log().contains(QStringLiteral("timeout")), qPrintable(daemon.log()));
    QVERIFY(daemon.terminate());
    QCOMPARE(daemon.exitCode(), 0);
}

void HostilePolicyClientsTest::thousandsOfIdleConnectionsStarveNoOne()
{
    constexpr int Idle = 2'500;
    DaemonProcess daemon(m_work.filePath(QStringLiteral("idle.log")));
    QVERIFY(start(daemon, {QStringLiteral("--max-connections=3000")}));
    const int baseline = openSockets(daemon.pid());
    const qint64 rssBefore = residentKb(daemon.pid());

    std::vector<int> idle;
    for (int i = 0; i < Idle; ++i) {
        const int fd = rawConnect(daemon.port());
        QVERIFY2(fd >= 0, qPrintable(QStringLiteral("connection %1: %2").arg(i).arg(errno)));
        idle.push_back(fd);
    }
    QTRY_COMPARE_WITH_TIMEOUT(openSockets(daemon.pid()), baseline + Idle, 20'000);
    const QString served = serveWellBehaved(daemon.port(), 200, "idle");
    QVERIFY2(served.isEmpty(), qPrintable(served));
    int stillOpen = 0;
    for (const int fd : idle)
        stillOpen += drain(fd) ? 1 : 0;
    QCOMPARE(stillOpen, Idle); // none dropped for the well-behaved one's sake
    const qint64 rssHeld = residentKb(daemon.pid());
    qInfo("%d idle connections held: VmRSS %lld KiB -> %lld KiB (%lld bytes each)", Idle,
          qlonglong(rssBefore), qlonglong(rssHeld), qlonglong((rssHeld - rssBefore) * 1024 / Idle));

    for (std::size_t i = 0; i < idle.size(); ++i)
        rawClose(idle[i], i % 2 == 0);
    QTRY_COMPARE_WITH_TIMEOUT(openSockets(daemon.pid()), baseline, 20'000);
    QVERIFY(daemon.terminate());
    QCOMPARE(daemon.exitCode(), 0);
}

void HostilePolicyClientsTest::clientsVanishingMidRequestLeaveNothingBehind()
{
    constexpr int Vanishing = 400;
    DaemonProcess daemon(m_work.filePath(QStringLiteral("vanish.log")));
    QVERIFY(start(daemon, {}));
    const int baseline = openSockets(daemon.pid());
    for (int i = 0; i < Vanishing; ++i) {
        const int fd = rawConnect(daemon.port());
        QVERIFY(fd >= 0);
        // Cut anywhere, the whole request included (gone before its answer), then FIN or RST.
        const qsizetype cut = 1 + i % FullRequest.size();
        QVERIFY(rawSend(fd, FullRequest.left(cut)));
        if (i % 3 == 0)
            QThread::usleep(500);
        rawClose(fd, i % 2 == 1);
        if (i % 50 == 0) {
            const QString served = serveWellBehaved(daemon.port(), 5, "v" + letters(quint64(i)));
            QVERIFY2(served.isEmpty(), qPrintable(served));
        }
    }
    QTRY_COMPARE_WITH_TIMEOUT(openSockets(daemon.pid()), baseline, 10'000);
    const QString served = serveWellBehaved(daemon.port(), 20, "end");
    QVERIFY2(served.isEmpty(), qPrintable(served));
    QVERIFY(daemon.isRunning());
    QVERIFY(daemon.terminate());
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(HostilePolicyClientsTest)
#include "tst_hostile_policy_clients.moc"
