// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyTestData.h"
#include "policy/AutoAllowTable.h"
#include "policy/PolicyTime.h"

#include <QJsonArray>
#include <QRandomGenerator>

using namespace greygate;
using namespace greygate::test;

class TstPolicyPrecedence : public QObject
{
    Q_OBJECT

private slots:
    void overlapping_policies_resolve_in_the_documented_order_data();
    void overlapping_policies_resolve_in_the_documented_order();
    void explain_names_the_winner_why_each_candidate_lost_and_why_others_did_not_match();
    void blocked_beats_permitted_beats_auto_allow_beats_policies_data();
    void blocked_beats_permitted_beats_auto_allow_beats_policies();
    void explain_lists_every_bypass_that_applies();
    void the_not_matched_list_is_bounded();
    void evaluate_and_explain_pick_the_same_winner_on_generated_policy_sets();
};

namespace {

QByteArray policy(int id, const QByteArray &from, const QByteArray &to,
                  const QByteArray &extra = {})
{
    return "{\"id\":" + QByteArray::number(id) + R"(,"narrative":"p)" + QByteArray::number(id) +
           R"(","action":"bypass","from":)" + from + ",\"to\":" + to + extra + "}";
}

const QByteArray kEveryone = R"({"type":"everyone"})";
const QByteArray kInternal = R"({"type":"internal"})";
const QByteArray kExternal = R"({"type":"external"})";
const QByteArray kGroup = R"({"type":"group","value":"VIP"})";
const QByteArray kDomain = R"({"type":"domain","value":"partner.test"})";
const QByteArray kDomainSubs =
    R"({"type":"domain","value":"partner.test","includeSubdomains":true})";
const QByteArray kDomainSubsLong =
    R"({"type":"domain","value":"mx.partner.test","includeSubdomains":true})";
const QByteArray kAddress = R"({"type":"address","value":"boss@mx.partner.test"})";
const QByteArray kToAddress = R"({"type":"address","value":"alice@example.com"})";

QByteArray at(Seconds t)
{
    return ",\"updatedAt\":\"" + PolicyTime::toIso(t).toUtf8() + "\"";
}

} // namespace

void TstPolicyPrecedence::overlapping_policies_resolve_in_the_documented_order_data()
{
    QTest::addColumn<QByteArray>("policies");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<qint64>("winner");

    const QByteArray boss = "boss@mx.partner.test";
    const QByteArray ext = "203.0.113.5";
    // Each row lists the more specific policy LAST, so that the input order cannot be what
    // decides.
    QTest::newRow("address beats domain")
        << policy(1, kDomainSubs, kEveryone) + "," + policy(2, kAddress, kEveryone) << boss << ext
        << qint64(2);
    QTest::newRow("exact domain beats subdomain-inclusive")
        << policy(1, kDomainSubs, kEveryone) + "," +
               policy(2, R"({"type":"domain","value":"mx.partner.test"})", kEveryone)
        << boss << ext << qint64(2);
    QTest::newRow("longer subdomain-inclusive beats shorter")
        << policy(1, kDomainSubs, kEveryone) + "," + policy(2, kDomainSubsLong, kEveryone) << boss
        << ext << qint64(2);
    QTest::newRow("domain beats group")
        << policy(1, kGroup, kEveryone) + "," + policy(2, kDomain, kEveryone)
        << QByteArray("boss@partner.test") << ext << qint64(2);
    QTest::newRow("group beats external")
        << policy(1, kExternal, kEveryone) + "," + policy(2, kGroup, kEveryone)
        << QByteArray("boss@partner.test") << ext << qint64(2);
    QTest::newRow("internal beats everyone")
        << policy(1, kEveryone, kEveryone) + "," + policy(2, kInternal, kEveryone)
        << QByteArray("bob@example.com") << ext << qint64(2);
    QTest::newRow("From decides before To")
        << policy(1, kDomainSubs, kToAddress) + "," + policy(2, kAddress, kEveryone) << boss << ext
        << qint64(2);
    QTest::newRow("To breaks a From tie")
        << policy(1, kDomainSubs, kEveryone) + "," + policy(2, kDomainSubs, kToAddress) << boss
        << ext << qint64(2);
    QTest::newRow("source range beats none when both sides tie")
        << policy(1, kEveryone, kEveryone) + "," +
               policy(2, kEveryone, kEveryone, R"(,"sourceRanges":["0.0.0.0/0"])")
        << boss << ext << qint64(2);
    QTest::newRow("longer source range beats shorter")
        << policy(1, kEveryone, kEveryone, R"(,"sourceRanges":["203.0.113.0/24"])") + "," +
               policy(2, kEveryone, kEveryone, R"(,"sourceRanges":["203.0.113.4/30"])")
        << boss << ext << qint64(2);
    QTest::newRow("the sides outrank a source range")
        << policy(1, kAddress, kEveryone) + "," +
               policy(2, kDomainSubs, kEveryone, R"(,"sourceRanges":["203.0.113.5/32"])")
        << boss << ext << qint64(1);
    QTest::newRow("the matching range counts, not the longest listed")
        << policy(1, kEveryone, kEveryone,
                  R"(,"sourceRanges":["198.51.100.0/30","203.0.113.0/24"])" + at(kNow - 100)) +
               "," +
               policy(2, kEveryone, kEveryone,
                      R"(,"sourceRanges":["203.0.113.0/25"])" + at(kNow - 200))
        << boss << ext << qint64(2);
    QTest::newRow("same prefix matched: newer change wins over longer listed")
        << policy(1, kEveryone, kEveryone,
                  R"(,"sourceRanges":["198.51.100.0/30","203.0.113.0/24"])" + at(kNow - 200)) +
               "," +
               policy(2, kEveryone, kEveryone,
                      R"(,"sourceRanges":["203.0.113.0/24"])" + at(kNow - 100))
        << boss << ext << qint64(2);
    QTest::newRow("tie: newest change wins") << policy(1, kDomain, kEveryone, at(kNow - 10)) + "," +
                                                    policy(2, kDomain, kEveryone, at(kNow - 5))
                                             << QByteArray("a@partner.test") << ext << qint64(2);
    QTest::newRow("tie: then the lowest id") << policy(7, kDomain, kEveryone, at(kNow - 5)) + "," +
                                                    policy(3, kDomain, kEveryone, at(kNow - 5))
                                             << QByteArray("a@partner.test") << ext << qint64(3);
    QTest::newRow("bi-directional reverse match ranks like a direct one")
        << policy(1, kEveryone, kInternal) + "," +
               policy(2, kInternal, R"({"type":"domain","value":"partner.test"})",
                      R"(,"bidirectional":true)")
        << QByteArray("a@partner.test") << ext << qint64(2);
    QTest::newRow("a disabled specific policy leaves the next one")
        << policy(1, kDomain, kEveryone) + "," +
               policy(2, kAddress, kEveryone, R"(,"enabled":false)")
        << QByteArray("boss@mx.partner.test") << ext << qint64(0);
    QTest::newRow("an ended specific policy leaves the next one")
        << policy(1, kDomainSubs, kEveryone) + "," +
               policy(2, kAddress, kEveryone,
                      ",\"end\":\"" + PolicyTime::toIso(kNow).toUtf8() + "\"")
        << boss << ext << qint64(1);
    QTest::newRow("nothing matches: default")
        << policy(1, kDomain, kEveryone) << QByteArray("a@other.test") << ext << qint64(0);
}

void TstPolicyPrecedence::overlapping_policies_resolve_in_the_documented_order()
{
    QFETCH(QByteArray, policies);
    QFETCH(QByteArray, sender);
    QFETCH(QByteArray, client);
    QFETCH(qint64, winner);
    const PolicyIndex index(documentWith(policies));
    const PolicyQuery q = query(client, sender, "alice@example.com");
    const PolicyDecision d = index.evaluate(q);
    QCOMPARE(d.policyId, winner);
    QCOMPARE(d.reason, winner ? DecisionReason::Policy : DecisionReason::DefaultGreylist);
    QCOMPARE(d.outcome, winner ? PolicyOutcome::Bypass : PolicyOutcome::Greylist);
    const PolicyExplanation e = index.explain(q);
    if (winner) {
        QVERIFY(!e.matched.isEmpty());
        QCOMPARE(e.matched[0].policyId, winner);
        QVERIFY(e.matched[0].lostBecause.isEmpty());
        for (qsizetype i = 1; i < e.matched.size(); ++i)
            QVERIFY(!e.matched[i].lostBecause.isEmpty());
    }
}

void TstPolicyPrecedence::
    explain_names_the_winner_why_each_candidate_lost_and_why_others_did_not_match()
{
    const PolicyIndex index(documentWith(
        policy(1, kEveryone, kEveryone) + "," + policy(2, kDomainSubs, kEveryone, at(kNow - 50)) +
        "," + policy(3, kDomainSubs, kEveryone, at(kNow - 10)) + "," +
        policy(4, kDomainSubs, kEveryone, R"(,"sourceRanges":["203.0.113.0/24"])" + at(kNow - 99)) +
        "," + policy(5, kAddress, kEveryone) + "," +
        policy(6, kDomainSubs, kEveryone, R"(,"sourceRanges":["192.0.2.0/24"])")));
    const PolicyExplanation e =
        index.explain(query("203.0.113.5", "a@mx.partner.test", "alice@example.com"));

    QCOMPARE(e.decision.policyId, 4);
    QCOMPARE(e.summary, u"bypass: policy 4 \"p4\""_qs);
    QList<qint64> order;
    for (const auto &c : e.matched)
        order.append(c.policyId);
    QCOMPARE(order, (QList<qint64>{4, 3, 2, 1}));
    QCOMPARE(e.matched[0].sourcePrefix, 24);
    QCOMPARE(e.matched[1].lostBecause,
             u"no source range is less specific than source range /24 of policy 4"_qs);
    QCOMPARE(e.matched[2].lostBecause,
             u"no source range is less specific than source range /24 of policy 4"_qs);
    QCOMPARE(
        e.matched[3].lostBecause,
        u"From everyone is less specific than domain partner.test (and subdomains) of policy 4"_qs);
    QCOMPARE(e.notMatched.size(), 2);
    QCOMPARE(e.notMatched[0].policyId, 5);
    QCOMPARE(e.notMatched[0].reason,
             u"From: envelope sender a@mx.partner.test is not address boss@mx.partner.test"_qs);
    QCOMPARE(e.notMatched[1].policyId, 6);
    QCOMPARE(e.notMatched[1].reason,
             u"client 203.0.113.5 is in none of the source ranges 192.0.2.0/24"_qs);

    // The same explanation as JSON for the control API.
    const QJsonObject json = e.toJson();
    QCOMPARE(json.value(u"outcome").toString(), u"bypass"_qs);
    QCOMPARE(json.value(u"policy").toInteger(), 4);
    QCOMPARE(json.value(u"matched").toArray().size(), 4);
    QVERIFY(json.value(u"matched").toArray()[0].toObject().value(u"winner").toBool());

    // Without the range policy, the tie between 2 and 3 goes to the newer change.
    const PolicyIndex tie(documentWith(policy(2, kDomainSubs, kEveryone, at(kNow - 50)) + "," +
                                       policy(3, kDomainSubs, kEveryone, at(kNow - 10))));
    const PolicyExplanation t =
        tie.explain(query("203.0.113.5", "a@mx.partner.test", "alice@example.com"));
    QCOMPARE(t.matched[0].policyId, 3);
    QVERIFY2(t.matched[1].lostBecause.startsWith(u"equally specific; policy 3 changed later"),
             qPrintable(t.matched[1].lostBecause));
}

void TstPolicyPrecedence::blocked_beats_permitted_beats_auto_allow_beats_policies_data()
{
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<int>("outcome");
    QTest::addColumn<int>("reason");
    QTest::addColumn<qint64>("groupId");

    const auto row = [](const char *name, const char *sender, const char *client, PolicyOutcome o,
                        DecisionReason r, qint64 g) {
        QTest::newRow(name) << QByteArray(sender) << QByteArray(client) << int(o) << int(r) << g;
    };
    row("blocked address", "spam@bad.test", "203.0.113.5", PolicyOutcome::Reject,
        DecisionReason::BlockedSender, 20);
    row("blocked network", "x@anything.test", "192.0.2.66", PolicyOutcome::Reject,
        DecisionReason::BlockedSender, 20);
    row("blocked beats permitted", "spam@friend.test", "203.0.113.5", PolicyOutcome::Reject,
        DecisionReason::BlockedSender, 20);
    row("permitted domain", "a@friend.test", "203.0.113.5", PolicyOutcome::Bypass,
        DecisionReason::PermittedSender, 10);
    row("permitted network", "a@other.test", "2001:db8:f::9", PolicyOutcome::Bypass,
        DecisionReason::PermittedSender, 10);
    row("permitted beats auto allow", "a@friend.test", "203.0.113.5", PolicyOutcome::Bypass,
        DecisionReason::PermittedSender, 10);
    row("auto allow beats a greylist policy", "pen@pal.test", "203.0.113.5", PolicyOutcome::Bypass,
        DecisionReason::AutoAllow, 0);
    row("policy when nothing else", "x@pal.test", "203.0.113.5", PolicyOutcome::Greylist,
        DecisionReason::Policy, 0);
}

void TstPolicyPrecedence::blocked_beats_permitted_beats_auto_allow_beats_policies()
{
    QFETCH(QByteArray, sender);
    QFETCH(QByteArray, client);
    QFETCH(int, outcome);
    QFETCH(int, reason);
    QFETCH(qint64, groupId);
    const PolicyIndex index(documentWith(
        R"({"id":1,"action":"greylist","from":{"type":"domain","value":"pal.test"},"to":{"type":"everyone"}})",
        R"("groups":[{"id":10,"name":"Permitted Senders","members":["@friend.test","2001:db8:f::/48"]},
                     {"id":20,"name":"Blocked Senders","members":["spam@bad.test","spam@friend.test","192.0.2.64/26"]}])"));
    AutoAllowTable table;
    table.put({u"alice@example.com"_qs, u"pen@pal.test"_qs, kNow - 10, kNow + 10});
    table.put({u"alice@example.com"_qs, u"a@friend.test"_qs, kNow - 10, kNow + 10});
    const PolicyDecision d = index.evaluate(query(client, sender, "alice@example.com"), &table);
    QCOMPARE(int(d.outcome), outcome);
    QCOMPARE(int(d.reason), reason);
    QCOMPARE(d.groupId, groupId);
}

void TstPolicyPrecedence::explain_lists_every_bypass_that_applies()
{
    const PolicyIndex index(
        documentWith(policy(1, kEveryone, kEveryone),
                     R"("groups":[{"id":10,"name":"Permitted Senders","members":["@friend.test"]},
                     {"id":20,"name":"Blocked Senders","members":["spam@friend.test"]}])"));
    AutoAllowTable table;
    table.put({u"alice@example.com"_qs, u"spam@friend.test"_qs, kNow - 10, kNow + 10});
    const PolicyExplanation e =
        index.explain(query("203.0.113.5", "spam@friend.test", "alice@example.com"), &table);
    QCOMPARE(e.decision.outcome, PolicyOutcome::Reject);
    QCOMPARE(e.summary, u"reject: sender in Blocked Senders"_qs);
    QCOMPARE(e.bypasses.size(), 3);
    QCOMPARE(e.bypasses[0].kind, u"permitted"_qs);
    QCOMPARE(e.bypasses[0].member, u"@friend.test"_qs);
    QCOMPARE(e.bypasses[1].kind, u"blocked"_qs);
    QCOMPARE(e.bypasses[1].member, u"spam@friend.test"_qs);
    QCOMPARE(e.bypasses[2].kind, u"autoAllow"_qs);
    QCOMPARE(e.bypasses[2].member, u"spam@friend.test -> alice@example.com"_qs);
    QCOMPARE(e.matched.size(), 1);
    QCOMPARE(e.matched[0].lostBecause, u"not consulted: reject: sender in Blocked Senders"_qs);
}

void TstPolicyPrecedence::the_not_matched_list_is_bounded()
{
    QByteArray policies;
    for (int i = 1; i <= 50; ++i)
        policies += (i > 1 ? "," : "") + policy(i,
                                                R"({"type":"address","value":"u)" +
                                                    QByteArray::number(i) + R"(@partner.test"})",
                                                kEveryone);
    const PolicyIndex index(documentWith(policies));
    const PolicyExplanation e =
        index.explain(query("203.0.113.5", "x@partner.test", "alice@example.com"), nullptr, 10);
    QCOMPARE(e.notMatched.size(), 10);
    QVERIFY(e.notMatchedTruncated);
}

void TstPolicyPrecedence::evaluate_and_explain_pick_the_same_winner_on_generated_policy_sets()
{
    // A fixed seed: the same sets on every run. The fast path stops early; explain() visits
    // and sorts everything; they must agree.
    QRandomGenerator rng(20270115);
    const QList<QByteArray> sides{kEveryone,   kInternal,       kExternal, kGroup,    kDomain,
                                  kDomainSubs, kDomainSubsLong, kAddress,  kToAddress};
    const QList<QByteArray> ranges{"", R"(,"sourceRanges":["203.0.113.0/24"])",
                                   R"(,"sourceRanges":["203.0.113.4/30","10.0.0.0/8"])",
                                   R"(,"sourceRanges":["198.51.100.0/24","203.0.113.0/25"])"};
    const QList<QByteArray> senders{"boss@mx.partner.test", "a@partner.test", "bob@example.com",
                                    "boss@partner.test", ""};
    for (int round = 0; round < 200; ++round) {
        QByteArray policies;
        const int n = 1 + int(rng.bounded(12));
        for (int i = 1; i <= n; ++i) {
            const QByteArray extra = ranges[rng.bounded(int(ranges.size()))] +
                                     at(kNow - rng.bounded(3)) +
                                     (rng.bounded(4) == 0 ? R"(,"bidirectional":true)" : "");
            policies += (i > 1 ? "," : "") + policy(i, sides[rng.bounded(int(sides.size()))],
                                                    sides[rng.bounded(int(sides.size()))], extra);
        }
        const PolicyIndex index(documentWith(policies));
        for (const QByteArray &sender : senders) {
            for (const QByteArray &client : {QByteArray("203.0.113.5"), QByteArray("10.1.1.1")}) {
                const PolicyQuery q = query(client, sender, "alice@example.com");
                const PolicyDecision d = index.evaluate(q);
                const PolicyExplanation e = index.explain(q);
                const qint64 explained = e.matched.isEmpty() ? 0 : e.matched[0].policyId;
                QVERIFY2(d.policyId == explained,
                         qPrintable(QStringLiteral("round %1: evaluate %2, explain %3\n%4")
                                        .arg(round)
                                        .arg(d.policyId)
                                        .arg(explained)
                                        .arg(QString::fromUtf8(policies))));
            }
        }
    }
}

QTEST_GUILESS_MAIN(TstPolicyPrecedence)
#include "tst_policy_precedence.moc"
