// SPDX-License-Identifier: GPL-3.0-or-later
// The pool-retry event and its bypass through a real greygated's control API, driven by the
// real greygatectl, with the sender's SPF record served by dnsmasq on loopback: a scripted
// retry from three networks raises a poolRetry event; `poolbypass add` scopes a bypass to
// the ranges the SPF record passes; mail of that domain from those ranges is then let through
// (other domains and other addresses are still greylisted) until the bypass expires. Every
// attempt event says which key its triplet used and why.
#include "DaemonProcess.h"
#include "DnsmasqProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;

class TestSpfPoolBypass : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void poolRetryRaisesAnEventAndItsBypassIsHonouredUntilItExpires();
    void bypassWithRangesGivenNeedsNoDnsAndIsRemovable();

private:
    struct Ctl
    {
        int code = -1;
        QString out;
        QString err;
    };
    bool startGreygated(DaemonProcess &daemon, const QString &db, const QStringList &extra);
    Ctl ctl(const QStringList &arguments, bool readOnly = false);
    // The events since the start, as greygatectl watch --json prints them (one per line).
    QList<QJsonObject> events(int count);
    static bool deferred(const std::optional<QByteArray> &action)
    {
        return action && action->startsWith("DEFER_IF_PERMIT");
    }

    QTemporaryDir m_work;
    QString m_dbdir;
    quint16 m_controlPort = 0;
};

void TestSpfPoolBypass::initTestCase()
{
    QVERIFY(m_work.isValid());
}

bool TestSpfPoolBypass::startGreygated(DaemonProcess &daemon, const QString &db,
                                       const QStringList &extra)
{
    m_dbdir = m_work.filePath(db);
    QString error;
    if (!daemon.startOnFreePort(
            program(QStringLiteral("greygated")),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:") + QString::number(port),
                                   QStringLiteral("--dbdir=") + m_dbdir,
                                   QStringLiteral("--delay=3600"),
                                   QStringLiteral("--control-listen=127.0.0.1:0")} +
                       extra;
            },
            30'000, &error)) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    // The control port is ephemeral: greygated logs it.
    static const QRegularExpression re(
        QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
    QTest::qWaitFor(
        [&] {
            const QRegularExpressionMatch m = re.match(daemon.log());
            m_controlPort = m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
            return m_controlPort != 0;
        },
        10'000);
    return m_controlPort != 0;
}

TestSpfPoolBypass::Ctl TestSpfPoolBypass::ctl(const QStringList &arguments, bool readOnly)
{
    const QString token = m_dbdir + (readOnly ? QStringLiteral("/control-readonly.token")
                                              : QStringLiteral("/control.token"));
    const ProgramResult r =
        runProgram(program(QStringLiteral("greygatectl")),
                   QStringList{QStringLiteral("--proxy"),
                               QStringLiteral("ws://127.0.0.1:") + QString::number(m_controlPort),
                               QStringLiteral("--token-file"), token, QStringLiteral("--timeout"),
                               QStringLiteral("20")} +
                       arguments,
                   30'000);
    Ctl c;
    c.code = r.finished && r.exitStatus == QProcess::NormalExit ? r.exitCode : -2;
    c.out = QString::fromUtf8(r.out);
    c.err = QString::fromUtf8(r.err);
    return c;
}

QList<QJsonObject> TestSpfPoolBypass::events(int count)
{
    const Ctl c = ctl({QStringLiteral("--json"), QStringLiteral("watch"), QStringLiteral("--since"),
                       QStringLiteral("0"), QStringLiteral("--count"), QString::number(count)});
    QList<QJsonObject> out;
    for (const QString &line : c.out.split(u'\n', Qt::SkipEmptyParts))
        out.append(QJsonDocument::fromJson(line.toUtf8()).object());
    return out;
}

void TestSpfPoolBypass::poolRetryRaisesAnEventAndItsBypassIsHonouredUntilItExpires()
{
    if (DnsmasqProcess::program().isEmpty())
        QSKIP("dnsmasq is not installed (scripts/install-deps.sh --test installs it)");
    DnsmasqProcess dns(m_work.path());
    QString error;
    QVERIFY2(dns.start({QStringLiteral("--local=/example.com/"),
                        QStringLiteral("--txt-record=example.com,v=spf1 include:_spf.example.com "
                                       "-all"),
                        QStringLiteral("--txt-record=_spf.example.com,v=spf1 ip4:192.0.2.0/24 "
                                       "ip4:198.51.100.0/24 ip4:203.0.113.0/25 -all")},
                       &error),
             qPrintable(error));
    DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated-pool.log")));
    // SPF-keyed (the resolver the bypass reads the record through): the detector groups
    // deferrals by the clients' networks whatever the key.
    QVERIFY(
        startGreygated(daemon, QStringLiteral("db-pool"),
                       {QStringLiteral("--triplet-key=spf"),
                        QStringLiteral("--dns-server=127.0.0.1:") + QString::number(dns.port())}));
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    const QByteArray sender = "news@example.com";
    const QByteArray rcpt = "bob@receiver.example";
    for (const QByteArray ip : {"192.0.2.10", "198.51.100.20", "203.0.113.30"})
        QVERIFY(deferred(client.askRcpt(ip, sender, rcpt)));

    // Three attempts and the pool retry between the second and the third's record.
    const QList<QJsonObject> seen = events(4);
    QCOMPARE(seen.size(), 4);
    QJsonObject retry;
    for (const QJsonObject &e : seen) {
        if (e.value(QStringLiteral("type")).toString() == u"poolRetry")
            retry = e;
        else
            QVERIFY2(e.value(QStringLiteral("keyWhy"))
                         .toString()
                         .startsWith(QStringLiteral("SPF pass for example.com via include:")),
                     qPrintable(e.value(QStringLiteral("keyWhy")).toString()));
    }
    QCOMPARE(retry.value(QStringLiteral("domain")).toString(), QStringLiteral("example.com"));
    QCOMPARE(retry.value(QStringLiteral("summary")).toString(),
             QStringLiteral("example.com retrying from 3 IPs in 3 networks"));
    QCOMPARE(retry.value(QStringLiteral("addresses")).toArray().size(), 3);
    QCOMPARE(seen.first().value(QStringLiteral("key")).toString(),
             QStringLiteral("spf:example.com"));
    const Ctl retries = ctl({QStringLiteral("poolbypass"), QStringLiteral("retries")});
    QVERIFY2(retries.out.contains(QStringLiteral("retrying from 3 IPs in 3 networks")),
             qPrintable(retries.out + retries.err));

    // The read-only token sees, never bypasses.
    QCOMPARE(ctl({QStringLiteral("poolbypass"), QStringLiteral("add"),
                  QStringLiteral("example.com"), QStringLiteral("--for"), QStringLiteral("5s")},
                 true)
                 .code,
             1);
    // The admin's one click: the ranges come from the SPF record (include followed).
    const Ctl added =
        ctl({QStringLiteral("--json"), QStringLiteral("poolbypass"), QStringLiteral("add"),
             QStringLiteral("example.com"), QStringLiteral("--for"), QStringLiteral("6s"),
             QStringLiteral("--reason"), QStringLiteral("outlook pool")});
    QVERIFY2(added.code == 0, qPrintable(added.out + added.err));
    const QJsonArray ranges = QJsonDocument::fromJson(added.out.toUtf8())
                                  .object()
                                  .value(QStringLiteral("bypasses"))
                                  .toArray()
                                  .first()
                                  .toObject()
                                  .value(QStringLiteral("ranges"))
                                  .toArray();
    QCOMPARE(ranges.size(), 3);
    QCOMPARE(ranges.at(2).toString(), QStringLiteral("203.0.113.0/25"));

    // Honoured for the domain from its ranges only.
    QCOMPARE(client.askRcpt("198.51.100.99", sender, "carol@receiver.example"),
             QByteArray("DUNNO"));
    QVERIFY(deferred(client.askRcpt("203.0.113.200", sender, "carol@receiver.example")));
    QVERIFY(deferred(client.askRcpt("198.51.100.99", "x@other.example", "carol@receiver.example")));
    const Ctl listed = ctl({QStringLiteral("poolbypass"), QStringLiteral("list")});
    QVERIFY2(listed.out.contains(QStringLiteral("example.com")), qPrintable(listed.out));

    // ...until it expires: then greylisted again, and gone from the list.
    QVERIFY(QTest::qWaitFor(
        [&] { return deferred(client.askRcpt("198.51.100.99", sender, "dave@receiver.example")); },
        15'000));
    QVERIFY(!ctl({QStringLiteral("poolbypass"), QStringLiteral("list")})
                 .out.contains(QStringLiteral("example.com")));
    QVERIFY(daemon.isRunning());
    QVERIFY(daemon.terminate());
}

void TestSpfPoolBypass::bypassWithRangesGivenNeedsNoDnsAndIsRemovable()
{
    DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated-ranges.log")));
    QVERIFY(startGreygated(daemon, QStringLiteral("db-ranges"), {}));
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    // Refused with a clear message: not a domain, not a range.
    const Ctl bad =
        ctl({QStringLiteral("poolbypass"), QStringLiteral("add"), QStringLiteral("example.com"),
             QStringLiteral("--for"), QStringLiteral("1h"), QStringLiteral("300.1.2.3/8")});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains(QStringLiteral("not an address or a network")), qPrintable(bad.err));
    const Ctl added =
        ctl({QStringLiteral("--json"), QStringLiteral("poolbypass"), QStringLiteral("add"),
             QStringLiteral("Example.NET"), QStringLiteral("--for"), QStringLiteral("1h"),
             QStringLiteral("192.0.2.0/24"), QStringLiteral("2001:db8::1")});
    QVERIFY2(added.code == 0, qPrintable(added.out + added.err));
    const QJsonObject bypass = QJsonDocument::fromJson(added.out.toUtf8())
                                   .object()
                                   .value(QStringLiteral("bypasses"))
                                   .toArray()
                                   .first()
                                   .toObject();
    QCOMPARE(bypass.value(QStringLiteral("domain")).toString(), QStringLiteral("example.net"));
    QCOMPARE(bypass.value(QStringLiteral("ranges")).toArray().last().toString(),
             QStringLiteral("2001:db8::1/128"));
    QCOMPARE(client.askRcpt("2001:db8::1", "a@example.net", "bob@receiver.example"),
             QByteArray("DUNNO"));
    const QString id = QString::number(bypass.value(QStringLiteral("id")).toInteger());
    QCOMPARE(ctl({QStringLiteral("poolbypass"), QStringLiteral("remove"), id}).code, 0);
    QCOMPARE(ctl({QStringLiteral("poolbypass"), QStringLiteral("remove"), id}).code, 4);
    QVERIFY(deferred(client.askRcpt("192.0.2.7", "a@example.net", "bob@receiver.example")));
    // Which key, and why: the bypass named, then the IP-based triplet.
    const QList<QJsonObject> seen = events(2);
    QCOMPARE(seen.size(), 2);
    QCOMPARE(seen.at(0).value(QStringLiteral("keyWhy")).toString(),
             QStringLiteral("pool bypass for example.net"));
    QCOMPARE(seen.at(1).value(QStringLiteral("key")).toString(), QStringLiteral("192.0.2.0/24"));
    QCOMPARE(seen.at(1).value(QStringLiteral("keyWhy")).toString(),
             QStringLiteral("IP-based triplet: the client network"));
    // Both changes are in the audit log, with who made them.
    const Ctl audit =
        ctl({QStringLiteral("--json"), QStringLiteral("poolbypass"), QStringLiteral("audit")});
    QVERIFY2(audit.out.contains(QStringLiteral("poolbypass.add")) &&
                 audit.out.contains(QStringLiteral("poolbypass.remove")) &&
                 audit.out.contains(QStringLiteral("admin@127.0.0.1")),
             qPrintable(audit.out + audit.err));
    QVERIFY(daemon.terminate());
}

QTEST_GUILESS_MAIN(TestSpfPoolBypass)
#include "tst_spf_pool_bypass.moc"
