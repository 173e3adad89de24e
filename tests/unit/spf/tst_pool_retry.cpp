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
    void theLeastRecentlySeenGroupIsTheOneDropped();
    void aMillionGroupsKeepTheNewestWithinTheBound();
    void longAndIpv6AddressesAreKeptInOrder();
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

namespace {

// Whether the detector still remembers group i's first attempt (from 192.0.2.1 in n1): two
// more addresses in a second network raise it only then.
bool remembers(PoolRetryDetector &detector, int i, qint64 now)
{
    const QByteArray sender = "s" + QByteArray::number(i) + "@example.com";
    detector.noteDeferred(sender, "b@r.example", "198.51.100.1", "n2", now);
    return detector.noteDeferred(sender, "b@r.example", "198.51.100.2", "n2", now).has_value();
}

} // namespace

void TestPoolRetry::theLeastRecentlySeenGroupIsTheOneDropped()
{
    PoolRetryDetector::Options o;
    o.maxGroups = 10;
    PoolRetryDetector detector(o);
    for (int i = 0; i < 10; ++i)
        detector.noteDeferred("s" + QByteArray::number(i) + "@example.com", "b@r.example",
                              "192.0.2.1", "n1", i);
    // Group 0 is seen again: group 1 is now the least recently seen, and the next new group
    // takes its place.
    detector.noteDeferred("s0@example.com", "b@r.example", "192.0.2.1", "n1", 20);
    detector.noteDeferred("s10@example.com", "b@r.example", "192.0.2.1", "n1", 21);
    QCOMPARE(detector.size(), 10);
    QVERIFY(remembers(detector, 0, 22));
    QVERIFY(!remembers(detector, 1, 22));
}

void TestPoolRetry::aMillionGroupsKeepTheNewestWithinTheBound()
{
    PoolRetryDetector::Options o;
    o.maxGroups = 1000;
    PoolRetryDetector detector(o);
    constexpr int kGroups = 1'000'000;
    for (int i = 0; i < kGroups; ++i) {
        detector.noteDeferred("s" + QByteArray::number(i) + "@example.com", "b@r.example",
                              "192.0.2.1", "n1", i / 1000);
        QVERIFY(detector.size() <= 1000);
    }
    QCOMPARE(detector.size(), 1000);
    // remembers() adds its attempts to the newest groups (none is dropped by them): the
    // 1,000 newest are all there, with their first address; an older one is not.
    const qint64 now = kGroups / 1000;
    for (int i = kGroups - 1; i >= kGroups - 1000; i -= 37)
        QVERIFY2(remembers(detector, i, now), QByteArray::number(i).constData());
    QVERIFY(!remembers(detector, kGroups - 1001, now));
    QVERIFY(!remembers(detector, 0, now));
}

void TestPoolRetry::longAndIpv6AddressesAreKeptInOrder()
{
    PoolRetryDetector detector;
    const QByteArray v6 = "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255"; // 44 bytes
    const QByteArray odd = QByteArray(60, 'x');                           // not an address
    QVERIFY(!detector.noteDeferred("a@example.com", "b@r.example", odd, "n1", 0));
    QVERIFY(!detector.noteDeferred("a@example.com", "b@r.example", v6, "n2", 1));
    QVERIFY(!detector.noteDeferred("a@example.com", "b@r.example", v6, "n2", 2)); // seen
    const std::optional<PoolRetry> r =
        detector.noteDeferred("a@example.com", "b@r.example", "192.0.2.9", "n3", 3);
    QVERIFY(r);
    QCOMPARE(r->addresses, (QList<QByteArray>{odd, v6, "192.0.2.9"}));
    QCOMPARE(r->networks, 3);
    QCOMPARE(r->firstSeen, 0);
    QCOMPARE(r->lastSeen, 3);
    QCOMPARE(r->senderDomain, QByteArray("example.com"));

    PoolRetryDetector inline6;
    QVERIFY(!inline6.noteDeferred("a@example.com", "b@r.example", v6, "n1", 0));
    QVERIFY(!inline6.noteDeferred("a@example.com", "b@r.example", odd, "n2", 1));
    const std::optional<PoolRetry> r6 =
        inline6.noteDeferred("a@example.com", "b@r.example", "192.0.2.9", "n2", 2);
    QVERIFY(r6);
    QCOMPARE(r6->addresses, (QList<QByteArray>{v6, odd, "192.0.2.9"}));
    QCOMPARE(r6->networks, 2);
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
