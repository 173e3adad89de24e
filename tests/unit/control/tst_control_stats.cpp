// SPDX-License-Identifier: GPL-3.0-or-later
// The control API's read-outs of what happened, against a real engine, store and handler:
// the rejection log ("Sender Failed to Retry") paged and filtered, and stats.breakdown.

#include "ControlTestProxy.h"

using namespace greygate;
using namespace greygate::test;

class ControlStatsTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void rejectionsArePagedAndFiltered();
    void statsBreakdownCountsByPolicyAndDeferredDomain();
};

void ControlStatsTest::rejectionsArePagedAndFiltered()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    for (int i = 0; i < 5; ++i)
        proxy.decide("192.0.2.1", "a@b.example", "user" + QByteArray::number(i) + "@corp.example");
    proxy.decide("198.51.100.1", "z@other.example", "user0@corp.example");
    proxy.clock.advanceHours(13);
    proxy.handler->sweepNow();

    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    QJsonObject page =
        client.result(QStringLiteral("rejections.list"), QJsonObject{{QStringLiteral("limit"), 4}});
    QCOMPARE(page.value(QStringLiteral("rows")).toArray().size(), 4);
    QVERIFY(page.value(QStringLiteral("more")).toBool());
    QCOMPARE(page.value(QStringLiteral("rows"))
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(QStringLiteral("reason"))
                 .toString(),
             QStringLiteral("Sender Failed to Retry"));
    page = client.result(QStringLiteral("rejections.list"),
                         QJsonObject{{QStringLiteral("limit"), 4}, {QStringLiteral("offset"), 4}});
    QCOMPARE(page.value(QStringLiteral("rows")).toArray().size(), 2);
    QVERIFY(!page.value(QStringLiteral("more")).toBool());
    page = client.result(QStringLiteral("rejections.list"),
                         QJsonObject{{QStringLiteral("sender"), QStringLiteral("other.example")}});
    QCOMPARE(page.value(QStringLiteral("rows")).toArray().size(), 1);
    page = client.result(QStringLiteral("rejections.list"),
                         QJsonObject{{QStringLiteral("recipient"), QStringLiteral("user0")},
                                     {QStringLiteral("offset"), 1}});
    QCOMPARE(page.value(QStringLiteral("rows")).toArray().size(), 1);
    QCOMPARE(TestClient::errorField(
                 client.call(QStringLiteral("rejections.list"),
                             QJsonObject{{QStringLiteral("from"), 10}, {QStringLiteral("to"), 5}})),
             QStringLiteral("params.to"));
}

void ControlStatsTest::statsBreakdownCountsByPolicyAndDeferredDomain()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const QJsonObject policy = client.result(
        QStringLiteral("policy.create"),
        QJsonObject{
            {QStringLiteral("policy"),
             QJsonObject{{QStringLiteral("narrative"), QStringLiteral("VIP bypass")},
                         {QStringLiteral("action"), QStringLiteral("bypass")},
                         {QStringLiteral("from"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                                      {QStringLiteral("value"), QStringLiteral("vip.test")}}},
                         {QStringLiteral("to"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}}}});
    const qint64 policyId = policy.value(QStringLiteral("id")).toInteger();
    QVERIFY(policyId > 0);
    const qint64 t0 = proxy.clock.now();
    QVERIFY(proxy.decide("192.0.2.1", "a@bulk.test", "u@corp.example").startsWith("DEFER"));
    QVERIFY(proxy.decide("192.0.2.2", "b@bulk.test", "u@corp.example").startsWith("DEFER"));
    QVERIFY(proxy.decide("192.0.2.3", "c@Other.test", "u@corp.example").startsWith("DEFER"));
    QCOMPARE(proxy.decide("192.0.2.4", "d@vip.test", "u@corp.example"), QByteArray("DUNNO"));

    const QJsonObject r = client.result(QStringLiteral("stats.breakdown"),
                                        QJsonObject{{QStringLiteral("from"), t0 - 60},
                                                    {QStringLiteral("to"), t0 + 60},
                                                    {QStringLiteral("limit"), 1}});
    QCOMPARE(r.value(QStringLiteral("from")).toInteger(), t0 - 60);
    const QJsonArray policies = r.value(QStringLiteral("policies")).toArray();
    QCOMPARE(policies.size(), 2);
    const QJsonObject none = policies.at(0).toObject(); // most attempts first
    QCOMPARE(none.value(QStringLiteral("policy")).toString(), QStringLiteral("none"));
    QCOMPARE(none.value(QStringLiteral("attempts")).toInt(), 3);
    QCOMPARE(none.value(QStringLiteral("deferred")).toInt(), 3);
    const QJsonObject vip = policies.at(1).toObject();
    QCOMPARE(vip.value(QStringLiteral("policy")).toString(), QString::number(policyId));
    QCOMPARE(vip.value(QStringLiteral("name")).toString(), QStringLiteral("VIP bypass"));
    QCOMPARE(vip.value(QStringLiteral("bypassed")).toInt(), 1);
    const QJsonArray domains = r.value(QStringLiteral("deferredSenderDomains")).toArray();
    QCOMPARE(domains.size(), 1);
    QCOMPARE(domains.at(0).toObject().value(QStringLiteral("domain")).toString(),
             QStringLiteral("bulk.test"));
    QCOMPARE(domains.at(0).toObject().value(QStringLiteral("deferred")).toInt(), 2);
    QCOMPARE(r.value(QStringLiteral("other")).toObject().value(QStringLiteral("deferred")).toInt(),
             1);

    // The attempt events name the decider the same way.
    client.result(QStringLiteral("events.subscribe"), QJsonObject{{QStringLiteral("since"), 0}});
    QVERIFY(client.waitForEvents(4));
    QCOMPARE(client.events().last().value(QStringLiteral("policy")).toString(),
             QString::number(policyId));

    // A range with nothing, and refused params.
    QVERIFY(client
                .result(QStringLiteral("stats.breakdown"),
                        QJsonObject{{QStringLiteral("from"), t0 - 10 * 86400},
                                    {QStringLiteral("to"), t0 - 9 * 86400}})
                .value(QStringLiteral("policies"))
                .toArray()
                .isEmpty());
    QCOMPARE(TestClient::errorField(client.call(
                 QStringLiteral("stats.breakdown"),
                 QJsonObject{{QStringLiteral("from"), t0}, {QStringLiteral("to"), t0}})),
             QStringLiteral("params.to"));
    QCOMPARE(TestClient::errorField(client.call(QStringLiteral("stats.breakdown"),
                                                QJsonObject{{QStringLiteral("from"), t0},
                                                            {QStringLiteral("to"), t0 + 1},
                                                            {QStringLiteral("limit"), 101}})),
             QStringLiteral("params.limit"));
}

QTEST_GUILESS_MAIN(ControlStatsTest)
#include "tst_control_stats.moc"
