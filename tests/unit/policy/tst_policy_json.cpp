// SPDX-License-Identifier: GPL-3.0-or-later
#include "policy/GroupMemberCsv.h"
#include "policy/PolicyJson.h"

#include <QTest>

using namespace greygate;

class TstPolicyJson : public QObject
{
    Q_OBJECT

private slots:
    void the_documented_minimal_shape_is_accepted();
    void every_field_round_trips_through_export_and_import();
    void invalid_documents_are_refused_whole_with_the_field_named_data();
    void invalid_documents_are_refused_whole_with_the_field_named();
    void group_members_parse_from_csv_data();
    void group_members_parse_from_csv();
    void bad_csv_is_refused_with_its_line_number_data();
    void bad_csv_is_refused_with_its_line_number();
    void csv_round_trips();
};

void TstPolicyJson::the_documented_minimal_shape_is_accepted()
{
    const QByteArray json = R"({"policies": [{"narrative": "Partners skip greylisting",
        "action": "bypass", "from": {"type": "domain", "value": "partner.test"},
        "to": {"type": "everyone"}, "enabled": true}],
        "groups": [{"name": "Blocked Senders", "members": ["spam@bad.test"]}]})";
    QString error;
    const std::optional<PolicyDocument> doc = PolicyJson::parse(json, &error);
    QVERIFY2(doc, qPrintable(error));
    QCOMPARE(doc->policies.size(), 1);
    const Policy &p = doc->policies[0];
    QCOMPARE(p.id, 1);
    QCOMPARE(p.narrative, u"Partners skip greylisting"_qs);
    QCOMPARE(p.action, PolicyAction::Bypass);
    QCOMPARE(p.from.type, SpecifierType::Domain);
    QCOMPARE(p.from.value, u"partner.test"_qs);
    QCOMPARE(p.fromBasis, AddressBasis::Envelope);
    QCOMPARE(p.to.type, SpecifierType::Everyone);
    QVERIFY(p.enabled);
    QVERIFY(!p.start && !p.end);
    QCOMPARE(doc->groups.size(), 1);
    QCOMPARE(doc->groups[0].kind, GroupKind::Blocked);
    QCOMPARE(doc->groups[0].members[0].text(), u"spam@bad.test"_qs);
    QVERIFY(!doc->hasInternal);
}

void TstPolicyJson::every_field_round_trips_through_export_and_import()
{
    const QByteArray json = R"({
      "format": 1,
      "policies": [
        {"id": 3, "version": 4, "narrative": "VIP both ways", "action": "greylist",
         "from": {"basedOn": "both", "type": "group", "value": "vip"},
         "to": {"type": "domain", "value": "Example.COM", "includeSubdomains": true},
         "enabled": false, "start": "2027-01-01T00:00:00Z", "end": "2027-02-01T01:00:00+01:00",
         "override": true, "bidirectional": true,
         "sourceRanges": ["192.0.2.0/24", "2001:DB8::/32", "::ffff:10.0.0.0/104"],
         "updatedAt": "2026-12-01T10:00:00Z", "updatedBy": "ann"},
        {"action": "bypass", "from": {"basedOn": "header", "type": "address", "value": "a@b.test"},
         "to": {"type": "internal"}}
      ],
      "groups": [
        {"id": 9, "name": "VIP", "kind": "custom", "version": 2,
         "members": ["boss@partner.test", "@VIP.test", "*.cdn.test", "198.51.100.0/24", "2001:db8:1::/48"],
         "updatedAt": "2026-12-01T10:00:00Z", "updatedBy": "bob"},
        {"name": "Permitted Senders", "members": []}
      ],
      "autoAllow": [{"internal": "alice@example.com", "external": "pen@pal.test",
                     "createdAt": "2027-01-01T00:00:00Z", "expiresAt": "2027-03-01T00:00:00Z"},
                    {"internal": "*", "external": "news@pal.test",
                     "createdAt": "2027-01-01T00:00:00Z", "expiresAt": "2027-03-01T00:00:00Z"}],
      "internal": {"domains": ["example.com", {"domain": "example.net", "includeSubdomains": true}],
                   "networks": ["10.0.0.0/8"], "version": 5}
    })";
    QString error;
    const std::optional<PolicyDocument> doc = PolicyJson::parse(json, &error);
    QVERIFY2(doc, qPrintable(error));
    const Policy &p = doc->policies[0];
    QCOMPARE(p.from.groupId, 9);
    QCOMPARE(p.to.value, u"example.com"_qs);
    QCOMPARE(*p.end - *p.start, 31 * 86400);
    QCOMPARE(p.sourceRanges[2].toString(), u"10.0.0.0/8"_qs);
    QCOMPARE(doc->policies[1].id, 4); // after the largest given id
    QCOMPARE(doc->groups[1].id, 10);
    QCOMPARE(doc->groups[1].kind, GroupKind::Permitted);
    QCOMPARE(doc->autoAllow[1].internalAddress, u"*"_qs);
    QCOMPARE(doc->internal.domains.size(), 2);
    QVERIFY(doc->internal.domains[1].includeSubdomains);

    const QByteArray exported = PolicyJson::write(*doc);
    const std::optional<PolicyDocument> again = PolicyJson::parse(exported, &error);
    QVERIFY2(again, qPrintable(error));
    QCOMPARE(*again, *doc);
    QCOMPARE(PolicyJson::write(*again), exported);
}

void TstPolicyJson::invalid_documents_are_refused_whole_with_the_field_named_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("error");

    const auto pol = [](const char *fields) -> QByteArray {
        return QByteArray(
                   R"({"policies":[{"action":"bypass","from":{"type":"everyone"},"to":{"type":"everyone"}},{"action":"bypass","from":{"type":"everyone"},"to":{"type":"everyone"})") +
               fields + "}]}";
    };
    QTest::newRow("not json") << QByteArray("{\"policies\": [") << u"not JSON"_qs;
    QTest::newRow("not an object") << QByteArray("[]") << u"the document must be a JSON object"_qs;
    QTest::newRow("unknown top-level field")
        << QByteArray(R"({"polices":[]})") << u"polices: unknown field"_qs;
    QTest::newRow("unknown policy field")
        << pol(R"(,"sourceRange":["10.0.0.0/8"])") << u"policies[1].sourceRange: unknown field"_qs;
    QTest::newRow("bad CIDR")
        << pol(R"(,"sourceRanges":["10.0.0.0/8","10.0.0.300/8"])")
        << u"policies[1].sourceRanges[1]: \"10.0.0.300/8\" is not a CIDR (bad address)"_qs;
    QTest::newRow("CIDR host bits")
        << pol(R"(,"sourceRanges":["10.0.0.1/8"])")
        << u"policies[1].sourceRanges[0]: \"10.0.0.1/8\" is not a CIDR (host bits set; the network is 10.0.0.0/8)"_qs;
    QTest::newRow("range not a string")
        << pol(R"(,"sourceRanges":[8])") << u"policies[1].sourceRanges[0]: must be a string"_qs;
    QTest::newRow("end before start")
        << pol(R"(,"start":"2027-02-01T00:00:00Z","end":"2027-01-01T00:00:00Z")")
        << u"policies[1].end: 2027-01-01T00:00:00Z is not after start 2027-02-01T00:00:00Z"_qs;
    QTest::newRow("end equals start")
        << pol(R"(,"start":"2027-02-01T00:00:00Z","end":"2027-02-01T00:00:00Z")")
        << u"policies[1].end:"_qs;
    QTest::newRow("time without zone")
        << pol(R"(,"start":"2027-02-01T00:00:00")")
        << u"policies[1].start: \"2027-02-01T00:00:00\" is not a date-time"_qs;
    QTest::newRow("bad action")
        << QByteArray(
               R"({"policies":[{"action":"allow","from":{"type":"everyone"},"to":{"type":"everyone"}}]})")
        << u"policies[0].action: \"allow\" is not greylist or bypass"_qs;
    QTest::newRow("missing action")
        << QByteArray(R"({"policies":[{"from":{"type":"everyone"},"to":{"type":"everyone"}}]})")
        << u"policies[0].action: missing"_qs;
    QTest::newRow("bad type")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"anyone"},"to":{"type":"everyone"}}]})")
        << u"policies[0].from.type: \"anyone\" is not everyone"_qs;
    QTest::newRow("bad basis")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"everyone","basedOn":"body"},"to":{"type":"everyone"}}]})")
        << u"policies[0].from.basedOn: \"body\" is not envelope, header or both"_qs;
    QTest::newRow("basedOn on to")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"everyone"},"to":{"type":"everyone","basedOn":"header"}}]})")
        << u"policies[0].to.basedOn: unknown field"_qs;
    QTest::newRow("unknown group")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"group","value":"VIP"},"to":{"type":"everyone"}}]})")
        << u"policies[0].from.value: unknown group \"VIP\""_qs;
    QTest::newRow("domain without value")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"domain"},"to":{"type":"everyone"}}]})")
        << u"policies[0].from.value: missing for type domain"_qs;
    QTest::newRow("bad domain")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"domain","value":"bad..test"},"to":{"type":"everyone"}}]})")
        << u"policies[0].from.value: \"bad..test\": empty label"_qs;
    QTest::newRow("bad address")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"address","value":"nobody"},"to":{"type":"everyone"}}]})")
        << u"policies[0].from.value: \"nobody\": no '@'"_qs;
    QTest::newRow("everyone with a value")
        << QByteArray(
               R"({"policies":[{"action":"bypass","from":{"type":"everyone","value":"x"},"to":{"type":"everyone"}}]})")
        << u"policies[0].from.value: type everyone takes no value"_qs;
    QTest::newRow("enabled not bool")
        << pol(R"(,"enabled":"yes")") << u"policies[1].enabled: must be true or false"_qs;
    QTest::newRow("duplicate policy id")
        << QByteArray(
               R"({"policies":[{"id":2,"action":"bypass","from":{"type":"everyone"},"to":{"type":"everyone"}},{"id":2,"action":"bypass","from":{"type":"everyone"},"to":{"type":"everyone"}}]})")
        << u"policies[1].id: 2 is not a unique positive id"_qs;
    QTest::newRow("fractional id")
        << pol(R"(,"id":1.5)") << u"policies[1].id: must be an integer"_qs;
    QTest::newRow("bad group member")
        << QByteArray(R"({"groups":[{"name":"G","members":["ok@a.test","@@x"]}]})")
        << u"groups[0].members[1]: \"@@x\" is not a group member"_qs;
    QTest::newRow("bad group member CIDR")
        << QByteArray(R"({"groups":[{"name":"G","members":["2001:db8::1/32"]}]})")
        << u"groups[0].members[0]: \"2001:db8::1/32\" is not a CIDR (host bits set"_qs;
    QTest::newRow("duplicate group name")
        << QByteArray(R"({"groups":[{"name":"G"},{"name":"g"}]})")
        << u"groups[0].name: \"G\" is already the name of group 2"_qs;
    QTest::newRow("group without name")
        << QByteArray(R"({"groups":[{"members":[]}]})") << u"groups[0].name: missing"_qs;
    QTest::newRow("bad group kind") << QByteArray(R"({"groups":[{"name":"G","kind":"vip"}]})")
                                    << u"groups[0].kind: \"vip\" is not custom"_qs;
    QTest::newRow("auto allow bad address")
        << QByteArray(
               R"({"autoAllow":[{"internal":"a@example.com","external":"nope","createdAt":"2027-01-01T00:00:00Z","expiresAt":"2027-02-01T00:00:00Z"}]})")
        << u"autoAllow[0].external: \"nope\": no '@'"_qs;
    QTest::newRow("auto allow expiry before creation")
        << QByteArray(
               R"({"autoAllow":[{"internal":"a@example.com","external":"b@x.test","createdAt":"2027-02-01T00:00:00Z","expiresAt":"2027-01-01T00:00:00Z"}]})")
        << u"autoAllow[0].expiresAt: not after createdAt"_qs;
    QTest::newRow("internal bad network")
        << QByteArray(R"({"internal":{"domains":["example.com"],"networks":["10.0.0.0/33"]}})")
        << u"internal.networks[0]: \"10.0.0.0/33\" is not a CIDR"_qs;
    QTest::newRow("internal unknown field")
        << QByteArray(R"({"internal":{"domain":["example.com"]}})")
        << u"internal.domain: unknown field"_qs;
    QTest::newRow("format 2") << QByteArray(R"({"format":2})")
                              << u"format: must be an integer from 1 to 1"_qs;
    QTest::newRow("control bytes in a value are not echoed raw")
        << QByteArray("{\"policies\":[{\"action\":\"by\\u0001pass\",\"from\":{\"type\":"
                      "\"everyone\"},\"to\":{\"type\":\"everyone\"}}]}")
        << u"policies[0].action: \"by?pass\""_qs;
}

void TstPolicyJson::invalid_documents_are_refused_whole_with_the_field_named()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, error);
    QString message;
    QVERIFY(!PolicyJson::parse(json, &message));
    QVERIFY2(message.startsWith(error), qPrintable(message));
}

void TstPolicyJson::group_members_parse_from_csv_data()
{
    QTest::addColumn<QByteArray>("csv");
    QTest::addColumn<QStringList>("members");

    QTest::newRow("plain") << QByteArray("a@x.test\n@y.test\n*.z.test\n192.0.2.0/24\n")
                           << QStringList{u"a@x.test"_qs, u"@y.test"_qs, u"*.z.test"_qs,
                                          u"192.0.2.0/24"_qs};
    QTest::newRow("header, comments, blanks, CRLF, BOM, quotes")
        << QByteArray("\xEF\xBB\xBFmember\r\n# partners\r\n\r\n  A@X.test  \r\n\"@y.test\"\r\n")
        << QStringList{u"a@x.test"_qs, u"@y.test"_qs};
    QTest::newRow("no trailing newline")
        << QByteArray("2001:db8::/32") << QStringList{u"2001:db8::/32"_qs};
    QTest::newRow("empty") << QByteArray("") << QStringList{};
}

void TstPolicyJson::group_members_parse_from_csv()
{
    QFETCH(QByteArray, csv);
    QFETCH(QStringList, members);
    QString error;
    const std::optional<QList<GroupMember>> parsed = GroupMemberCsv::parse(csv, &error);
    QVERIFY2(parsed, qPrintable(error));
    QStringList texts;
    for (const GroupMember &m : *parsed)
        texts.append(m.text());
    QCOMPARE(texts, members);
}

void TstPolicyJson::bad_csv_is_refused_with_its_line_number_data()
{
    QTest::addColumn<QByteArray>("csv");
    QTest::addColumn<QString>("error");

    QTest::newRow("bad member") << QByteArray("member\na@x.test\n# c\nnot a member\n")
                                << u"line 4: \"not a member\" is not a group member"_qs;
    QTest::newRow("bad CIDR") << QByteArray("a@x.test\n10.0.0.300/8\n")
                              << u"line 2: \"10.0.0.300/8\" is not a CIDR"_qs;
    QTest::newRow("two columns") << QByteArray("a@x.test,comment\n")
                                 << u"line 1: more than one column"_qs;
    QTest::newRow("unbalanced quote")
        << QByteArray("\"a@x.test\n") << u"line 1: unbalanced quotes"_qs;
    QTest::newRow("header not first")
        << QByteArray("a@x.test\nmember\n") << u"line 2: \"member\" is not a group member"_qs;
    QTest::newRow("over-long line") << QByteArray(2000, 'a') + "@x.test\n"
                                    << u"line 1: longer than 1024 bytes"_qs;
}

void TstPolicyJson::bad_csv_is_refused_with_its_line_number()
{
    QFETCH(QByteArray, csv);
    QFETCH(QString, error);
    QString message;
    QVERIFY(!GroupMemberCsv::parse(csv, &message));
    QVERIFY2(message.startsWith(error), qPrintable(message));
}

void TstPolicyJson::csv_round_trips()
{
    QString error;
    const std::optional<QList<GroupMember>> members = GroupMemberCsv::parse(
        "# exported\nboss@partner.test\n@vip.test\n*.cdn.test\n198.51.100.0/24\n2001:db8::/32\n",
        &error);
    QVERIFY2(members, qPrintable(error));
    const QByteArray csv = GroupMemberCsv::write(*members);
    QVERIFY(csv.startsWith("member\n"));
    QCOMPARE(GroupMemberCsv::parse(csv, &error), members);
}

QTEST_GUILESS_MAIN(TstPolicyJson)
#include "tst_policy_json.moc"
