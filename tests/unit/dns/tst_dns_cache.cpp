// SPDX-License-Identifier: GPL-3.0-or-later
#include "dns/DnsCache.h"

#include <QTest>

using namespace greygate;

namespace {

DnsAnswer txtAnswer(quint32 ttl)
{
    DnsAnswer a;
    a.status = DnsAnswer::Status::Ok;
    DnsRecord r;
    r.type = DnsType::TXT;
    r.ttl = ttl;
    r.text = "v=spf1 -all";
    a.records.append(r);
    return a;
}

DnsAnswer status(DnsAnswer::Status s)
{
    DnsAnswer a;
    a.status = s;
    return a;
}

} // namespace

class TestDnsCache : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keepsAnAnswerForItsTtl();
    void namesAreCaseInsensitive();
    void capsTheTtl();
    void keepsNegativeAnswersForTheSoaTtlOnly();
    void keepsFailuresBriefly();
    void evictsTheLeastRecentlyUsed();
};

void TestDnsCache::keepsAnAnswerForItsTtl()
{
    DnsCache cache;
    cache.insert("example.com", DnsType::TXT, txtAnswer(300), std::nullopt, 1000);
    std::optional<DnsAnswer> hit = cache.find("example.com", DnsType::TXT, 1100);
    QVERIFY(hit);
    QVERIFY(hit->fromCache);
    QCOMPARE(hit->records[0].ttl, quint32(200));
    QVERIFY(!cache.find("example.com", DnsType::A, 1100));
    QVERIFY(cache.find("example.com", DnsType::TXT, 1299));
    QVERIFY(!cache.find("example.com", DnsType::TXT, 1300));
    QCOMPARE(cache.size(), 0);
    cache.insert("zero.example", DnsType::TXT, txtAnswer(0), std::nullopt, 1000);
    QVERIFY(!cache.find("zero.example", DnsType::TXT, 1000));
}

void TestDnsCache::namesAreCaseInsensitive()
{
    DnsCache cache;
    cache.insert("Example.COM.", DnsType::TXT, txtAnswer(300), std::nullopt, 0);
    QVERIFY(cache.find("example.com", DnsType::TXT, 1));
}

void TestDnsCache::capsTheTtl()
{
    DnsCache::Limits limits;
    limits.maxTtl = 60;
    DnsCache cache(limits);
    cache.insert("example.com", DnsType::TXT, txtAnswer(86400), std::nullopt, 0);
    QVERIFY(cache.find("example.com", DnsType::TXT, 59));
    QVERIFY(!cache.find("example.com", DnsType::TXT, 60));
}

void TestDnsCache::keepsNegativeAnswersForTheSoaTtlOnly()
{
    DnsCache::Limits limits;
    limits.maxNegativeTtl = 600;
    DnsCache cache(limits);
    cache.insert("none.example", DnsType::TXT, status(DnsAnswer::Status::NxDomain), 120, 0);
    std::optional<DnsAnswer> hit = cache.find("none.example", DnsType::TXT, 119);
    QVERIFY(hit);
    QCOMPARE(hit->status, DnsAnswer::Status::NxDomain);
    QVERIFY(!cache.find("none.example", DnsType::TXT, 120));
    // No data (the name exists) is negative too; a huge SOA TTL is capped.
    cache.insert("nodata.example", DnsType::TXT, status(DnsAnswer::Status::Ok), 99999, 0);
    QVERIFY(cache.find("nodata.example", DnsType::TXT, 599));
    QVERIFY(!cache.find("nodata.example", DnsType::TXT, 600));
    // Without an SOA, RFC 2308 §5: not cached.
    cache.insert("nosoa.example", DnsType::TXT, status(DnsAnswer::Status::NxDomain), std::nullopt,
                 0);
    QVERIFY(!cache.find("nosoa.example", DnsType::TXT, 0));
}

void TestDnsCache::keepsFailuresBriefly()
{
    DnsCache cache;
    cache.insert("down.example", DnsType::TXT, status(DnsAnswer::Status::Timeout), std::nullopt, 0);
    QCOMPARE(cache.find("down.example", DnsType::TXT, 4)->status, DnsAnswer::Status::Timeout);
    QVERIFY(!cache.find("down.example", DnsType::TXT, 5));
    cache.insert("busy.example", DnsType::TXT, status(DnsAnswer::Status::Busy), std::nullopt, 0);
    QVERIFY(!cache.find("busy.example", DnsType::TXT, 0));
}

void TestDnsCache::evictsTheLeastRecentlyUsed()
{
    DnsCache::Limits limits;
    limits.maxEntries = 3;
    DnsCache cache(limits);
    for (const char *name : {"a.example", "b.example", "c.example"})
        cache.insert(name, DnsType::TXT, txtAnswer(300), std::nullopt, 0);
    QVERIFY(cache.find("a.example", DnsType::TXT, 1)); // a is now the most recent
    cache.insert("d.example", DnsType::TXT, txtAnswer(300), std::nullopt, 1);
    QCOMPARE(cache.size(), 3);
    QVERIFY(!cache.find("b.example", DnsType::TXT, 1));
    QVERIFY(cache.find("a.example", DnsType::TXT, 1));
    QVERIFY(cache.find("c.example", DnsType::TXT, 1));
    QVERIFY(cache.find("d.example", DnsType::TXT, 1));
}

QTEST_GUILESS_MAIN(TestDnsCache)
#include "tst_dns_cache.moc"
