// SPDX-License-Identifier: GPL-3.0-or-later
// The pool-retry detector, the SPF-scoped bypass it offers, and the flattening of an SPF
// record into the ranges that bypass covers. Time is a manual clock.
#include "ScriptedDns.h"
#include "greylist/Clock.h"
#include "spf/PoolRetryDetector.h"
#include "spf/SpfBypassTable.h"
#include "spf/SpfFlattener.h"

#include <QTest>
#include <optional>

using namespace greygate;

namespace {

QHostAddress ip(const char *text)
{
    return QHostAddress(QString::fromLatin1(text));
}

} // namespace

class TestPoolRetry : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void scriptedMultiIpRetryRaisesOneEvent();
    void retriesFromOneNetworkAreNoPool();
    void groupsStartAgainAfterTheirWindow();
    void detectorStaysBounded();
    void bypassIsHonouredForTheDomainAndItsRangesOnly();
    void bypassExpiresOnTime();
    void flattensIncludesAddressesAndMx();
    void flatteningFailsWithoutARecord();
};

void TestPoolRetry::scriptedMultiIpRetryRaisesOneEvent()
{
    ManualClock clock;
    PoolRetryDetector detector;
    const QByteArray sender = "news@outlook.com";
    const QByteArray rcpt = "bob@receiver.example";
    const struct
    {
        const char *address;
        const char *network;
    } attempts[] = {{"40.92.1.10", "40.92.1.0/24"},  {"40.92.1.11", "40.92.1.0/24"},
                    {"40.92.7.3", "40.92.7.0/24"},   {"52.100.3.4", "52.100.3.0/24"},
                    {"52.100.3.5", "52.100.3.0/24"}, {"40.92.7.4", "40.92.7.0/24"}};
    int raised = 0;
    std::optional<PoolRetry> event;
    for (const auto &a : attempts) {
        clock.advanceMinutes(5);
        if (auto r = detector.noteDeferred(sender, rcpt, a.address, a.network, clock.now())) {
            ++raised;
            event = r;
        }
    }
    QCOMPARE(raised, 1); // at the third address, the second network
    QCOMPARE(event->summary(), QByteArray("outlook.com retrying from 3 IPs in 2 networks"));
    const QList<PoolRetry> now = detector.detected(clock.now());
    QCOMPARE(now.size(), 1);
    QCOMPARE(now[0].summary(), QByteArray("outlook.com retrying from 6 IPs in 3 networks"));
}

void TestPoolRetry::retriesFromOneNetworkAreNoPool()
{
    PoolRetryDetector detector;
    for (int i = 0; i < 10; ++i)
        QVERIFY(!detector.noteDeferred("a@example.com", "b@r.example",
                                       "192.0.2." + QByteArray::number(i), "192.0.2.0/24", i));
    QVERIFY(detector.detected(10).isEmpty());
}

void TestPoolRetry::groupsStartAgainAfterTheirWindow()
{
    PoolRetryDetector::Options o;
    o.window = 3600;
    PoolRetryDetector detector(o);
    QVERIFY(!detector.noteDeferred("a@example.com", "b@r.example", "192.0.2.1", "n1", 0));
    QVERIFY(!detector.noteDeferred("a@example.com", "b@r.example", "198.51.100.1", "n2", 10));
    // Two hours later: the earlier attempts no longer count.
    QVERIFY(!detector.noteDeferred("a@example.com", "b@r.example", "203.0.113.1", "n3", 7200));
    QVERIFY(detector.detected(7200).isEmpty());
}

void TestPoolRetry::detectorStaysBounded()
{
    PoolRetryDetector::Options o;
    o.maxGroups = 100;
    o.maxAddresses = 4;
    PoolRetryDetector detector(o);
    for (int i = 0; i < 1000; ++i)
        detector.noteDeferred("s" + QByteArray::number(i) + "@example.com", "b@r.example",
                              "192.0.2.1", "n", i);
    QCOMPARE(detector.size(), 100);
    for (int i = 0; i < 50; ++i)
        detector.noteDeferred("x@example.com", "b@r.example", "10.0.0." + QByteArray::number(i),
                              "n" + QByteArray::number(i), 2000);
    QCOMPARE(detector.detected(2000).value(0).addresses.size(), 4);
}

void TestPoolRetry::bypassIsHonouredForTheDomainAndItsRangesOnly()
{
    ManualClock clock;
    SpfBypassTable table;
    const qint64 id = table.add("Outlook.com", {{ip("40.92.0.0"), 15}, {ip("2a01:111::"), 32}},
                                clock.now(), 3600);
    QVERIFY(id > 0);
    QVERIFY(table.allows("outlook.com", ip("40.93.2.1"), clock.now()));
    QVERIFY(table.allows("OUTLOOK.COM", ip("::ffff:40.92.0.9"), clock.now()));
    QVERIFY(table.allows("outlook.com", ip("2a01:111:f400::1"), clock.now()));
    QVERIFY(!table.allows("outlook.com", ip("40.94.0.1"), clock.now()));
    QVERIFY(!table.allows("example.com", ip("40.92.0.1"), clock.now()));
    QVERIFY(table.remove(id));
    QVERIFY(!table.allows("outlook.com", ip("40.93.2.1"), clock.now()));
    QCOMPARE(table.add("outlook.com", {}, clock.now(), 3600), qint64(0));
}

void TestPoolRetry::bypassExpiresOnTime()
{
    ManualClock clock;
    SpfBypassTable table;
    QVERIFY(table.add("outlook.com", {{ip("40.92.0.0"), 15}}, clock.now(), 3600) > 0);
    clock.advanceSeconds(3599);
    QVERIFY(table.allows("outlook.com", ip("40.92.0.1"), clock.now()));
    QCOMPARE(table.list(clock.now()).size(), 1);
    clock.advanceSeconds(1);
    QVERIFY(!table.allows("outlook.com", ip("40.92.0.1"), clock.now()));
    QVERIFY(table.list(clock.now()).isEmpty());
    QCOMPARE(table.expire(clock.now()), 1);
}

void TestPoolRetry::flattensIncludesAddressesAndMx()
{
    ScriptedDns dns;
    dns.asynchronous = true;
    dns.addTxt("outlook.com", "v=spf1 include:spf.protection.outlook.com a mx ptr -all");
    dns.addTxt("spf.protection.outlook.com",
               "v=spf1 ip4:40.92.0.0/15 ip6:2a01:111:f400::/48 ~ip4:1.2.3.4 -all");
    dns.addA("outlook.com", "52.96.1.1");
    dns.addMx("outlook.com", 10, "mx.outlook.com");
    dns.addA("mx.outlook.com", "2a01:111:f400::25");
    std::optional<SpfFlattener::Result> result;
    SpfFlattener::flatten(dns, "outlook.com",
                          [&result](SpfFlattener::Result &&r) { result = std::move(r); });
    QTRY_VERIFY(result.has_value());
    QVERIFY2(result->ok, result->error.constData());
    const QList<SpfBypassTable::Range> expected = {{ip("40.92.0.0"), 15},
                                                   {ip("2a01:111:f400::"), 48},
                                                   {ip("52.96.1.1"), 32},
                                                   {ip("2a01:111:f400::25"), 128}};
    QCOMPARE(result->ranges.size(), expected.size());
    for (const auto &range : expected)
        QVERIFY(result->ranges.contains(range));
    QCOMPARE(result->skipped, QList<QByteArray>{"ptr"});
}

void TestPoolRetry::flatteningFailsWithoutARecord()
{
    ScriptedDns dns;
    std::optional<SpfFlattener::Result> result;
    SpfFlattener::flatten(dns, "nowhere.example",
                          [&result](SpfFlattener::Result &&r) { result = std::move(r); });
    QVERIFY(result.has_value());
    QVERIFY(!result->ok);
    QVERIFY(!result->error.isEmpty());
}

QTEST_GUILESS_MAIN(TestPoolRetry)
#include "tst_pool_retry.moc"
