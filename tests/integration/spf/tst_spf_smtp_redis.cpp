// SPDX-License-Identifier: GPL-3.0-or-later
// SPF-keyed triplets beyond the policy server, with the sender's SPF record served by dnsmasq
// on loopback: through the SMTP proxy (clients on 127.0.0.2 and 127.0.1.3, two networks of
// one SPF record, share the triplet; 127.0.2.4, outside it, does not), and with the shared
// Redis store (a retry from another authorised network passes on another greygated host),
// where pool bypasses are refused with a message naming what to use instead.
#include "DaemonProcess.h"
#include "DnsmasqProcess.h"
#include "PolicyClient.h"
#include "RedisTestServer.h"
#include "SmtpClient.h"
#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"
#include "TestSupport.h"

#include <QHostAddress>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;

class TestSpfSmtpRedis : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void smtpProxyKeysTripletsBySpf();
    void redisModeKeysBySpfAndRefusesPoolBypasses();

private:
    // RCPT's reply code for one envelope through the proxy, from localAddress.
    static int rcptCode(quint16 port, const char *localAddress, const QByteArray &sender,
                        const QByteArray &recipient)
    {
        SmtpClient c;
        if (!c.connectTo(port, 5'000, QHostAddress(QLatin1StringView(localAddress))) ||
            !c.readReply() || !c.command("EHLO client.example") ||
            !c.command("MAIL FROM:<" + sender + '>'))
            return -1;
        const std::optional<SmtpClient::Reply> r = c.command("RCPT TO:<" + recipient + '>');
        c.command("QUIT");
        return r ? r->code : -1;
    }
    bool startDns(DnsmasqProcess &dns)
    {
        QString error;
        const bool up = dns.start(
            {QStringLiteral("--local=/example.com/"),
             QStringLiteral("--txt-record=example.com,v=spf1 include:_spf.example.com -all"),
             QStringLiteral("--txt-record=_spf.example.com,v=spf1 ip4:127.0.0.2 ip4:127.0.1.3 "
                            "ip4:192.0.2.10 ip4:198.51.100.20 -all")},
            &error);
        if (!up)
            qWarning("%s", qPrintable(error));
        return up;
    }

    QTemporaryDir m_work;
};

void TestSpfSmtpRedis::initTestCase()
{
    if (DnsmasqProcess::program().isEmpty())
        QSKIP("dnsmasq is not installed (scripts/install-deps.sh --test installs it)");
    QVERIFY(m_work.isValid());
}

void TestSpfSmtpRedis::smtpProxyKeysTripletsBySpf()
{
    DnsmasqProcess dns(m_work.path());
    QVERIFY(startDns(dns));
    SmtpSinkProcess sink;
    QString error;
    QVERIFY2(sink.start(&error), qPrintable(error));
    SmtpProxyProcess proxy(m_work.filePath(QStringLiteral("smtp")));
    QVERIFY2(proxy.start(sink.port(),
                         {QStringLiteral("--delay=1"), QStringLiteral("--triplet-key=spf"),
                          QStringLiteral("--dns-server=127.0.0.1:") + QString::number(dns.port()),
                          QStringLiteral("--log-level=debug")},
                         &error),
             qPrintable(error));
    const QByteArray sender = "news@example.com";
    QCOMPARE(rcptCode(proxy.port(), "127.0.0.2", sender, "bob@receiver.example"), 451);
    QTest::qWait(1100); // past --delay=1
    // Another network of the same SPF record: the same triplet, so the retry passes.
    QCOMPARE(rcptCode(proxy.port(), "127.0.1.3", sender, "bob@receiver.example"), 250);
    // A network the record does not name: its own triplet, greylisted.
    QCOMPARE(rcptCode(proxy.port(), "127.0.2.4", sender, "bob@receiver.example"), 451);
    // The proxy went on working: nothing above was a fallback to a bypass.
    QVERIFY(proxy.isRunning());
    QVERIFY(proxy.terminate());
}

void TestSpfSmtpRedis::redisModeKeysBySpfAndRefusesPoolBypasses()
{
    RedisTestServer redis;
    QString error;
    if (!redis.start(&error))
        QSKIP(qPrintable(QStringLiteral("no redis-server: ") + error));
    DnsmasqProcess dns(m_work.path());
    QVERIFY(startDns(dns));
    const auto startHost = [&](DaemonProcess &daemon, const QString &name) {
        return daemon.startOnFreePort(
            program(QStringLiteral("greygated")),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:") + QString::number(port),
                                   QStringLiteral("--dbdir=") + m_work.filePath(name),
                                   QStringLiteral("--store=") + redis.url(),
                                   QStringLiteral("--delay=1"),
                                   QStringLiteral("--triplet-key=spf"),
                                   QStringLiteral("--dns-server=127.0.0.1:") +
                                       QString::number(dns.port()),
                                   QStringLiteral("--control-listen=127.0.0.1:0")};
            },
            30'000, &error);
    };
    DaemonProcess a(m_work.filePath(QStringLiteral("redis-a.log")));
    DaemonProcess b(m_work.filePath(QStringLiteral("redis-b.log")));
    QVERIFY2(startHost(a, QStringLiteral("db-a")), qPrintable(error));
    QVERIFY2(startHost(b, QStringLiteral("db-b")), qPrintable(error));
    PolicyClient toA, toB;
    QVERIFY(toA.connectTo(a.port()));
    QVERIFY(toB.connectTo(b.port()));
    const QByteArray sender = "news@example.com";
    const std::optional<QByteArray> first =
        toA.askRcpt("192.0.2.10", sender, "bob@receiver.example");
    QVERIFY2(first && first->startsWith("DEFER_IF_PERMIT"), qPrintable(a.log()));
    QTest::qWait(1100);
    // The retry from another network of the pool, on the other host: one shared SPF triplet.
    const std::optional<QByteArray> retry =
        toB.askRcpt("198.51.100.20", sender, "bob@receiver.example");
    QVERIFY2(retry && retry->startsWith("PREPEND X-Greylist"), retry ? retry->constData() : "none");
    // Outside the record: greylisted.
    const std::optional<QByteArray> other =
        toB.askRcpt("203.0.113.5", sender, "bob@receiver.example");
    QVERIFY(other && other->startsWith("DEFER_IF_PERMIT"));

    // A pool bypass would hold on one host only: refused, pointing to a timed release.
    static const QRegularExpression re(
        QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
    quint16 control = 0;
    QVERIFY(QTest::qWaitFor(
        [&] {
            const QRegularExpressionMatch m = re.match(a.log());
            control = m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
            return control != 0;
        },
        10'000));
    const ProgramResult r = runProgram(
        program(QStringLiteral("greygatectl")),
        {QStringLiteral("--proxy"), QStringLiteral("ws://127.0.0.1:") + QString::number(control),
         QStringLiteral("--token-file"), m_work.filePath(QStringLiteral("db-a/control.token")),
         QStringLiteral("poolbypass"), QStringLiteral("add"), QStringLiteral("example.com"),
         QStringLiteral("--for"), QStringLiteral("1h")},
        30'000);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("would not reach the other hosts sharing the Redis store") &&
                 r.err.contains("release --domain example.com"),
             r.err.constData());
    QVERIFY(a.terminate());
    QVERIFY(b.terminate());
}

QTEST_GUILESS_MAIN(TestSpfSmtpRedis)
#include "tst_spf_smtp_redis.moc"
