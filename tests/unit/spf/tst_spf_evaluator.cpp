// SPDX-License-Identifier: GPL-3.0-or-later
#include "ScriptedDns.h"
#include "spf/SpfEvaluator.h"

#include <QSignalSpy>
#include <QTest>
#include <optional>

using namespace greygate;

// A DnsLookup that never answers: the evaluator's own deadline must end the check.
class SilentDns final : public DnsLookup
{
public:
    std::vector<Callback> held;
    void lookup(const QByteArray &, DnsType, Callback done) override
    {
        held.push_back(std::move(done));
    }
};

class TestSpfEvaluator : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void evaluatesTheRfc7208AppendixExamples_data();
    void evaluatesTheRfc7208AppendixExamples();
    void answersTheSameWhenDnsIsAsynchronous();
    void includeMatchesOnlyOnPassAndSaysVia();
    void redirectToADomainWithoutRecordIsPermerror();
    void moreThanTenDnsTermsIsPermerror();
    void moreThanTwoVoidLookupsIsPermerror();
    void serverFailureIsTemperror();
    void twoRecordsArePermerror();
    void noRecordIsNone();
    void nullSenderUsesTheHeloIdentity();
    void ipv4MappedClientsAreIpv4();
    void dualStackSenderPassesFromBothFamilies();
    void deadlineEndsAStuckCheckWithTemperror();
    void includeLoopEndsAtTheLookupLimit();

private:
    static void appendixZone(ScriptedDns &dns);
    static SpfOutcome run(DnsLookup &dns, const QByteArray &client, const QByteArray &sender,
                          const QByteArray &helo = "mx.example.net");
};

void TestSpfEvaluator::appendixZone(ScriptedDns &dns)
{
    // RFC 7208 Appendix A.
    dns.addMx("example.com", 10, "mail-a.example.com");
    dns.addMx("example.com", 20, "mail-b.example.com");
    dns.addA("example.com", "192.0.2.10");
    dns.addA("example.com", "192.0.2.11");
    dns.addA("amy.example.com", "192.0.2.65");
    dns.addA("bob.example.com", "192.0.2.66");
    dns.addA("mail-a.example.com", "192.0.2.129");
    dns.addA("mail-b.example.com", "192.0.2.130");
    dns.addMx("example.org", 10, "mail-c.example.org");
    dns.addA("mail-c.example.org", "192.0.2.140");
    dns.addPtr("10.2.0.192.in-addr.arpa", "example.com");
    dns.addPtr("11.2.0.192.in-addr.arpa", "example.com");
    dns.addPtr("65.2.0.192.in-addr.arpa", "amy.example.com");
    dns.addPtr("66.2.0.192.in-addr.arpa", "bob.example.com");
    dns.addPtr("129.2.0.192.in-addr.arpa", "mail-a.example.com");
    dns.addPtr("130.2.0.192.in-addr.arpa", "mail-b.example.com");
    dns.addPtr("140.2.0.192.in-addr.arpa", "mail-c.example.org");
}

SpfOutcome TestSpfEvaluator::run(DnsLookup &dns, const QByteArray &client, const QByteArray &sender,
                                 const QByteArray &helo)
{
    SpfEvaluator spf(dns, 2000);
    std::optional<SpfOutcome> outcome;
    spf.checkSender(QHostAddress(QString::fromLatin1(client)), sender, helo,
                    [&outcome](const SpfOutcome &o) { outcome = o; });
    // Bounded: the evaluator's deadline (2 s) answers at the latest.
    for (int i = 0; i < 300 && !outcome; ++i)
        QTest::qWait(10);
    return outcome.value_or(SpfOutcome{SpfResult::None, "", "", "never answered", 0, 0});
}

void TestSpfEvaluator::evaluatesTheRfc7208AppendixExamples_data()
{
    QTest::addColumn<QByteArray>("record");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QString>("expected");
    QTest::newRow("+all") << QByteArray("v=spf1 +all") << QByteArray("192.0.2.200") << "pass";
    QTest::newRow("a, listed") << QByteArray("v=spf1 a -all") << QByteArray("192.0.2.10") << "pass";
    QTest::newRow("a, other") << QByteArray("v=spf1 a -all") << QByteArray("192.0.2.65") << "fail";
    QTest::newRow("a:example.org")
        << QByteArray("v=spf1 a:example.org -all") << QByteArray("192.0.2.10") << "fail";
    QTest::newRow("mx, listed") << QByteArray("v=spf1 mx -all") << QByteArray("192.0.2.129")
                                << "pass";
    QTest::newRow("mx, other") << QByteArray("v=spf1 mx -all") << QByteArray("192.0.2.10")
                               << "fail";
    QTest::newRow("mx:example.org")
        << QByteArray("v=spf1 mx:example.org -all") << QByteArray("192.0.2.140") << "pass";
    QTest::newRow("mx mx:example.org")
        << QByteArray("v=spf1 mx mx:example.org -all") << QByteArray("192.0.2.140") << "pass";
    QTest::newRow("mx/30") << QByteArray("v=spf1 mx/30 mx:example.org/30 -all")
                           << QByteArray("192.0.2.131") << "pass";
    QTest::newRow("mx:example.org/30")
        << QByteArray("v=spf1 mx/30 mx:example.org/30 -all") << QByteArray("192.0.2.143") << "pass";
    QTest::newRow("mx/30, outside")
        << QByteArray("v=spf1 mx/30 mx:example.org/30 -all") << QByteArray("192.0.2.144") << "fail";
    QTest::newRow("ptr, validated")
        << QByteArray("v=spf1 ptr -all") << QByteArray("192.0.2.65") << "pass";
    QTest::newRow("ptr, other domain")
        << QByteArray("v=spf1 ptr -all") << QByteArray("192.0.2.140") << "fail";
    QTest::newRow("ptr, no name") << QByteArray("v=spf1 ptr -all") << QByteArray("192.0.2.200")
                                  << "fail";
    QTest::newRow("ip4/28, in") << QByteArray("v=spf1 ip4:192.0.2.128/28 -all")
                                << QByteArray("192.0.2.129") << "pass";
    QTest::newRow("ip4/28, out") << QByteArray("v=spf1 ip4:192.0.2.128/28 -all")
                                 << QByteArray("192.0.2.65") << "fail";
    QTest::newRow("softfail") << QByteArray("v=spf1 ip4:192.0.2.1 ~all") << QByteArray("192.0.2.65")
                              << "softfail";
    QTest::newRow("neutral") << QByteArray("v=spf1 ?all") << QByteArray("192.0.2.65") << "neutral";
    QTest::newRow("no match") << QByteArray("v=spf1 ip4:192.0.2.1") << QByteArray("192.0.2.65")
                              << "neutral";
    QTest::newRow("exists, A.4 macro") << QByteArray("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all")
                                       << QByteArray("192.0.2.66") << "pass";
    QTest::newRow("ip6 for v6") << QByteArray("v=spf1 ip6:2001:db8::/32 -all")
                                << QByteArray("2001:db8::cafe") << "pass";
    QTest::newRow("ip4 not for v6")
        << QByteArray("v=spf1 ip4:0.0.0.0/0 -all") << QByteArray("2001:db8::cafe") << "fail";
    QTest::newRow("syntax error after match")
        << QByteArray("v=spf1 +all foo") << QByteArray("192.0.2.1") << "permerror";
}

void TestSpfEvaluator::evaluatesTheRfc7208AppendixExamples()
{
    QFETCH(QByteArray, record);
    QFETCH(QByteArray, client);
    QFETCH(QString, expected);
    ScriptedDns dns;
    appendixZone(dns);
    dns.addTxt("example.com", record);
    // A.4: only bob's own mailbox is allowed from bob's host.
    dns.addA("66.2.0.192.bob._spf.example.com", "127.0.0.2");
    const SpfOutcome o = run(dns, client, "bob@example.com");
    QCOMPARE(QString::fromLatin1(spfResultName(o.result)), expected);
    QCOMPARE(o.domain, QByteArray("example.com"));
}

void TestSpfEvaluator::answersTheSameWhenDnsIsAsynchronous()
{
    ScriptedDns dns;
    dns.asynchronous = true;
    appendixZone(dns);
    dns.addTxt("example.com", "v=spf1 a mx ptr -all");
    QCOMPARE(run(dns, "192.0.2.130", "bob@example.com").result, SpfResult::Pass);
    QCOMPARE(run(dns, "192.0.2.200", "bob@example.com").result, SpfResult::Fail);
}

void TestSpfEvaluator::includeMatchesOnlyOnPassAndSaysVia()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "v=spf1 include:_spf.example.net include:_spf2.example.net -all");
    dns.addTxt("_spf.example.net", "v=spf1 ip4:198.51.100.0/24 -all");
    dns.addTxt("_spf2.example.net", "v=spf1 ip4:203.0.113.0/24 ?all");
    const SpfOutcome pass = run(dns, "198.51.100.20", "a@example.com");
    QCOMPARE(pass.result, SpfResult::Pass);
    QCOMPARE(pass.via, QByteArray("include:_spf.example.net ip4:198.51.100.0/24"));
    QCOMPARE(pass.dnsLookups, 1);
    // The first include's -all is not a match for the outer record: evaluation goes on.
    const SpfOutcome second = run(dns, "203.0.113.9", "a@example.com");
    QCOMPARE(second.result, SpfResult::Pass);
    QCOMPARE(second.via, QByteArray("include:_spf2.example.net ip4:203.0.113.0/24"));
    QCOMPARE(run(dns, "192.0.2.1", "a@example.com").result, SpfResult::Fail);
    dns.addTxt("broken.example", "v=spf1 include:nothing.example -all");
    QCOMPARE(run(dns, "192.0.2.1", "a@broken.example").result, SpfResult::PermError);
}

void TestSpfEvaluator::redirectToADomainWithoutRecordIsPermerror()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "v=spf1 redirect=_spf.example.com");
    dns.addTxt("_spf.example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    const SpfOutcome o = run(dns, "192.0.2.7", "a@example.com");
    QCOMPARE(o.result, SpfResult::Pass);
    QCOMPARE(o.via, QByteArray("redirect=_spf.example.com ip4:192.0.2.0/24"));
    QCOMPARE(run(dns, "198.51.100.1", "a@example.com").result, SpfResult::Fail);
    dns.addTxt("example.org", "v=spf1 redirect=missing.example.org");
    QCOMPARE(run(dns, "192.0.2.7", "a@example.org").result, SpfResult::PermError);
    // A redirect after a matching mechanism is never followed.
    dns.addTxt("example.net", "v=spf1 +all redirect=missing.example.org");
    QCOMPARE(run(dns, "192.0.2.7", "a@example.net").result, SpfResult::Pass);
}

void TestSpfEvaluator::moreThanTenDnsTermsIsPermerror()
{
    ScriptedDns dns;
    QByteArray record = "v=spf1";
    for (int i = 0; i < 11; ++i) {
        const QByteArray host = "h" + QByteArray::number(i) + ".example.com";
        dns.addA(host, "192.0.2." + QByteArray::number(i + 1));
        record += " a:" + host;
    }
    dns.addTxt("example.com", record + " -all");
    // The 10th term still counts: its address passes.
    QCOMPARE(run(dns, "192.0.2.10", "a@example.com").result, SpfResult::Pass);
    const SpfOutcome o = run(dns, "192.0.2.200", "a@example.com");
    QCOMPARE(o.result, SpfResult::PermError);
    QVERIFY(o.reason.contains("10"));
}

void TestSpfEvaluator::moreThanTwoVoidLookupsIsPermerror()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "v=spf1 a:n1.example.com a:n2.example.com ?all");
    QCOMPARE(run(dns, "192.0.2.1", "a@example.com").result, SpfResult::Neutral);
    dns.addTxt("example.org",
               "v=spf1 a:n1.example.org a:n2.example.org exists:n3.example.org ?all");
    QCOMPARE(run(dns, "192.0.2.1", "a@example.org").result, SpfResult::PermError);
}

void TestSpfEvaluator::serverFailureIsTemperror()
{
    ScriptedDns dns;
    dns.fail("example.com");
    QCOMPARE(run(dns, "192.0.2.1", "a@example.com").result, SpfResult::TempError);
    dns.addTxt("example.org", "v=spf1 a:broken.example.org -all");
    dns.fail("broken.example.org");
    QCOMPARE(run(dns, "192.0.2.1", "a@example.org").result, SpfResult::TempError);
}

void TestSpfEvaluator::twoRecordsArePermerror()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "v=spf1 +all");
    dns.addTxt("example.com", "v=spf1 -all");
    dns.addTxt("example.com", "some-verification=1");
    QCOMPARE(run(dns, "192.0.2.1", "a@example.com").result, SpfResult::PermError);
}

void TestSpfEvaluator::noRecordIsNone()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "some-verification=1");
    QCOMPARE(run(dns, "192.0.2.1", "a@example.com").result, SpfResult::None);
    QCOMPARE(run(dns, "192.0.2.1", "a@nowhere.example").result, SpfResult::None);
    QCOMPARE(run(dns, "192.0.2.1", "a@localhost").result, SpfResult::None);
}

void TestSpfEvaluator::nullSenderUsesTheHeloIdentity()
{
    ScriptedDns dns;
    dns.addTxt("mx.example.net", "v=spf1 a -all");
    dns.addA("mx.example.net", "192.0.2.25");
    const SpfOutcome o = run(dns, "192.0.2.25", "", "mx.example.net");
    QCOMPARE(o.result, SpfResult::Pass);
    QCOMPARE(o.domain, QByteArray("mx.example.net"));
    QCOMPARE(run(dns, "192.0.2.25", "<>", "[192.0.2.25]").result, SpfResult::None);
}

void TestSpfEvaluator::ipv4MappedClientsAreIpv4()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "v=spf1 ip4:192.0.2.0/24 -all");
    QCOMPARE(run(dns, "::ffff:192.0.2.9", "a@example.com").result, SpfResult::Pass);
}

void TestSpfEvaluator::dualStackSenderPassesFromBothFamilies()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "v=spf1 a:out.example.com -all");
    dns.addA("out.example.com", "192.0.2.10");
    dns.addA("out.example.com", "2001:db8::10");
    QCOMPARE(run(dns, "192.0.2.10", "a@example.com").result, SpfResult::Pass);
    QCOMPARE(run(dns, "2001:db8::10", "a@example.com").result, SpfResult::Pass);
    QCOMPARE(run(dns, "2001:db8::11", "a@example.com").result, SpfResult::Fail);
}

void TestSpfEvaluator::deadlineEndsAStuckCheckWithTemperror()
{
    SilentDns dns;
    SpfEvaluator spf(dns, 50);
    std::optional<SpfOutcome> outcome;
    spf.checkSender(QHostAddress(QStringLiteral("192.0.2.1")), "a@example.com", "h.example",
                    [&outcome](const SpfOutcome &o) { outcome = o; });
    QVERIFY(!outcome);
    QTRY_VERIFY(outcome.has_value());
    QCOMPARE(outcome->result, SpfResult::TempError);
    QCOMPARE(spf.stats().timeouts, quint64(1));
    // A late answer changes nothing and does not call back again.
    DnsAnswer late;
    late.status = DnsAnswer::Status::NxDomain;
    outcome.reset();
    for (auto &held : dns.held)
        held(late);
    QVERIFY(!outcome);
}

void TestSpfEvaluator::includeLoopEndsAtTheLookupLimit()
{
    ScriptedDns dns;
    dns.addTxt("example.com", "v=spf1 include:example.com -all");
    const SpfOutcome o = run(dns, "192.0.2.1", "a@example.com");
    QCOMPARE(o.result, SpfResult::PermError);
    QVERIFY(dns.queries <= 12);
}

QTEST_GUILESS_MAIN(TestSpfEvaluator)
#include "tst_spf_evaluator.moc"
