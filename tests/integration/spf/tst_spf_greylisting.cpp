// SPDX-License-Identifier: GPL-3.0-or-later
// greygated --triplet-key=spf against a real DNS server (dnsmasq) on loopback: a sender's
// retry from another IP its SPF record authorises passes; from an IP it does not, it is
// greylisted again; with the DNS server stopped, triplets are keyed by IP (no bypass).
#include "DaemonProcess.h"
#include "DnsmasqProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;

class TestSpfGreylisting : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void retriesFromTheSendersSpfPoolPass();
    void withoutDnsTripletsAreKeyedByIp();

private:
    // greygated --triplet-key=spf with --delay=1, asking the dnsmasq on dnsPort.
    bool startGreygated(DaemonProcess &daemon, const QString &db, quint16 dnsPort,
                        const QStringList &extra, QString *error)
    {
        const QString dbdir = m_work.filePath(db);
        return daemon.startOnFreePort(
            program(QStringLiteral("greygated")),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:") + QString::number(port),
                                   QStringLiteral("--dbdir=") + dbdir, QStringLiteral("--delay=1"),
                                   QStringLiteral("--triplet-key=spf"),
                                   QStringLiteral("--dns-server=127.0.0.1:") +
                                       QString::number(dnsPort)} +
                       extra;
            },
            20'000, error);
    }
    static bool deferred(const std::optional<QByteArray> &action)
    {
        return action && action->startsWith("DEFER_IF_PERMIT");
    }
    static bool accepted(const std::optional<QByteArray> &action)
    {
        return action && (action->startsWith("PREPEND X-Greylist") || *action == "DUNNO");
    }

    QTemporaryDir m_work;
};

void TestSpfGreylisting::initTestCase()
{
    if (DnsmasqProcess::program().isEmpty())
        QSKIP("dnsmasq is not installed (scripts/install-deps.sh --test installs it)");
    QVERIFY(m_work.isValid());
}

void TestSpfGreylisting::retriesFromTheSendersSpfPoolPass()
{
    DnsmasqProcess dns(m_work.path());
    QString error;
    QVERIFY2(dns.start({QStringLiteral("--local=/example.com/"),
                        QStringLiteral("--txt-record=example.com,v=spf1 include:_spf.example.com "
                                       "-all"),
                        QStringLiteral("--txt-record=_spf.example.com,v=spf1 ip4:192.0.2.10 "
                                       "ip4:198.51.100.20 ip6:2001:db8::20 -all")},
                       &error),
             qPrintable(error));
    DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated-spf.log")));
    QVERIFY2(startGreygated(daemon, QStringLiteral("db-spf"), dns.port(),
                            {QStringLiteral("--log-level=debug")}, &error),
             qPrintable(error));
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    const QByteArray sender = "news@example.com";
    QVERIFY(deferred(client.askRcpt("192.0.2.10", sender, "bob@receiver.example")));
    QTest::qWait(1100); // past --delay=1
    const std::optional<QByteArray> retry =
        client.askRcpt("198.51.100.20", sender, "bob@receiver.example");
    QVERIFY2(accepted(retry), retry ? retry->constData() : "no answer");
    // The same message to another recipient, from an IP outside the SPF record: greylisted.
    QVERIFY(deferred(client.askRcpt("192.0.2.10", sender, "carol@receiver.example")));
    QTest::qWait(1100);
    QVERIFY(deferred(client.askRcpt("203.0.113.5", sender, "carol@receiver.example")));
    // Dual stack: the first attempt over IPv4, the retry over IPv6.
    QVERIFY(deferred(client.askRcpt("192.0.2.10", sender, "dave@receiver.example")));
    QTest::qWait(1100);
    QVERIFY(accepted(client.askRcpt("2001:db8::20", sender, "dave@receiver.example")));
    QVERIFY2(daemon.log().contains(QStringLiteral("spf:example.com")), qPrintable(daemon.log()));
    QVERIFY(daemon.terminate());
}

void TestSpfGreylisting::withoutDnsTripletsAreKeyedByIp()
{
    DnsmasqProcess dns(m_work.path());
    QString error;
    QVERIFY2(dns.start({QStringLiteral("--local=/example.org/"),
                        QStringLiteral("--txt-record=example.org,v=spf1 ip4:192.0.2.10 "
                                       "ip4:198.51.100.20 -all")},
                       &error),
             qPrintable(error));
    DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated-nodns.log")));
    QVERIFY2(startGreygated(daemon, QStringLiteral("db-nodns"), dns.port(),
                            {QStringLiteral("--dns-timeout-ms=100")}, &error),
             qPrintable(error));
    QVERIFY(dns.terminate()); // the DNS server goes away before any lookup
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    const QByteArray sender = "news@example.org";
    QVERIFY(deferred(client.askRcpt("192.0.2.10", sender, "bob@receiver.example")));
    QTest::qWait(1100);
    // Authorised by SPF, but SPF cannot be checked: another IP is another triplet.
    QVERIFY(deferred(client.askRcpt("198.51.100.20", sender, "bob@receiver.example")));
    // The first client's own retry passes, as with IP-based triplets.
    QVERIFY(accepted(client.askRcpt("192.0.2.10", sender, "bob@receiver.example")));
    QVERIFY(daemon.isRunning());
    QVERIFY(daemon.terminate());
}

QTEST_GUILESS_MAIN(TestSpfGreylisting)
#include "tst_spf_greylisting.moc"
