// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyTestData.h"
#include "policy/PolicyTime.h"

using namespace greygate;
using namespace greygate::test;

class TstPolicyMatching : public QObject
{
    Q_OBJECT

private slots:
    void each_from_specifier_matches_exactly_its_senders_data();
    void each_from_specifier_matches_exactly_its_senders();
    void each_to_specifier_matches_exactly_its_recipients_data();
    void each_to_specifier_matches_exactly_its_recipients();
    void from_is_matched_on_the_address_basis_the_policy_names_data();
    void from_is_matched_on_the_address_basis_the_policy_names();
    void a_bidirectional_policy_also_matches_with_sender_and_recipient_swapped_data();
    void a_bidirectional_policy_also_matches_with_sender_and_recipient_swapped();
    void a_policy_is_in_force_from_its_start_until_before_its_end_data();
    void a_policy_is_in_force_from_its_start_until_before_its_end();
    void source_ranges_restrict_a_policy_to_clients_inside_them_data();
    void source_ranges_restrict_a_policy_to_clients_inside_them();
};

namespace {

// One bypass policy: a match shows as Bypass, no match as the default Greylist.
bool matches(const QByteArray &policy, const PolicyQuery &q)
{
    const PolicyIndex index(documentWith(policy));
    const PolicyDecision d = index.evaluate(q);
    const bool hit = d.reason == DecisionReason::Policy;
    if (hit != (d.outcome == PolicyOutcome::Bypass))
        qFatal("inconsistent decision");
    // explain() must agree with evaluate() on every row.
    const PolicyExplanation e = index.explain(q);
    if (hit != (e.matched.size() == 1 && e.matched[0].lostBecause.isEmpty()))
        qFatal("explain disagrees with evaluate");
    return hit;
}

} // namespace

void TstPolicyMatching::each_from_specifier_matches_exactly_its_senders_data()
{
    QTest::addColumn<QByteArray>("from");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<bool>("match");

    const QByteArray ext = "203.0.113.5";
    const QByteArray everyone = R"({"type":"everyone"})";
    QTest::newRow("everyone: external") << everyone << ext << QByteArray("a@partner.test") << true;
    QTest::newRow("everyone: null sender") << everyone << ext << QByteArray("") << true;
    QTest::newRow("everyone: garbage") << everyone << ext << QByteArray("\x01\x02") << true;

    const QByteArray internal = R"({"type":"internal"})";
    QTest::newRow("internal: domain") << internal << ext << QByteArray("alice@example.com") << true;
    QTest::newRow("internal: subdomain")
        << internal << ext << QByteArray("bob@eu.example.com") << true;
    QTest::newRow("internal: upper case")
        << internal << ext << QByteArray("<Bob@EXAMPLE.com>") << true;
    QTest::newRow("internal: lookalike")
        << internal << ext << QByteArray("a@badexample.com") << false;
    QTest::newRow("internal: external") << internal << ext << QByteArray("a@partner.test") << false;
    QTest::newRow("internal: null sender") << internal << ext << QByteArray("") << false;

    const QByteArray external = R"({"type":"external"})";
    QTest::newRow("external: external") << external << ext << QByteArray("a@partner.test") << true;
    QTest::newRow("external: internal") << external << ext << QByteArray("a@example.com") << false;
    QTest::newRow("external: null sender") << external << ext << QByteArray("<>") << true;

    const QByteArray domain = R"({"type":"domain","value":"partner.test"})";
    QTest::newRow("domain: exact") << domain << ext << QByteArray("a@partner.test") << true;
    QTest::newRow("domain: case") << domain << ext << QByteArray("A@PARTNER.Test") << true;
    QTest::newRow("domain: subdomain not included")
        << domain << ext << QByteArray("a@mx.partner.test") << false;
    QTest::newRow("domain: suffix lookalike")
        << domain << ext << QByteArray("a@xpartner.test") << false;
    QTest::newRow("domain: null sender") << domain << ext << QByteArray("") << false;

    const QByteArray subs = R"({"type":"domain","value":"partner.test","includeSubdomains":true})";
    QTest::newRow("subdomains: exact") << subs << ext << QByteArray("a@partner.test") << true;
    QTest::newRow("subdomains: deep") << subs << ext << QByteArray("a@x.mx.partner.test") << true;
    QTest::newRow("subdomains: lookalike") << subs << ext << QByteArray("a@xpartner.test") << false;
    QTest::newRow("subdomains: parent") << subs << ext << QByteArray("a@test") << false;

    const QByteArray address = R"({"type":"address","value":"Boss@Partner.test"})";
    QTest::newRow("address: same") << address << ext << QByteArray("boss@partner.test") << true;
    QTest::newRow("address: brackets and case")
        << address << ext << QByteArray("<BOSS@partner.TEST>") << true;
    QTest::newRow("address: other user")
        << address << ext << QByteArray("boss2@partner.test") << false;
    QTest::newRow("address: same user other domain")
        << address << ext << QByteArray("boss@partner.test.evil") << false;

    const QByteArray group = R"({"type":"group","value":"vip"})";
    QTest::newRow("group: address member")
        << group << ext << QByteArray("boss@partner.test") << true;
    QTest::newRow("group: @domain member") << group << ext << QByteArray("x@vip.test") << true;
    QTest::newRow("group: @domain is exact") << group << ext << QByteArray("x@a.vip.test") << false;
    QTest::newRow("group: *.domain member") << group << ext << QByteArray("x@a.b.cdn.test") << true;
    QTest::newRow("group: *.domain not the domain")
        << group << ext << QByteArray("x@cdn.test") << false;
    QTest::newRow("group: network member")
        << group << QByteArray("198.51.100.77") << QByteArray("x@anything.test") << true;
    QTest::newRow("group: network member, mapped client")
        << group << QByteArray("::ffff:198.51.100.77") << QByteArray("") << true;
    QTest::newRow("group: outside network")
        << group << QByteArray("198.51.101.1") << QByteArray("x@anything.test") << false;
}

void TstPolicyMatching::each_from_specifier_matches_exactly_its_senders()
{
    QFETCH(QByteArray, from);
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, sender);
    QFETCH(bool, match);
    const QByteArray policy =
        R"({"id":1,"action":"bypass","from":)" + from + R"(,"to":{"type":"everyone"}})";
    QCOMPARE(matches(policy, query(client, sender, "user@example.com")), match);
}

void TstPolicyMatching::each_to_specifier_matches_exactly_its_recipients_data()
{
    QTest::addColumn<QByteArray>("to");
    QTest::addColumn<QByteArray>("recipient");
    QTest::addColumn<bool>("match");

    QTest::newRow("everyone") << QByteArray(R"({"type":"everyone"})") << QByteArray("a@example.com")
                              << true;
    QTest::newRow("internal") << QByteArray(R"({"type":"internal"})")
                              << QByteArray("a@hq.example.com") << true;
    QTest::newRow("internal: external rcpt")
        << QByteArray(R"({"type":"internal"})") << QByteArray("a@partner.test") << false;
    QTest::newRow("external") << QByteArray(R"({"type":"external"})")
                              << QByteArray("a@partner.test") << true;
    QTest::newRow("external: internal rcpt")
        << QByteArray(R"({"type":"external"})") << QByteArray("a@example.com") << false;
    QTest::newRow("domain exact") << QByteArray(R"({"type":"domain","value":"sales.example.com"})")
                                  << QByteArray("a@sales.example.com") << true;
    QTest::newRow("domain exact: parent")
        << QByteArray(R"({"type":"domain","value":"sales.example.com"})")
        << QByteArray("a@example.com") << false;
    QTest::newRow("domain with subdomains")
        << QByteArray(R"({"type":"domain","value":"example.com","includeSubdomains":true})")
        << QByteArray("a@x.example.com") << true;
    QTest::newRow("address") << QByteArray(R"({"type":"address","value":"ceo@example.com"})")
                             << QByteArray("CEO@example.com") << true;
    QTest::newRow("address: other") << QByteArray(R"({"type":"address","value":"ceo@example.com"})")
                                    << QByteArray("cfo@example.com") << false;
    QTest::newRow("group: recipient address") << QByteArray(R"({"type":"group","value":"VIP"})")
                                              << QByteArray("boss@partner.test") << true;
    // Network members belong to the sending side: a recipient never matches them, even when
    // the client is inside the network.
    QTest::newRow("group: network member not for recipients")
        << QByteArray(R"({"type":"group","value":"VIP"})") << QByteArray("a@example.com") << false;
}

void TstPolicyMatching::each_to_specifier_matches_exactly_its_recipients()
{
    QFETCH(QByteArray, to);
    QFETCH(QByteArray, recipient);
    QFETCH(bool, match);
    const QByteArray policy =
        R"({"id":1,"action":"bypass","from":{"type":"everyone"},"to":)" + to + "}";
    QCOMPARE(matches(policy, query("198.51.100.1", "x@elsewhere.test", recipient)), match);
}

void TstPolicyMatching::from_is_matched_on_the_address_basis_the_policy_names_data()
{
    QTest::addColumn<QString>("basis");
    QTest::addColumn<QByteArray>("envelope");
    QTest::addColumn<QByteArray>("header"); // empty: not known (RCPT time)
    QTest::addColumn<QString>("expected");  // "match", "no", "pending"

    const QByteArray partner = "a@partner.test";
    const QByteArray other = "a@other.test";
    QTest::newRow("envelope: envelope matches")
        << u"envelope"_qs << partner << other << u"match"_qs;
    QTest::newRow("envelope: only header matches")
        << u"envelope"_qs << other << partner << u"no"_qs;
    QTest::newRow("envelope: header unknown")
        << u"envelope"_qs << partner << QByteArray() << u"match"_qs;
    QTest::newRow("header: header matches") << u"header"_qs << other << partner << u"match"_qs;
    QTest::newRow("header: only envelope matches") << u"header"_qs << partner << other << u"no"_qs;
    QTest::newRow("header: unknown at RCPT")
        << u"header"_qs << partner << QByteArray() << u"pending"_qs;
    QTest::newRow("both: envelope matches") << u"both"_qs << partner << other << u"match"_qs;
    QTest::newRow("both: header matches") << u"both"_qs << other << partner << u"match"_qs;
    QTest::newRow("both: neither") << u"both"_qs << other << other << u"no"_qs;
    QTest::newRow("both: envelope matches, header unknown")
        << u"both"_qs << partner << QByteArray() << u"match"_qs;
    QTest::newRow("both: envelope fails, header unknown")
        << u"both"_qs << other << QByteArray() << u"pending"_qs;
}

void TstPolicyMatching::from_is_matched_on_the_address_basis_the_policy_names()
{
    QFETCH(QString, basis);
    QFETCH(QByteArray, envelope);
    QFETCH(QByteArray, header);
    QFETCH(QString, expected);
    const PolicyIndex index(
        documentWith(R"({"id":4,"action":"bypass","from":{"basedOn":")" + basis.toUtf8() +
                     R"(","type":"domain","value":"partner.test"},"to":{"type":"everyone"}})"));
    PolicyQuery q = query("203.0.113.5", envelope, "u@example.com");
    q.headerFrom = header;
    q.headerFromKnown = !header.isEmpty();
    const PolicyDecision d = index.evaluate(q);
    QCOMPARE(d.reason == DecisionReason::Policy ? u"match"_qs
             : d.headerFromPending              ? u"pending"_qs
                                                : u"no"_qs,
             expected);
    if (expected == u"pending") {
        const PolicyExplanation e = index.explain(q);
        QCOMPARE(e.notMatched.size(), 1);
        QVERIFY2(e.notMatched[0].reason.contains(u"end of DATA"),
                 qPrintable(e.notMatched[0].reason));
        QVERIFY(e.decision.headerFromPending);
    }
}

void TstPolicyMatching::a_bidirectional_policy_also_matches_with_sender_and_recipient_swapped_data()
{
    QTest::addColumn<bool>("bidirectional");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QByteArray>("recipient");
    QTest::addColumn<bool>("match");
    QTest::addColumn<bool>("reversed");

    const QByteArray partner = "p@partner.test";
    const QByteArray alice = "alice@example.com";
    QTest::newRow("one-way, direct") << false << partner << alice << true << false;
    QTest::newRow("one-way, reply") << false << alice << partner << false << false;
    QTest::newRow("bi-directional, direct") << true << partner << alice << true << false;
    QTest::newRow("bi-directional, reply") << true << alice << partner << true << true;
    QTest::newRow("bi-directional, unrelated")
        << true << alice << QByteArray("x@other.test") << false << false;
}

void TstPolicyMatching::a_bidirectional_policy_also_matches_with_sender_and_recipient_swapped()
{
    QFETCH(bool, bidirectional);
    QFETCH(QByteArray, sender);
    QFETCH(QByteArray, recipient);
    QFETCH(bool, match);
    QFETCH(bool, reversed);
    const PolicyIndex index(documentWith(
        R"({"id":1,"action":"bypass","from":{"type":"domain","value":"partner.test"},
            "to":{"type":"internal"},"bidirectional":)" +
        QByteArray(bidirectional ? "true" : "false") + "}"));
    const PolicyQuery q = query("203.0.113.5", sender, recipient);
    QCOMPARE(index.evaluate(q).reason == DecisionReason::Policy, match);
    const PolicyExplanation e = index.explain(q);
    QCOMPARE(e.matched.size(), match ? 1 : 0);
    if (match)
        QCOMPARE(e.matched[0].reversed, reversed);
}

void TstPolicyMatching::a_policy_is_in_force_from_its_start_until_before_its_end_data()
{
    QTest::addColumn<bool>("enabled");
    QTest::addColumn<bool>("withStart");
    QTest::addColumn<bool>("withEnd");
    QTest::addColumn<Seconds>("now");
    QTest::addColumn<bool>("inForce");
    QTest::addColumn<QString>("reason");

    const Seconds start = kNow;
    const Seconds end = kNow + 86400;
    QTest::newRow("start - 1s") << true << true << true << start - 1 << false
                                << u"not in force before"_qs;
    QTest::newRow("start") << true << true << true << start << true << QString();
    QTest::newRow("start + 1s") << true << true << true << start + 1 << true << QString();
    QTest::newRow("end - 1s") << true << true << true << end - 1 << true << QString();
    QTest::newRow("end") << true << true << true << end << false << u"out of force since"_qs;
    QTest::newRow("end + 1s") << true << true << true << end + 1 << false
                              << u"out of force since"_qs;
    QTest::newRow("start only, long after")
        << true << true << false << end * 2 << true << QString();
    QTest::newRow("end only, long before")
        << true << false << true << Seconds(0) << true << QString();
    QTest::newRow("perpetual") << true << false << false << end * 2 << true << QString();
    QTest::newRow("disabled, in range")
        << false << true << true << start + 1 << false << u"disabled"_qs;
}

void TstPolicyMatching::a_policy_is_in_force_from_its_start_until_before_its_end()
{
    QFETCH(bool, enabled);
    QFETCH(bool, withStart);
    QFETCH(bool, withEnd);
    QFETCH(Seconds, now);
    QFETCH(bool, inForce);
    QFETCH(QString, reason);
    QByteArray policy =
        R"({"id":1,"action":"bypass","from":{"type":"everyone"},"to":{"type":"everyone"},"enabled":)";
    policy += enabled ? "true" : "false";
    if (withStart)
        policy += ",\"start\":\"" + PolicyTime::toIso(kNow).toUtf8() + "\"";
    if (withEnd)
        policy += ",\"end\":\"" + PolicyTime::toIso(kNow + 86400).toUtf8() + "\"";
    policy += "}";
    const PolicyIndex index(documentWith(policy));
    const PolicyQuery q = query("203.0.113.5", "a@partner.test", "u@example.com", now);
    QCOMPARE(index.evaluate(q).reason == DecisionReason::Policy, inForce);
    const PolicyExplanation e = index.explain(q);
    if (!inForce) {
        QCOMPARE(e.notMatched.size(), 1);
        QVERIFY2(e.notMatched[0].reason.contains(reason), qPrintable(e.notMatched[0].reason));
    }
}

void TstPolicyMatching::source_ranges_restrict_a_policy_to_clients_inside_them_data()
{
    QTest::addColumn<QByteArray>("ranges");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<bool>("match");

    const QByteArray both = R"(["192.0.2.0/24","2001:db8:5::/48"])";
    QTest::newRow("v4 inside") << both << QByteArray("192.0.2.200") << true;
    QTest::newRow("v4 outside") << both << QByteArray("192.0.3.1") << false;
    QTest::newRow("v4 mapped inside") << both << QByteArray("::ffff:192.0.2.1") << true;
    QTest::newRow("v6 inside") << both << QByteArray("2001:db8:5:ffff::1") << true;
    QTest::newRow("v6 outside") << both << QByteArray("2001:db8:6::1") << false;
    QTest::newRow("client unknown") << both << QByteArray("unknown") << false;
    QTest::newRow("client empty") << both << QByteArray("") << false;
    QTest::newRow("no ranges: any client") << QByteArray("[]") << QByteArray("unknown") << true;
}

void TstPolicyMatching::source_ranges_restrict_a_policy_to_clients_inside_them()
{
    QFETCH(QByteArray, ranges);
    QFETCH(QByteArray, client);
    QFETCH(bool, match);
    const QByteArray policy =
        R"({"id":1,"action":"bypass","from":{"type":"everyone"},"to":{"type":"everyone"},"sourceRanges":)" +
        ranges + "}";
    QCOMPARE(matches(policy, query(client, "a@partner.test", "u@example.com")), match);
}

QTEST_GUILESS_MAIN(TstPolicyMatching)
#include "tst_policy_matching.moc"
