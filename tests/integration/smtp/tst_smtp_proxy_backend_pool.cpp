// SPDX-License-Identifier: GPL-3.0-or-later
// greygated's pool of backend connections with real peers: smtp-source sends one message per
// connection, one at a time, and smtp-sink behind the proxy counts its own sessions: one
// connection carries them all (and one per message with --smtp-backend-pool=0). With a
// private Postfix as the backend, each client's own address still arrives through XCLIENT
// over the shared connection, and when Postfix closes an idle pooled connection with its
// 421 timeout, the next client is served on a fresh one.

#include "PostfixInstance.h"
#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"
#include "SmtpTestKit.h"

#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {
constexpr int Messages = 10;

// One GET /metrics on greygated's metrics port (from its log line); empty on failure.
QByteArray scrapeMetrics(const SmtpProxyProcess &proxy)
{
    const QRegularExpression listening(QStringLiteral("metrics listening.* port=([0-9]+)"));
    const QRegularExpressionMatch m = listening.match(proxy.log());
    if (!m.hasMatch())
        return {};
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m.captured(1).toUShort());
    if (!socket.waitForConnected(5000))
        return {};
    socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray all;
    for (int i = 0; i < 100 && socket.state() == QAbstractSocket::ConnectedState; ++i) {
        socket.waitForReadyRead(100);
        all += socket.readAll();
    }
    return all + socket.readAll();
}

// A sample's value ("name value" or "name{labels} value" line), -1 when absent.
qint64 sample(const QByteArray &metrics, QByteArrayView name)
{
    for (const QByteArray &line : metrics.split('\n')) {
        if (line.startsWith(name) && line.size() > name.size() && line[name.size()] == ' ')
            return line.sliced(name.size() + 1).trimmed().toLongLong();
    }
    return -1;
}

int count(const QString &text, const QRegularExpression &re)
{
    int n = 0;
    for (QRegularExpressionMatchIterator it = re.globalMatch(text); it.hasNext(); it.next())
        ++n;
    return n;
}
} // namespace

class SmtpProxyBackendPoolTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sequentialClientsShareOneSinkConnection_data();
    void sequentialClientsShareOneSinkConnection();
    void postfixBackendSeesEachClientOverOnePooledConnection();
};

void SmtpProxyBackendPoolTest::sequentialClientsShareOneSinkConnection_data()
{
    QTest::addColumn<QStringList>("poolArgs");
    QTest::addColumn<int>("sinkSessions"); // the proxy's connections for the messages
    // /metrics: greygate_smtp_backend_pool_{idle,opened_total,reused_total,closed_total};
    // -1: the family is absent (no pool). One connection opened for the first message,
    // reused for the others, kept idle at the end.
    QTest::addColumn<QList<qint64>>("poolMetrics");
    QTest::newRow("pool (default)") << QStringList() << 1 << QList<qint64>{1, 1, Messages - 1, 0};
    QTest::newRow("--smtp-backend-pool=0") << QStringList{QStringLiteral("--smtp-backend-pool=0")}
                                           << Messages << QList<qint64>{-1, -1, -1, -1};
}

void SmtpProxyBackendPoolTest::sequentialClientsShareOneSinkConnection()
{
    QFETCH(QStringList, poolArgs);
    QFETCH(int, sinkSessions);
    QFETCH(QList<qint64>, poolMetrics);
    QTemporaryDir work;
    const QString policies = writePolicies(work);
    QVERIFY(!policies.isEmpty());
    SmtpSinkProcess sink; // offers XCLIENT (NAME HELO): it is sent on the pooled connection
    QString error;
    QVERIFY2(sink.start(&error), qPrintable(error));
    SmtpProxyProcess proxy(work.path());
    QVERIFY2(proxy.start(sink.port(),
                         proxyArgs(QStringList{QStringLiteral("--policies=") + policies,
                                               QStringLiteral("--metrics-listen=127.0.0.1:0")} +
                                   poolArgs),
                         &error),
             qPrintable(error));
    // The sink's own readiness check and the proxy's start-up probe, both ended.
    QTRY_VERIFY_WITH_TIMEOUT(sink.sessionCount() >= 2, 10'000);
    const int before = sink.sessionCount();

    // One session at a time, one message per connection (no -d): as inbound MX traffic.
    const ProgramResult run = runProgram(
        QStringLiteral("/usr/sbin/smtp-source"),
        {QStringLiteral("-s"), QStringLiteral("1"), QStringLiteral("-m"), QString::number(Messages),
         QStringLiteral("-f"), PartnerSender, QStringLiteral("-t"), Recipient, QStringLiteral("-M"),
         QStringLiteral("client.test"), QStringLiteral("127.0.0.1:%1").arg(proxy.port())},
        120'000);
    const auto context = [&] {
        return (QString::fromUtf8(run.out + run.err) + QStringLiteral("\n--- greygated:\n") +
                proxy.log().right(6000) + QStringLiteral("\n--- smtp-sink:\n") +
                sink.log().right(4000))
            .toUtf8();
    };
    QVERIFY2(run.finished && run.exitCode == 0, context().constData());
    QVERIFY2(sink.waitForMessages(Messages, 20'000), context().constData());
    QCOMPARE(sink.messageCount(), Messages);
    QTRY_VERIFY_WITH_TIMEOUT(proxy.log().contains(QStringLiteral("metrics listening")), 5000);
    const QByteArray metrics = scrapeMetrics(proxy);
    QVERIFY2(metrics.contains("greygate_smtp_messages_total{result=\"relayed\"} 10"),
             QByteArray(metrics + proxy.log().toUtf8()).constData());
    const QList<qint64> scraped = {sample(metrics, "greygate_smtp_backend_pool_idle"),
                                   sample(metrics, "greygate_smtp_backend_pool_opened_total"),
                                   sample(metrics, "greygate_smtp_backend_pool_reused_total"),
                                   sample(metrics, "greygate_smtp_backend_pool_closed_total")};
    // With I/O threads each has its own pool shard: a session may land on a thread whose
    // shard has no connection yet (the previous session's end is still on its way to the
    // accepting thread), so up to one connection per thread is opened, each then reused.
    const int threads = qEnvironmentVariableIntValue("GREYGATE_TEST_SMTP_THREADS");
    if (threads > 1 && poolMetrics[0] >= 0) {
        const qint64 opened = scraped[1];
        QVERIFY2(opened >= 1 && opened <= threads, metrics.constData());
        poolMetrics = {opened, opened, Messages - opened, 0};
        sinkSessions = int(opened);
    }
    QVERIFY2(scraped == poolMetrics, metrics.constData());
    // The sink counts a session when it ends: stopping the proxy closes the pooled one.
    QVERIFY2(proxy.terminate(), qPrintable(proxy.log()));
    QTRY_COMPARE_WITH_TIMEOUT(sink.sessionCount() - before, sinkSessions, 10'000);
    const QList<QByteArray> messages = sink.messages();
    QCOMPARE(messages.size(), Messages);
    for (const QByteArray &message : messages)
        QVERIFY2(message.contains("X-Mail-Args: <bulk@partner.test>"), message.constData());
}

void SmtpProxyBackendPoolTest::postfixBackendSeesEachClientOverOnePooledConnection()
{
    QTemporaryDir work;
    const QString policies = writePolicies(work);
    QVERIFY(!policies.isEmpty());
    PostfixInstance backend;
    backend.addMailbox(Recipient);
    backend.setParameter(QStringLiteral("smtpd_authorized_xclient_hosts"),
                         QStringLiteral("127.0.0.0/8"));
    // Shorter than the pool's idle time on purpose: Postfix ends the idle pooled connection
    // with "421 4.4.2 ... timeout exceeded", which the proxy must take in its stride.
    backend.setParameter(QStringLiteral("smtpd_timeout"), QStringLiteral("10s"));
    QString error;
    QVERIFY2(backend.start(&error), qPrintable(error));
    SmtpProxyProcess proxy(work.path());
    QVERIFY2(proxy.start(backend.smtpPort(), proxyArgs({QStringLiteral("--policies=") + policies}),
                         &error),
             qPrintable(error));
    const QRegularExpression connects(QStringLiteral(": connect from "));
    const QRegularExpression disconnects(QStringLiteral(": disconnect from "));
    // Every connection so far (start-up checks, the proxy's probe) has ended.
    QTRY_VERIFY_WITH_TIMEOUT(count(backend.maillog(), connects) ==
                                     count(backend.maillog(), disconnects) &&
                                 proxy.log().contains(QStringLiteral("smtp proxy listening")),
                             15'000);
    const int before = count(backend.maillog(), connects);

    const QStringList clients = {QStringLiteral("127.0.0.2"), QStringLiteral("127.0.0.3"),
                                 QStringLiteral("127.0.0.2")};
    for (const QString &client : clients) {
        const Swaks sent = swaks(proxy.port(), PartnerSender, Recipient, QStringLiteral("pooled"),
                                 {QStringLiteral("--local-interface"), client});
        QVERIFY2(sent.accepted(),
                 (sent.transcript + proxy.log() + backend.maillog()).toUtf8().constData());
    }
    const auto context = [&] {
        return (QStringLiteral("--- greygated:\n") + proxy.log() +
                QStringLiteral("\n--- backend maillog:\n") + backend.maillog())
            .toUtf8();
    };
    // One connection from the proxy for the three clients, XCLIENT per client on it.
    QCOMPARE(count(backend.maillog(), connects) - before, 1);
    QTRY_VERIFY2_WITH_TIMEOUT(backend.mailbox(Recipient).count("Subject: pooled") == 3,
                              context().constData(), 30'000);
    const QString mailbox = QString::fromUtf8(backend.mailbox(Recipient));
    const QRegularExpression received(
        QStringLiteral("Received: from [^\\n]*\\([^\\n]*\\[([0-9.]+)\\]\\)"));
    QStringList seen;
    for (auto it = received.globalMatch(mailbox); it.hasNext();)
        seen.append(it.next().captured(1));
    seen.sort();
    QCOMPARE(seen, (QStringList{QStringLiteral("127.0.0.2"), QStringLiteral("127.0.0.2"),
                                QStringLiteral("127.0.0.3")}));

    // Postfix times the idle pooled connection out with its 421; the proxy drops it, and
    // the next client is served on a fresh connection without an error.
    QTRY_VERIFY2_WITH_TIMEOUT(proxy.log().contains(QStringLiteral("421 4.4.2")),
                              context().constData(), 30'000);
    const Swaks after = swaks(proxy.port(), PartnerSender, Recipient, QStringLiteral("after"),
                              {QStringLiteral("--local-interface"), QStringLiteral("127.0.0.3")});
    QVERIFY2(after.accepted(), QByteArray(after.transcript.toUtf8() + context()).constData());
    QCOMPARE(count(backend.maillog(), connects) - before, 2);
    QTRY_VERIFY2_WITH_TIMEOUT(backend.mailbox(Recipient).contains("Subject: after"),
                              context().constData(), 30'000);

    QVERIFY2(proxy.terminate(), qPrintable(proxy.log()));
    backend.stop();
}

QTEST_GUILESS_MAIN(SmtpProxyBackendPoolTest)
#include "tst_smtp_proxy_backend_pool.moc"
