// SPDX-License-Identifier: GPL-3.0-or-later
// Shadow (log-only) policies in the index, the replay of attempts against a candidate set,
// the detection of policies that can never win, and the policy table's versions.
#include "PolicyTestData.h"
#include "policy/PolicyReplay.h"
#include "policy/PolicySet.h"
#include "policy/PolicyTime.h"
#include "policy/PolicyVersions.h"
#include "policy/UnreachablePolicies.h"

#include <QJsonArray>

using namespace greygate;
using namespace greygate::test;

class TstPolicyShadow : public QObject
{
    Q_OBJECT

private slots:
    void a_shadow_policy_never_decides_but_tells_what_it_would_have_done_data();
    void a_shadow_policy_never_decides_but_tells_what_it_would_have_done();
    void mode_round_trips_through_json_and_a_wrong_mode_is_refused();
    void explain_lists_a_matching_shadow_policy_apart();
    void replay_groups_changed_attempts_by_sender_domain_and_new_verdict();
    void replay_keeps_outbound_and_unchanged_attempts_out_of_the_diff();
    void policies_that_can_never_win_are_found_data();
    void policies_that_can_never_win_are_found();
    void versions_group_one_action_and_undo_to_any_version();
    void replace_policies_restores_a_table_exactly_and_audits_it();
};

namespace {

QByteArray policy(int id, const char *action, const QByteArray &from, const QByteArray &extra = {})
{
    return "{\"id\":" + QByteArray::number(id) + R"(,"narrative":"p)" + QByteArray::number(id) +
           R"(","action":")" + action + R"(","from":)" + from + R"(,"to":{"type":"everyone"})" +
           extra + "}";
}

const QByteArray kPartner = R"({"type":"domain","value":"partner.test"})";
const QByteArray kEveryone = R"({"type":"everyone"})";
const QByteArray kShadow = R"(,"mode":"shadow")";

// The standard internal configuration with one group of the test's own.
QByteArray withGroup(const QByteArray &group)
{
    return R"("groups": [)" + group + R"(],
      "internal": {"domains": [{"domain": "example.com", "includeSubdomains": true}],
                   "networks": ["10.0.0.0/8", "2001:db8:a::/48"]})";
}

ReplayAttempt attempt(const QByteArray &client, const QByteArray &sender,
                      const QByteArray &recipient, bool authenticated = false)
{
    return ReplayAttempt{kNow, client, sender, recipient, authenticated};
}

} // namespace

void TstPolicyShadow::a_shadow_policy_never_decides_but_tells_what_it_would_have_done_data()
{
    QTest::addColumn<QByteArray>("policies");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<int>("outcome");       // PolicyOutcome of evaluate()
    QTest::addColumn<qint64>("decidedBy");  // evaluate()'s policy, 0: none
    QTest::addColumn<qint64>("shadowBy");   // shadowDecision()'s policy, 0: nullopt
    QTest::addColumn<int>("shadowOutcome"); // its outcome

    QTest::newRow("shadow bypass alone: greylisted, would have bypassed")
        << policy(1, "bypass", kPartner, kShadow) << QByteArray("a@partner.test")
        << int(PolicyOutcome::Greylist) << qint64(0) << qint64(1) << int(PolicyOutcome::Bypass);
    QTest::newRow("shadow bypass over an enforced greylist: greylist decides")
        << policy(1, "bypass", kPartner, kShadow) + "," + policy(2, "greylist", kEveryone)
        << QByteArray("a@partner.test") << int(PolicyOutcome::Greylist) << qint64(2) << qint64(1)
        << int(PolicyOutcome::Bypass);
    QTest::newRow("a more specific enforced policy wins: no shadow effect")
        << policy(1, "greylist", kEveryone, kShadow) + "," + policy(2, "bypass", kPartner)
        << QByteArray("a@partner.test") << int(PolicyOutcome::Bypass) << qint64(2) << qint64(0)
        << 0;
    QTest::newRow("the shadow policy does not match: nothing")
        << policy(1, "bypass", kPartner, kShadow) << QByteArray("a@other.test")
        << int(PolicyOutcome::Greylist) << qint64(0) << qint64(0) << 0;
    QTest::newRow("Permitted Senders come first: nothing")
        << policy(1, "greylist", kEveryone, kShadow) << QByteArray("a@permitted.test")
        << int(PolicyOutcome::Bypass) << qint64(0) << qint64(0) << 0;
}

void TstPolicyShadow::a_shadow_policy_never_decides_but_tells_what_it_would_have_done()
{
    QFETCH(QByteArray, policies);
    QFETCH(QByteArray, sender);
    QFETCH(int, outcome);
    QFETCH(qint64, decidedBy);
    QFETCH(qint64, shadowBy);
    QFETCH(int, shadowOutcome);
    const PolicyIndex index(
        documentWith(policies, withGroup(R"({"id": 1, "name": "Permitted", "kind": "permitted",
                                "members": ["@permitted.test"]})")));
    const PolicyQuery q = query("192.0.2.1", sender, "alice@example.com");
    const PolicyDecision d = index.evaluate(q);
    QCOMPARE(int(d.outcome), outcome);
    QCOMPARE(d.reason == DecisionReason::Policy ? d.policyId : 0, decidedBy);
    QVERIFY(index.hasShadowPolicies());
    const std::optional<PolicyDecision> s = index.shadowDecision(q);
    QCOMPARE(s ? s->policyId : 0, shadowBy);
    if (s)
        QCOMPARE(int(s->outcome), shadowOutcome);
    QCOMPARE(index.winningPolicy(q) ? index.winningPolicy(q)->id : 0, decidedBy);
}

void TstPolicyShadow::mode_round_trips_through_json_and_a_wrong_mode_is_refused()
{
    const PolicyDocument doc =
        documentWith(policy(1, "bypass", kPartner, kShadow) + "," + policy(2, "bypass", kEveryone));
    QCOMPARE(doc.policies[0].mode, PolicyMode::Shadow);
    QCOMPARE(doc.policies[1].mode, PolicyMode::Enforce);
    const QJsonObject shadow = PolicyJson::policyToJson(doc.policies[0], doc.groups);
    QCOMPARE(shadow.value(QStringLiteral("mode")).toString(), QStringLiteral("shadow"));
    // An enforced policy's document is as it was before modes existed.
    QVERIFY(
        !PolicyJson::policyToJson(doc.policies[1], doc.groups).contains(QStringLiteral("mode")));
    QString error;
    const std::optional<PolicyDocument> back = PolicyJson::parse(PolicyJson::write(doc), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->policies, doc.policies);
    QVERIFY(!PolicyJson::parse(
        QByteArray("{\"policies\":[" + policy(1, "bypass", kPartner, R"(,"mode":"maybe")") + "]}"),
        &error));
    QVERIFY2(error.contains(QStringLiteral("policies[0].mode")), qPrintable(error));
}

void TstPolicyShadow::explain_lists_a_matching_shadow_policy_apart()
{
    const PolicyIndex index(documentWith(policy(1, "bypass", kPartner, kShadow)));
    const PolicyExplanation e =
        index.explain(query("192.0.2.1", "a@partner.test", "b@example.com"));
    QVERIFY(e.matched.isEmpty());
    QCOMPARE(e.notMatched.size(), 1);
    QVERIFY(e.notMatched[0].reason.contains(QStringLiteral("shadow policy")));
    QCOMPARE(int(e.decision.outcome), int(PolicyOutcome::Greylist));
}

void TstPolicyShadow::replay_groups_changed_attempts_by_sender_domain_and_new_verdict()
{
    const PolicyIndex current(documentWith(policy(1, "bypass", kPartner)));
    const PolicyIndex candidate(
        documentWith(policy(2, "bypass", R"({"type":"domain","value":"new.test"})"),
                     withGroup(R"({"id": 1, "name": "Blocked", "kind": "blocked",
                                   "members": ["@spam.test"]})")));
    QList<ReplayAttempt> attempts;
    for (int i = 0; i < 7; ++i)
        attempts.append(
            attempt("192.0.2.1", "u" + QByteArray::number(i) + "@new.test", "alice@example.com"));
    for (int i = 0; i < 3; ++i)
        attempts.append(attempt("192.0.2.2", "x@partner.test", "alice@example.com"));
    attempts.append(attempt("192.0.2.3", "bad@spam.test", "alice@example.com"));
    attempts.append(attempt("192.0.2.4", "same@other.test", "alice@example.com"));
    const PolicyReplay::Result r = PolicyReplay(current, candidate, nullptr).run(attempts);
    QCOMPARE(r.replayed, 12);
    QCOMPARE(r.changed, 11);
    QCOMPARE(r.nowBypass, 7);
    QCOMPARE(r.nowGreylist, 3);
    QCOMPARE(r.nowBlock, 1);
    QCOMPARE(r.groups.size(), 3);
    QCOMPARE(r.groups[0].domain, QStringLiteral("new.test"));
    QCOMPARE(r.groups[0].count, 7);
    QCOMPARE(r.groups[0].after, ReplayVerdict::Bypass);
    QCOMPARE(r.groups[0].samples.size(), PolicyReplay::kMaxSamples);
    QCOMPARE(r.groups[0].samples[0].afterPolicy, 2);
    QCOMPARE(r.groups[1].domain, QStringLiteral("partner.test"));
    QCOMPARE(r.groups[1].after, ReplayVerdict::Greylist);
    QCOMPARE(r.groups[1].fromVerdicts.value(int(ReplayVerdict::Bypass)), 3);
    QCOMPARE(r.groups[1].samples[0].beforePolicy, 1);
    QCOMPARE(r.groups[2].after, ReplayVerdict::Block);
    const QJsonObject json = r.toJson();
    QCOMPARE(json.value(QStringLiteral("nowBypass")).toInteger(), 7);
    QCOMPARE(json.value(QStringLiteral("groups")).toArray().size(), 3);
}

void TstPolicyShadow::replay_keeps_outbound_and_unchanged_attempts_out_of_the_diff()
{
    const PolicyIndex current(documentWith(QByteArray()));
    const PolicyIndex candidate(documentWith(policy(1, "bypass", kEveryone)));
    const QList<ReplayAttempt> attempts = {
        attempt("10.1.2.3", "me@example.com", "you@partner.test"),         // outbound
        attempt("192.0.2.9", "me@partner.test", "you@partner.test", true), // authenticated
        attempt("192.0.2.9", "someone@partner.test", "alice@example.com"),
    };
    const PolicyReplay::Result r = PolicyReplay(current, candidate, nullptr).run(attempts);
    QCOMPARE(r.replayed, 3);
    QCOMPARE(r.changed, 1);
    QCOMPARE(r.nowBypass, 1);
}

void TstPolicyShadow::policies_that_can_never_win_are_found_data()
{
    QTest::addColumn<QByteArray>("policies");
    QTest::addColumn<qint64>("unreachable"); // 0: none found
    QTest::addColumn<qint64>("by");

    const QByteArray older = ",\"updatedAt\":\"" + PolicyTime::toIso(kNow - 100).toUtf8() + "\"";
    const QByteArray newer = ",\"updatedAt\":\"" + PolicyTime::toIso(kNow - 10).toUtf8() + "\"";
    QTest::newRow("same sides, updated later wins always")
        << policy(1, "bypass", kPartner, older) + "," + policy(2, "greylist", kPartner, newer)
        << qint64(1) << qint64(2);
    QTest::newRow("same sides and time: the lower id wins")
        << policy(1, "bypass", kPartner) + "," + policy(2, "greylist", kPartner) << qint64(2)
        << qint64(1);
    QTest::newRow("a source range makes the later one more specific: both can win")
        << policy(1, "bypass", kPartner, R"(,"sourceRanges":["192.0.2.0/24"])" + older) + "," +
               policy(2, "greylist", kPartner, newer)
        << qint64(0) << qint64(0);
    QTest::newRow("a narrower validity cannot cover a perpetual one")
        << policy(1, "bypass", kPartner, older) + "," +
               policy(2, "greylist", kPartner,
                      newer + ",\"end\":\"" + PolicyTime::toIso(kNow + 3600).toUtf8() + "\"")
        << qint64(0) << qint64(0);
    QTest::newRow("a disabled policy shadows nothing")
        << policy(1, "bypass", kPartner, older) + "," +
               policy(2, "greylist", kPartner, newer + ",\"enabled\":false")
        << qint64(0) << qint64(0);
    QTest::newRow("a shadow policy shadows nothing")
        << policy(1, "bypass", kPartner, older) + "," +
               policy(2, "greylist", kPartner, newer + kShadow)
        << qint64(0) << qint64(0);
    QTest::newRow("different sides: both can win")
        << policy(1, "bypass", kPartner) + "," + policy(2, "greylist", kEveryone) << qint64(0)
        << qint64(0);
    QTest::newRow("ended: never in force again")
        << policy(1, "bypass", kPartner,
                  ",\"start\":\"" + PolicyTime::toIso(kNow - 7200).toUtf8() + "\",\"end\":\"" +
                      PolicyTime::toIso(kNow - 3600).toUtf8() + "\"")
        << qint64(1) << qint64(0);
}

void TstPolicyShadow::policies_that_can_never_win_are_found()
{
    QFETCH(QByteArray, policies);
    QFETCH(qint64, unreachable);
    QFETCH(qint64, by);
    const QList<UnreachablePolicies::Finding> found =
        UnreachablePolicies::find(documentWith(policies).policies, kNow);
    if (unreachable == 0) {
        QVERIFY2(found.isEmpty(), qPrintable(found.value(0).reason));
        return;
    }
    QCOMPARE(found.size(), 1);
    QCOMPARE(found[0].policyId, unreachable);
    QCOMPARE(found[0].byPolicyId, by);
    QVERIFY(!found[0].reason.isEmpty());
}

void TstPolicyShadow::versions_group_one_action_and_undo_to_any_version()
{
    PolicySet set;
    const PolicyDocument doc = documentWith(policy(1, "bypass", kPartner));
    Policy p = doc.policies[0];
    p.id = 0;
    QVERIFY(set.createPolicy(p, QStringLiteral("admin"), kNow).ok());
    const PolicyVersions::Table first = [&] {
        PolicyVersions::Table t;
        for (const Policy &x : set.document().policies)
            t.insert(x.id, PolicyJson::policyToJson(x, {}));
        return t;
    }();
    const quint64 firstRevision = set.revision();
    Policy changed = *set.policy(1);
    changed.action = PolicyAction::Greylist;
    QVERIFY(set.updatePolicy(changed, QStringLiteral("admin"), kNow + 10).ok());
    // One import of two policies: one version.
    PolicyDocument import = documentWith(policy(5, "bypass", kEveryone) + "," +
                                         policy(6, "greylist", R"({"type":"internal"})"));
    import.hasInternal = false;
    QVERIFY(set.importDocument(import, QStringLiteral("bob"), kNow + 20).ok());
    QList<AuditEntry> policyAudit;
    for (const AuditEntry &e : set.audit()) {
        if (e.objectId.startsWith(u"policy:"))
            policyAudit.append(e);
    }
    const QList<PolicyVersion> versions = PolicyVersions::versions(policyAudit);
    QCOMPARE(versions.size(), 3);
    QCOMPARE(versions[2].who, QStringLiteral("bob"));
    QCOMPARE(versions[2].policies.size(), 3); // 5 and 6 imported, 1 deleted by the import
    QCOMPARE(versions[0].revision, firstRevision);

    PolicyVersions::Table now;
    for (const Policy &x : set.document().policies)
        now.insert(x.id, PolicyJson::policyToJson(x, {}));
    QString error;
    const std::optional<PolicyVersions::Table> back =
        PolicyVersions::tableAt(now, policyAudit, firstRevision, &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(*back, first);
    const QJsonObject diff = PolicyVersions::diff(*back, now);
    QCOMPARE(diff.value(QStringLiteral("added")).toArray().size(), 2);
    QCOMPARE(diff.value(QStringLiteral("removed")).toArray().size(), 1);
    QCOMPARE(diff.value(QStringLiteral("changed")).toArray().size(), 0);
    const std::optional<PolicyVersions::Table> updated =
        PolicyVersions::tableAt(now, policyAudit, versions[1].revision, &error);
    QVERIFY2(updated, qPrintable(error));
    const QJsonArray changedList =
        PolicyVersions::diff(*back, *updated).value(QStringLiteral("changed")).toArray();
    QCOMPARE(changedList.size(), 1);
    QCOMPARE(changedList[0].toObject().value(QStringLiteral("fields")).toArray(),
             QJsonArray{QStringLiteral("action")});
    // A revision the audit log does not hold (pruned) is refused, not guessed.
    QVERIFY(!PolicyVersions::tableAt(now, policyAudit.mid(1), firstRevision, &error));
    QVERIFY(error.contains(QStringLiteral("pruned")));
}

void TstPolicyShadow::replace_policies_restores_a_table_exactly_and_audits_it()
{
    PolicySet set;
    PolicyDocument doc = documentWith(policy(1, "bypass", kPartner) + "," +
                                      policy(2, "greylist", kEveryone, kShadow));
    doc.hasInternal = false;
    QVERIFY(set.importDocument(doc, QStringLiteral("admin"), kNow).ok());
    const QList<Policy> before = set.document().policies;
    Policy p1 = *set.policy(1);
    p1.narrative = QStringLiteral("edited");
    QVERIFY(set.updatePolicy(p1, QStringLiteral("admin"), kNow + 60).ok());
    QVERIFY(set.deletePolicy(2, set.policy(2)->version, QStringLiteral("admin"), kNow + 61).ok());
    Policy p3 = before[0];
    p3.id = 3;
    QVERIFY(set.createPolicy(p3, QStringLiteral("admin"), kNow + 62).ok());

    const ChangeOutcome out = set.replacePolicies(before, QStringLiteral("policy.rollback"),
                                                  QStringLiteral("eve"), kNow + 120);
    QVERIFY2(out.ok(), qPrintable(out.error));
    QCOMPARE(out.changes.size(), 3); // policy 1 updated, 2 created again, 3 deleted
    const QList<Policy> after = set.document().policies;
    QCOMPARE(after.size(), before.size());
    for (qsizetype i = 0; i < after.size(); ++i) {
        Policy a = after[i], b = before[i];
        a.version = b.version = 0;
        a.updatedBy = b.updatedBy = QString();
        QCOMPARE(a, b); // update times kept: the precedence's tie-break is as it was
    }
    for (const PolicyChange &c : out.changes)
        QCOMPARE(c.audit->what, QStringLiteral("policy.rollback"));
    // Again: nothing left to change.
    QVERIFY(set.replacePolicies(before, QStringLiteral("policy.rollback"), QStringLiteral("eve"),
                                kNow + 130)
                .changes.isEmpty());
}

QTEST_GUILESS_MAIN(TstPolicyShadow)
#include "tst_policy_shadow.moc"
