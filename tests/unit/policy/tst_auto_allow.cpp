// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyTestData.h"
#include "policy/AutoAllowLearner.h"
#include "policy/AutoAllowTable.h"

using namespace greygate;
using namespace greygate::test;

class TstAutoAllow : public QObject
{
    Q_OBJECT

private slots:
    void outbound_mail_to_an_external_address_is_learned_data();
    void outbound_mail_to_an_external_address_is_learned();
    void a_learned_pair_lets_the_reply_through_until_it_expires();
    void an_override_policy_learns_the_correspondent_for_every_internal_user();
    void the_table_refreshes_pairs_and_stops_at_its_capacity();
};

void TstAutoAllow::outbound_mail_to_an_external_address_is_learned_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QByteArray>("recipient");
    QTest::addColumn<QByteArray>("sasl");
    QTest::addColumn<bool>("learned");

    QTest::newRow("internal sender from internal network")
        << QByteArray("10.1.2.3") << QByteArray("Alice@Example.com") << QByteArray("pen@pal.test")
        << QByteArray() << true;
    QTest::newRow("internal v6 network")
        << QByteArray("2001:db8:a:1::5") << QByteArray("alice@example.com")
        << QByteArray("pen@pal.test") << QByteArray() << true;
    QTest::newRow("authenticated from anywhere")
        << QByteArray("203.0.113.5") << QByteArray("alice@example.com")
        << QByteArray("pen@pal.test") << QByteArray("alice") << true;
    QTest::newRow("internal sender from outside: spoofed, not learned")
        << QByteArray("203.0.113.5") << QByteArray("alice@example.com")
        << QByteArray("pen@pal.test") << QByteArray() << false;
    QTest::newRow("external sender from inside: not outbound")
        << QByteArray("10.1.2.3") << QByteArray("x@pal.test") << QByteArray("pen@pal.test")
        << QByteArray() << false;
    QTest::newRow("internal to internal")
        << QByteArray("10.1.2.3") << QByteArray("alice@example.com")
        << QByteArray("bob@eu.example.com") << QByteArray() << false;
    QTest::newRow("null sender") << QByteArray("10.1.2.3") << QByteArray("")
                                 << QByteArray("pen@pal.test") << QByteArray("alice") << false;
    QTest::newRow("recipient without domain")
        << QByteArray("10.1.2.3") << QByteArray("alice@example.com") << QByteArray("postmaster")
        << QByteArray() << false;
}

void TstAutoAllow::outbound_mail_to_an_external_address_is_learned()
{
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, sender);
    QFETCH(QByteArray, recipient);
    QFETCH(QByteArray, sasl);
    QFETCH(bool, learned);
    const PolicyIndex index(documentWith({}));
    PolicyQuery q = query(client, sender, recipient);
    q.saslUsername = sasl;
    const AutoAllowLearner learner(3600);
    const std::optional<AutoAllowEntry> entry = learner.learn(q, index);
    QCOMPARE(bool(entry), learned);
    if (learned) {
        QCOMPARE(entry->internalAddress, u"alice@example.com"_qs);
        QCOMPARE(entry->externalAddress, u"pen@pal.test"_qs);
        QCOMPARE(entry->createdAt, kNow);
        QCOMPARE(entry->expiresAt, kNow + 3600);
    }
}

void TstAutoAllow::a_learned_pair_lets_the_reply_through_until_it_expires()
{
    const PolicyIndex index(documentWith({}));
    AutoAllowTable table;
    const AutoAllowLearner learner(3600);
    const std::optional<AutoAllowEntry> entry =
        learner.learn(query("10.1.2.3", "alice@example.com", "pen@pal.test"), index);
    QVERIFY(entry);
    QVERIFY(table.put(*entry));

    const auto reply = [&](const QByteArray &from, const QByteArray &to, Seconds now) {
        return index.evaluate(query("203.0.113.5", from, to, now), &table);
    };
    QCOMPARE(reply("pen@pal.test", "alice@example.com", kNow + 1).reason,
             DecisionReason::AutoAllow);
    QCOMPARE(reply("<PEN@pal.test>", "Alice@example.com", kNow + 3599).outcome,
             PolicyOutcome::Bypass);
    // Only that pair, only in the reply direction, only until it expires.
    QCOMPARE(reply("pen@pal.test", "bob@example.com", kNow + 1).outcome, PolicyOutcome::Greylist);
    QCOMPARE(reply("other@pal.test", "alice@example.com", kNow + 1).outcome,
             PolicyOutcome::Greylist);
    QCOMPARE(reply("alice@example.com", "pen@pal.test", kNow + 1).outcome, PolicyOutcome::Greylist);
    QCOMPARE(reply("pen@pal.test", "alice@example.com", kNow + 3600).outcome,
             PolicyOutcome::Greylist);

    QCOMPARE(table.expire(kNow + 3599).size(), 0);
    QCOMPARE(table.expire(kNow + 3600).size(), 1);
    QCOMPARE(table.size(), 0);
}

void TstAutoAllow::an_override_policy_learns_the_correspondent_for_every_internal_user()
{
    const PolicyIndex index(documentWith(
        R"({"id":1,"action":"bypass","override":true,"from":{"type":"internal"},
            "to":{"type":"domain","value":"pal.test"}})"));
    const std::optional<AutoAllowEntry> entry =
        AutoAllowLearner().learn(query("10.1.2.3", "alice@example.com", "pen@pal.test"), index);
    QVERIFY(entry);
    QCOMPARE(entry->internalAddress, AutoAllowEntry::kEveryInternalUser);
    QCOMPARE(entry->expiresAt, kNow + AutoAllowLearner::kDefaultLifetime);
    AutoAllowTable table;
    table.put(*entry);
    QCOMPARE(index.evaluate(query("203.0.113.5", "pen@pal.test", "bob@example.com"), &table).reason,
             DecisionReason::AutoAllow);
    // Without the override only the sender is learned.
    const std::optional<AutoAllowEntry> plain =
        AutoAllowLearner().learn(query("10.1.2.3", "alice@example.com", "pen@other.test"), index);
    QCOMPARE(plain->internalAddress, u"alice@example.com"_qs);
}

void TstAutoAllow::the_table_refreshes_pairs_and_stops_at_its_capacity()
{
    AutoAllowTable table(2);
    QVERIFY(table.put({u"a@example.com"_qs, u"x@pal.test"_qs, 100, 200}));
    const std::optional<AutoAllowEntry> refreshed =
        table.put({u"A@example.com"_qs, u"X@pal.test"_qs, 150, 400});
    QVERIFY(refreshed);
    QCOMPARE(refreshed->createdAt, 100); // first sight kept
    QCOMPARE(refreshed->expiresAt, 400);
    QCOMPARE(table.size(), 1);
    QVERIFY(table.put({u"b@example.com"_qs, u"x@pal.test"_qs, 100, 200}));
    QVERIFY(!table.put({u"c@example.com"_qs, u"x@pal.test"_qs, 100, 200}));
    QCOMPARE(table.entries().size(), 2);
    const QByteArray longAddress = QByteArray(400, 'a') + "@x.test";
    QVERIFY(!table.find(longAddress, "a@example.com", 150));
}

QTEST_GUILESS_MAIN(TstAutoAllow)
#include "tst_auto_allow.moc"
