// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyTestData.h"
#include "policy/PolicySet.h"

#include <QJsonArray>

using namespace greygate;
using namespace greygate::test;

class TstPolicySet : public QObject
{
    Q_OBJECT

private slots:
    void every_change_gets_a_new_version_and_an_audit_entry();
    void a_change_made_from_a_stale_version_is_refused_data();
    void a_change_made_from_a_stale_version_is_refused();
    void an_invalid_change_is_refused_and_changes_nothing();
    void a_group_a_policy_uses_cannot_be_deleted();
    void an_invalid_import_changes_nothing();
    void importing_the_same_document_again_changes_nothing();
    void change_records_rebuild_the_same_document();
    void auto_allow_changes_come_out_as_records();
};

namespace {

Policy domainPolicy(const QString &domain)
{
    Policy p;
    p.narrative = QStringLiteral("partners");
    p.action = PolicyAction::Bypass;
    p.from.type = SpecifierType::Domain;
    p.from.value = domain;
    return p;
}

} // namespace

void TstPolicySet::every_change_gets_a_new_version_and_an_audit_entry()
{
    PolicySet set;
    const ChangeOutcome created =
        set.createPolicy(domainPolicy(u"partner.test"_qs), u"ann"_qs, kNow);
    QVERIFY2(created.ok(), qPrintable(created.error));
    QCOMPARE(created.id, 1);
    QCOMPARE(created.version, 1u);
    QCOMPARE(set.revision(), 1u);

    Policy p = *set.policy(1);
    p.narrative = u"partners, renamed"_qs;
    const ChangeOutcome updated = set.updatePolicy(p, u"bob"_qs, kNow + 60);
    QVERIFY2(updated.ok(), qPrintable(updated.error));
    QCOMPARE(updated.version, 2u);
    QCOMPARE(set.policy(1)->updatedBy, u"bob"_qs);
    QCOMPARE(set.policy(1)->updatedAt, kNow + 60);

    QCOMPARE(updated.changes.size(), 1);
    const PolicyChange &c = updated.changes[0];
    QCOMPARE(c.revision, 2u);
    QCOMPARE(c.object, ChangeObject::Policy);
    QCOMPARE(c.objectId, u"policy:1"_qs);
    QCOMPARE(c.version, 2u);
    QCOMPARE(c.value.value(u"narrative").toString(), u"partners, renamed"_qs);
    QVERIFY(c.audit);
    QCOMPARE(c.audit->who, u"bob"_qs);
    QCOMPARE(c.audit->what, u"policy.update"_qs);
    QCOMPARE(c.audit->time, kNow + 60);
    QCOMPARE(c.audit->before.value(u"narrative").toString(), u"partners"_qs);
    QCOMPARE(c.audit->after.value(u"narrative").toString(), u"partners, renamed"_qs);

    const ChangeOutcome deleted = set.deletePolicy(1, 2, u"cy"_qs, kNow + 120);
    QVERIFY2(deleted.ok(), qPrintable(deleted.error));
    QVERIFY(!set.policy(1));
    QVERIFY(deleted.changes[0].removed);
    QCOMPARE(set.audit().size(), 3);
    QCOMPARE(set.audit()[2].what, u"policy.delete"_qs);
    QVERIFY(set.audit()[2].after.isEmpty());
    QCOMPARE(set.revision(), 3u);
}

void TstPolicySet::a_change_made_from_a_stale_version_is_refused_data()
{
    QTest::addColumn<QString>("what");
    QTest::newRow("policy update") << u"policy update"_qs;
    QTest::newRow("policy delete") << u"policy delete"_qs;
    QTest::newRow("group update") << u"group update"_qs;
    QTest::newRow("group members") << u"group members"_qs;
    QTest::newRow("group delete") << u"group delete"_qs;
    QTest::newRow("internal") << u"internal"_qs;
}

void TstPolicySet::a_change_made_from_a_stale_version_is_refused()
{
    QFETCH(QString, what);
    PolicySet set;
    QVERIFY(set.createPolicy(domainPolicy(u"partner.test"_qs), u"ann"_qs, kNow).ok());
    SenderGroup g;
    g.name = u"VIP"_qs;
    QVERIFY(set.createGroup(g, u"ann"_qs, kNow).ok());
    QVERIFY(
        set.setInternal(InternalConfig{{{u"example.com"_qs, false}}, {}, 0}, u"ann"_qs, kNow).ok());

    // Two admins load version 1; the first one's change lands, the second one's must not.
    Policy p = *set.policy(1);
    SenderGroup mine = *set.group(1);
    InternalConfig internal = set.document().internal;
    Policy theirs = p;
    theirs.narrative = u"first"_qs;
    QVERIFY(set.updatePolicy(theirs, u"ann"_qs, kNow).ok());
    SenderGroup theirGroup = mine;
    theirGroup.members.append(*GroupMember::parse(u"a@b.test", nullptr));
    QVERIFY(set.updateGroup(theirGroup, u"ann"_qs, kNow).ok());
    QVERIFY(set.setInternal(internal, u"ann"_qs, kNow).ok());

    const quint64 revision = set.revision();
    const PolicyDocument before = set.document();
    ChangeOutcome out;
    if (what == u"policy update") {
        p.narrative = u"second"_qs;
        out = set.updatePolicy(p, u"bob"_qs, kNow);
    } else if (what == u"policy delete") {
        out = set.deletePolicy(1, 1, u"bob"_qs, kNow);
    } else if (what == u"group update") {
        mine.name = u"VIPs"_qs;
        out = set.updateGroup(mine, u"bob"_qs, kNow);
    } else if (what == u"group members") {
        out = set.addMembers(1, 1, {*GroupMember::parse(u"c@d.test", nullptr)}, u"bob"_qs, kNow);
    } else if (what == u"group delete") {
        out = set.deleteGroup(1, 1, u"bob"_qs, kNow);
    } else {
        out = set.setInternal(internal, u"bob"_qs, kNow);
    }
    QCOMPARE(out.code, ChangeError::StaleVersion);
    QVERIFY2(out.error.contains(u"stale version") && out.error.contains(u"is at version 2") &&
                 out.error.contains(u"from version 1"),
             qPrintable(out.error));
    QVERIFY(out.changes.isEmpty());
    QCOMPARE(set.revision(), revision);
    QCOMPARE(set.document(), before);
}

void TstPolicySet::an_invalid_change_is_refused_and_changes_nothing()
{
    PolicySet set;
    Policy p = domainPolicy(u"partner.test"_qs);
    p.start = kNow;
    p.end = kNow - 1;
    const ChangeOutcome out = set.createPolicy(p, u"ann"_qs, kNow);
    QCOMPARE(out.code, ChangeError::Invalid);
    QVERIFY2(out.error.startsWith(u"policy.end: "), qPrintable(out.error));
    Policy g = domainPolicy(u"x.test"_qs);
    g.to.type = SpecifierType::Group;
    g.to.groupId = 42;
    QCOMPARE(set.createPolicy(g, u"ann"_qs, kNow).error, u"policy.to.value: unknown group 42"_qs);
    QCOMPARE(set.revision(), 0u);
    QVERIFY(set.audit().isEmpty());
}

void TstPolicySet::a_group_a_policy_uses_cannot_be_deleted()
{
    PolicySet set;
    SenderGroup g;
    g.name = u"VIP"_qs;
    QVERIFY(set.createGroup(g, u"ann"_qs, kNow).ok());
    Policy p = domainPolicy(u"x.test"_qs);
    p.to.type = SpecifierType::Group;
    p.to.groupId = 1;
    QVERIFY(set.createPolicy(p, u"ann"_qs, kNow).ok());
    const ChangeOutcome out = set.deleteGroup(1, 1, u"ann"_qs, kNow);
    QCOMPARE(out.code, ChangeError::InUse);
    QCOMPARE(out.error,
             u"group 1 \"VIP\" is used by policy 1; change or delete that policy first"_qs);
    QVERIFY(set.group(1));
}

void TstPolicySet::an_invalid_import_changes_nothing()
{
    PolicySet set;
    QVERIFY(
        set.importDocument(
               documentWith(
                   R"({"id":1,"action":"bypass","from":{"type":"group","value":"VIP"},"to":{"type":"everyone"}})"),
               u"ann"_qs, kNow)
            .ok());
    const PolicyDocument before = set.document();
    const quint64 revision = set.revision();
    PolicyDocument bad = before;
    bad.policies[0].end = kNow;
    bad.policies[0].start = kNow + 1;
    const ChangeOutcome out = set.importDocument(bad, u"bob"_qs, kNow);
    QCOMPARE(out.code, ChangeError::Invalid);
    QVERIFY2(out.error.startsWith(u"policies[0].end: "), qPrintable(out.error));
    QCOMPARE(set.document(), before);
    QCOMPARE(set.revision(), revision);
}

void TstPolicySet::importing_the_same_document_again_changes_nothing()
{
    PolicySet set;
    const PolicyDocument doc = documentWith(
        R"({"action":"bypass","from":{"type":"group","value":"VIP"},"to":{"type":"everyone"}},
           {"action":"greylist","from":{"type":"domain","value":"partner.test"},"to":{"type":"internal"}})");
    const ChangeOutcome first = set.importDocument(doc, u"file"_qs, kNow);
    QVERIFY2(first.ok(), qPrintable(first.error));
    QCOMPARE(first.changes.size(), 4); // one group, two policies, the internal configuration
    const PolicyDocument after = set.document();
    const ChangeOutcome second = set.importDocument(doc, u"file"_qs, kNow + 3600);
    QVERIFY(second.ok());
    QCOMPARE(second.changes.size(), 0);
    QCOMPARE(set.document(), after);

    // A changed file changes only what changed; a policy gone from the file goes.
    PolicyDocument edited = doc;
    edited.policies[1].action = PolicyAction::Bypass;
    edited.policies.removeFirst();
    const ChangeOutcome third = set.importDocument(edited, u"file"_qs, kNow + 7200);
    QVERIFY(third.ok());
    QCOMPARE(third.changes.size(), 2);
    QCOMPARE(set.policy(2)->version, 2u);
    QVERIFY(!set.policy(1));
}

void TstPolicySet::change_records_rebuild_the_same_document()
{
    PolicySet set;
    QVERIFY(
        set.importDocument(
               documentWith(
                   R"({"action":"bypass","from":{"type":"group","value":"VIP"},"to":{"type":"everyone"}})"),
               u"ann"_qs, kNow)
            .ok());
    QVERIFY(
        set.addMembers(1, 1, {*GroupMember::parse(u"*.new.test", nullptr)}, u"ann"_qs, kNow).ok());
    Policy p = *set.policy(1);
    p.bidirectional = true;
    QVERIFY(set.updatePolicy(p, u"bob"_qs, kNow + 1).ok());

    // What a store would keep: the last value of every object, then read back as a document.
    PolicySet replay;
    QJsonArray policies, groups;
    QJsonObject internal;
    for (const AuditEntry &a : set.audit()) {
        if (a.objectId.startsWith(u"internal"))
            internal = a.after;
    }
    groups.append(PolicyJson::groupToJson(*set.group(1)));
    policies.append(PolicyJson::policyToJson(*set.policy(1), set.document().groups));
    const QJsonObject root{
        {u"policies"_qs, policies}, {u"groups"_qs, groups}, {u"internal"_qs, internal}};
    QString error;
    const std::optional<PolicyDocument> doc =
        PolicyJson::parse(QJsonDocument(root).toJson(), &error);
    QVERIFY2(doc, qPrintable(error));
    replay.restore(*doc, set.revision());
    QCOMPARE(replay.document(), set.document());
    QCOMPARE(replay.buildIndex()
                 ->evaluate(query("203.0.113.5", "boss@partner.test", "a@example.com"))
                 .policyId,
             1);
}

void TstPolicySet::auto_allow_changes_come_out_as_records()
{
    PolicySet set;
    const ChangeOutcome learned =
        set.learnAutoAllow({u"alice@example.com"_qs, u"pen@pal.test"_qs, kNow, kNow + 100});
    QVERIFY(learned.ok());
    QCOMPARE(learned.changes.size(), 1);
    QVERIFY(!learned.changes[0].audit); // learned from traffic: not audited
    QCOMPARE(learned.changes[0].objectId, u"autoAllow:pen@pal.test alice@example.com"_qs);
    QVERIFY(set.autoAllow().find("pen@pal.test", "alice@example.com", kNow));

    const ChangeOutcome added = set.addAutoAllow(
        {u"bob@example.com"_qs, u"x@pal.test"_qs, kNow, kNow + 50}, u"ann"_qs, kNow);
    QVERIFY(added.ok());
    QVERIFY(added.changes[0].audit);
    QCOMPARE(added.changes[0].audit->what, u"autoAllow.add"_qs);

    const ChangeOutcome expired = set.expireAutoAllow(kNow + 50);
    QCOMPARE(expired.changes.size(), 1);
    QVERIFY(expired.changes[0].removed);
    QCOMPARE(expired.changes[0].objectId, u"autoAllow:x@pal.test bob@example.com"_qs);

    const ChangeOutcome removed =
        set.removeAutoAllow(u"PEN@pal.test"_qs, u"alice@example.com"_qs, u"ann"_qs, kNow);
    QVERIFY2(removed.ok(), qPrintable(removed.error));
    QCOMPARE(set.autoAllow().size(), 0);
    QCOMPARE(set.removeAutoAllow(u"pen@pal.test"_qs, u"alice@example.com"_qs, u"ann"_qs, kNow).code,
             ChangeError::NotFound);
}

QTEST_GUILESS_MAIN(TstPolicySet)
#include "tst_policy_set.moc"
