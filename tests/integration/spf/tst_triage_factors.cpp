// SPDX-License-Identifier: GPL-3.0-or-later
// The failed-to-retry triage (triage.list) with each of its factors, over a real
// ControlServer, engine, SQLite store and DaemonWatch on a manual clock, the reverse DNS and
// SPF facts looked up from a real DNS server (dnsmasq) on loopback: every factor alone lifts
// its entry above a one-shot sender's, shown with its weight and why; a PTR that does not
// resolve back, an address-pool name and an SPF fail count for nothing.
#include "../../unit/control/ControlTestProxy.h"
#include "DnsmasqProcess.h"
#include "alerts/DaemonWatch.h"
#include "dns/DnsResolver.h"
#include "spf/SpfEvaluator.h"

#include <QJsonArray>

using namespace greygate;
using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

const QByteArray kFriend = "friend@partner.test";
const QByteArray kBot = "bot@spam.test";
const QByteArray kAlice = "alice@corp.test";

QJsonObject factorOf(const QJsonObject &entry, const QString &name)
{
    for (const QJsonValue &f : entry.value(QStringLiteral("factors")).toArray()) {
        if (f.toObject().value(QStringLiteral("name")).toString() == name)
            return f.toObject();
    }
    return {};
}

} // namespace

class TriageFactorsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();
    void eachFactorRanksItsEntryFirst_data();
    void eachFactorRanksItsEntryFirst();
    void namesAreJudgedLikeAnMtaOrAnAddressPool_data();
    void namesAreJudgedLikeAnMtaOrAnAddressPool();

private:
    // One RCPT as Postfix asks it, with client_name when given.
    QByteArray decide(const QByteArray &client, const QByteArray &sender,
                      const QByteArray &name = {})
    {
        PolicyRequest r;
        r.request = "smtpd_access_policy";
        r.protocolState = "RCPT";
        r.clientAddress = client;
        r.clientName = name.isEmpty() ? QByteArrayLiteral("unknown") : name;
        r.sender = sender;
        r.recipient = kAlice;
        r.present = PolicyRequest::Request | PolicyRequest::ProtocolState |
                    PolicyRequest::ClientAddress | PolicyRequest::ClientName |
                    PolicyRequest::Sender | PolicyRequest::Recipient;
        const QByteArray answer = m_proxy->recorder->decide(r);
        return m_proxy->recorder->commit() ? answer : QByteArray();
    }
    QJsonArray triage()
    {
        return m_client->result(QStringLiteral("triage.list"), {{QStringLiteral("from"), 0}})
            .value(QStringLiteral("entries"))
            .toArray();
    }

    QTemporaryDir m_work;
    std::unique_ptr<DnsmasqProcess> m_dns;
    std::unique_ptr<ControlTestProxy> m_proxy;
    std::unique_ptr<DnsResolver> m_resolver;
    std::unique_ptr<SpfEvaluator> m_spf;
    std::unique_ptr<DaemonWatch> m_watch;
    std::unique_ptr<TestClient> m_client;
};

void TriageFactorsTest::initTestCase()
{
    if (DnsmasqProcess::program().isEmpty())
        QSKIP("dnsmasq is not installed (scripts/install-deps.sh --test installs it)");
    QVERIFY(m_work.isValid());
    m_dns = std::make_unique<DnsmasqProcess>(m_work.path());
    QString error;
    // 198.51.100.7: mail.partner.test both ways. 198.51.100.8: a PTR naming a host that
    // resolves elsewhere (forged). 198.51.100.9: an ISP's pool name. The rest: no PTR.
    QVERIFY2(m_dns->start(
                 {QStringLiteral("--local=/partner.test/"), QStringLiteral("--local=/isp.test/"),
                  QStringLiteral("--local=/spam.test/"), QStringLiteral("--local=/elsewhere.test/"),
                  QStringLiteral("--local=/100.51.198.in-addr.arpa/"),
                  QStringLiteral("--local=/2.0.192.in-addr.arpa/"),
                  QStringLiteral("--host-record=mail.partner.test,198.51.100.7"),
                  QStringLiteral("--ptr-record=8.100.51.198.in-addr.arpa,mx.bigbank.test"),
                  QStringLiteral("--ptr-record=9.100.51.198.in-addr.arpa,"
                                 "dsl-198-51-100-9.dyn.isp.test"),
                  QStringLiteral("--host-record=dsl-198-51-100-9.dyn.isp.test,198.51.100.9"),
                  QStringLiteral("--txt-record=partner.test,v=spf1 ip4:198.51.100.0/24 -all"),
                  QStringLiteral("--txt-record=spam.test,v=spf1 -all")},
                 &error),
             qPrintable(error));
}

void TriageFactorsTest::cleanupTestCase()
{
    if (m_dns)
        QVERIFY(m_dns->terminate());
}

void TriageFactorsTest::init()
{
    m_proxy = std::make_unique<ControlTestProxy>();
    QVERIFY(m_proxy->ok);
    ControlTestProxy &p = *m_proxy;
    DnsResolverOptions dnsOptions;
    dnsOptions.server =
        *DnsServerAddress::parse(QStringLiteral("127.0.0.1:%1").arg(m_dns->port()), nullptr);
    dnsOptions.timeoutMs = 1000;
    m_resolver = std::make_unique<DnsResolver>(dnsOptions);
    m_spf = std::make_unique<SpfEvaluator>(*m_resolver, 4000);
    m_watch = std::make_unique<DaemonWatch>(p.events, *p.handler, p.clock, AlertOptions{},
                                            QStringLiteral("test"));
    m_watch->triage().setLookups(m_resolver.get(), m_spf.get());
    m_watch->triage().setNormaliser(&p.engine->normaliser());
    p.options.watch = m_watch.get();
    p.server = std::make_unique<ControlServer>(*p.engine, *p.store, *p.handler, p.events, p.clock,
                                               p.options);
    QVERIFY(p.start());
    m_client = std::make_unique<TestClient>();
    QVERIFY(m_client->login(p.url(), p.token()));
}

void TriageFactorsTest::cleanup()
{
    m_client.reset();
    m_proxy.reset();
    m_watch.reset();
    m_spf.reset();
    m_resolver.reset();
}

void TriageFactorsTest::eachFactorRanksItsEntryFirst_data()
{
    QTest::addColumn<QString>("factor");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<int>("weight");
    QTest::addColumn<QString>("detail"); // part of the factor's reason
    QTest::newRow("known correspondent")
        << u"knownCorrespondent"_s << QByteArray("192.0.2.50")
        << QByteArray("friend@elsewhere.test") << 40 << u"alice@corp.test wrote to them"_s;
    QTest::newRow("retried from another network")
        << u"retriedElsewhere"_s << QByteArray("192.0.2.51") << QByteArray("friend@elsewhere.test")
        << 35 << u"accepted from 203.0.113.5"_s;
    QTest::newRow("retried too early")
        << u"retriedTooEarly"_s << QByteArray("192.0.2.52") << QByteArray("friend@elsewhere.test")
        << 15 << u"2 attempt(s)"_s;
    QTest::newRow("Postfix's client_name of a mail server")
        << u"mtaReverseDns"_s << QByteArray("192.0.2.53") << QByteArray("friend@elsewhere.test")
        << 25 << u"named like a mail server (Postfix client_name)"_s;
    QTest::newRow("a confirmed PTR (SMTP proxy mode)")
        << u"mtaReverseDns"_s << QByteArray("198.51.100.7") << QByteArray("friend@elsewhere.test")
        << 25 << u"mail.partner.test is named like a mail server (PTR, confirmed)"_s;
    QTest::newRow("SPF pass") << u"spfPass"_s << QByteArray("198.51.100.20") << kFriend << 25
                              << u"SPF pass: partner.test"_s;
}

void TriageFactorsTest::eachFactorRanksItsEntryFirst()
{
    QFETCH(QString, factor);
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, sender);
    QFETCH(int, weight);
    QFETCH(QString, detail);
    ControlTestProxy &p = *m_proxy;
    // A one-shot sender from a pool address with SPF fail: nothing speaks for it.
    QVERIFY(decide("198.51.100.9", kBot).startsWith("DEFER"));
    QVERIFY(decide(client, sender,
                   factor == u"mtaReverseDns" && !client.startsWith("198")
                       ? QByteArrayLiteral("mail.elsewhere.test")
                       : QByteArray())
                .startsWith("DEFER"));
    if (factor == u"retriedTooEarly") {
        p.clock.advanceSeconds(10);
        QVERIFY(decide(client, sender).startsWith("DEFER"));
    } else if (factor == u"knownCorrespondent") {
        m_client->result(QStringLiteral("autoallow.add"),
                         {{QStringLiteral("external"), QString::fromUtf8(sender)},
                          {QStringLiteral("internal"), QString::fromUtf8(kAlice)},
                          {QStringLiteral("expiresAt"), p.clock.now() + 86400 * 60}});
    } else if (factor == u"retriedElsewhere") {
        // The same sender, from another network, retried properly and got through.
        QVERIFY(decide("203.0.113.5", sender).startsWith("DEFER"));
        p.clock.advanceSeconds(p.config.delay + 60);
        QVERIFY(decide("203.0.113.5", sender).startsWith("PREPEND"));
    }
    p.clock.advanceSeconds(p.config.retryWindow + 60);
    p.handler->sweepNow();
    m_watch->tick(); // reads the failures: the lookups start, the decisions never wait for them

    // The lookups come back within a few round trips to the DNS server.
    QJsonArray entries;
    const auto settled = [&] {
        entries = triage();
        for (const QJsonValue &e : std::as_const(entries)) {
            for (const QString &name : {u"mtaReverseDns"_s, u"spfPass"_s}) {
                if (factorOf(e.toObject(), name).value(QStringLiteral("value")).isNull())
                    return false;
            }
        }
        return entries.size() == 2;
    };
    QVERIFY2(QTest::qWaitFor(settled, 10'000), QJsonDocument(entries).toJson().constData());
    const QJsonObject top = entries[0].toObject();
    QCOMPARE(top.value(QStringLiteral("address")).toString(), QString::fromUtf8(client));
    QCOMPARE(top.value(QStringLiteral("score")).toInteger(), weight);
    const QJsonObject f = factorOf(top, factor);
    QCOMPARE(f.value(QStringLiteral("weight")).toInteger(), weight);
    QCOMPARE(f.value(QStringLiteral("value")), QJsonValue(true));
    QVERIFY2(f.value(QStringLiteral("detail")).toString().contains(detail),
             qPrintable(f.value(QStringLiteral("detail")).toString()));

    // The one-shot sender: an address-pool name and SPF fail, so nothing at all.
    const QJsonObject bot = entries[1].toObject();
    QCOMPARE(bot.value(QStringLiteral("score")).toInteger(), 0);
    QVERIFY2(factorOf(bot, u"mtaReverseDns"_s)
                 .value(QStringLiteral("detail"))
                 .toString()
                 .contains(u"address"_s),
             qPrintable(factorOf(bot, u"mtaReverseDns"_s).value(u"detail").toString()));
    QVERIFY(factorOf(bot, u"spfPass"_s)
                .value(QStringLiteral("detail"))
                .toString()
                .startsWith(u"SPF fail"_s));
    QCOMPARE(m_client->result(QStringLiteral("triage.list")).value(u"maxScore").toInteger(), 140);
}

void TriageFactorsTest::namesAreJudgedLikeAnMtaOrAnAddressPool_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<bool>("mta");
    QTest::newRow("mail.") << QByteArray("mail.partner.test") << QByteArray("198.51.100.7") << true;
    QTest::newRow("mx-out02.") << QByteArray("mx-out02.bigbank.test") << QByteArray("192.0.2.1")
                               << true;
    QTest::newRow("a plain verified host")
        << QByteArray("zeus.example.org") << QByteArray("192.0.2.1") << true;
    QTest::newRow("address in the name")
        << QByteArray("198-51-100-7.static.isp.test") << QByteArray("198.51.100.7") << false;
    QTest::newRow("reversed address")
        << QByteArray("cpe-7.100.51.198.isp.test") << QByteArray("198.51.100.7") << false;
    QTest::newRow("dynamic pool") << QByteArray("host1.dyn.isp.test") << QByteArray("192.0.2.1")
                                  << false;
    QTest::newRow("dsl") << QByteArray("adsl-line4.isp.test") << QByteArray("192.0.2.1") << false;
    QTest::newRow("not qualified") << QByteArray("localhost") << QByteArray("127.0.0.1") << false;
}

void TriageFactorsTest::namesAreJudgedLikeAnMtaOrAnAddressPool()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, client);
    QFETCH(bool, mta);
    QString why;
    QCOMPARE(TriageFacts::looksLikeMta(name, client, &why), mta);
    QVERIFY(why.contains(QString::fromUtf8(name)));
}

QTEST_GUILESS_MAIN(TriageFactorsTest)
#include "tst_triage_factors.moc"
