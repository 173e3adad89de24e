// SPDX-License-Identifier: GPL-3.0-or-later
// The console's pool-retry panel against a real greygated (--triplet-key=spf, its sender's
// SPF record served by dnsmasq on loopback): a scripted retry from three networks shows as
// "example.com retrying from 3 IPs in 3 networks" with its "Bypass for N h" button; the
// click adds a bypass scoped to the SPF ranges, listed with its expiry; the retry from the
// pool is then let through; Remove ends it. With GREYGATE_SCREENSHOT_DIR set the panel is
// grabbed (pool-retry.png, pool-bypass.png) for docs/console.md.
#include "../../integration/spf/DnsmasqProcess.h"
#include "../models/LiveModelsDaemon.h"
#include "widgets/PoolRetryPanel.h"

#include <QApplication>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>

using namespace greygate;
using namespace greygate::test;

class TestPoolRetryPanel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void poolRetryShowsWithItsBypassButtonWhichBypassesUntilRemoved();

private:
    static void grab(QWidget &widget, const QString &name)
    {
        const QString dir = qEnvironmentVariable("GREYGATE_SCREENSHOT_DIR");
        if (!dir.isEmpty())
            QVERIFY(widget.grab().save(dir + u'/' + name));
    }
};

void TestPoolRetryPanel::poolRetryShowsWithItsBypassButtonWhichBypassesUntilRemoved()
{
    if (DnsmasqProcess::program().isEmpty())
        QSKIP("dnsmasq is not installed (scripts/install-deps.sh --test installs it)");
    QTemporaryDir work;
    DnsmasqProcess dns(work.path());
    QString error;
    QVERIFY2(dns.start({QStringLiteral("--local=/outlook.example/"),
                        QStringLiteral("--txt-record=outlook.example,v=spf1 "
                                       "include:spf.protection.outlook.example -all"),
                        QStringLiteral("--txt-record=spf.protection.outlook.example,v=spf1 "
                                       "ip4:192.0.2.0/24 ip4:198.51.100.0/24 ip4:203.0.113.0/24 "
                                       "ip6:2001:db8::/32 -all")},
                       &error),
             qPrintable(error));
    LiveModelsDaemon d;
    QVERIFY2(
        d.start(3600, {QStringLiteral("--triplet-key=spf"),
                       QStringLiteral("--dns-server=127.0.0.1:") + QString::number(dns.port())}),
        qPrintable(d.error));
    QVERIFY(d.connectRegistry());

    PoolRetryPanel panel(d.registry);
    panel.resize(1000, 520);
    panel.show();
    QSignalSpy loaded(&panel, &PoolRetryPanel::loaded);
    panel.setProxyId(d.proxyId);
    QVERIFY(loaded.wait(10'000));
    QCOMPARE(panel.retriesTable()->rowCount(), 0);

    const QByteArray sender = "newsletter@outlook.example";
    for (const QByteArray ip : {"192.0.2.10", "198.51.100.20", "203.0.113.30"})
        QVERIFY(d.rcpt(ip, sender, "bob@receiver.example").startsWith("DEFER_IF_PERMIT"));
    // The poolRetry event makes the panel read the list again.
    QTRY_COMPARE_WITH_TIMEOUT(panel.retriesTable()->rowCount(), 1, 10'000);
    QCOMPARE(panel.retriesTable()->item(0, 0)->text(), QStringLiteral("outlook.example"));
    QCOMPARE(panel.retriesTable()->item(0, 1)->text(),
             QStringLiteral("outlook.example retrying from 3 IPs in 3 networks"));
    panel.hoursBox()->setValue(6);
    QPushButton *bypass = panel.bypassButton(0);
    QVERIFY(bypass);
    QCOMPARE(bypass->text(), QStringLiteral("Bypass for 6 h"));
    grab(panel, QStringLiteral("pool-retry.png"));

    bypass->click();
    QTRY_COMPARE_WITH_TIMEOUT(panel.bypassesTable()->rowCount(), 1, 10'000);
    QCOMPARE(panel.bypassesTable()->item(0, 0)->text(), QStringLiteral("outlook.example"));
    QVERIFY2(panel.bypassesTable()->item(0, 1)->text().contains(QStringLiteral("198.51.100.0/24")),
             qPrintable(panel.bypassesTable()->item(0, 1)->text()));
    QVERIFY2(panel.message().contains(QStringLiteral("from 4 ranges")),
             qPrintable(panel.message()));
    const QString left = panel.bypassesTable()->item(0, 3)->text();
    QVERIFY2(left == u"6 h 0 min" || left == u"5 h 59 min", qPrintable(left));
    grab(panel, QStringLiteral("pool-bypass.png"));

    // Honoured for the pool, over IPv6 too; another domain from the pool is greylisted.
    QCOMPARE(d.rcpt("2001:db8::7", sender, "carol@receiver.example"), QByteArray("DUNNO"));
    QVERIFY(d.rcpt("198.51.100.20", "x@elsewhere.example", "carol@receiver.example")
                .startsWith("DEFER_IF_PERMIT"));

    QPushButton *remove = panel.removeButton(0);
    QVERIFY(remove);
    remove->click();
    QTRY_COMPARE_WITH_TIMEOUT(panel.bypassesTable()->rowCount(), 0, 10'000);
    QVERIFY(d.rcpt("2001:db8::7", sender, "dave@receiver.example").startsWith("DEFER_IF_PERMIT"));
}

QTEST_MAIN(TestPoolRetryPanel)
#include "tst_pool_retry_panel.moc"
