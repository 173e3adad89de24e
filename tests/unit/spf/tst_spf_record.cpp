// SPDX-License-Identifier: GPL-3.0-or-later
#include "spf/SpfRecord.h"

#include <QTest>

using namespace greygate;

class TestSpfRecord : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recognisesSpfRecords_data();
    void recognisesSpfRecords();
    void parsesWellFormedRecords_data();
    void parsesWellFormedRecords();
    void refusesMalformedRecords_data();
    void refusesMalformedRecords();
    void readsQualifiersAndPrefixes();
};

void TestSpfRecord::recognisesSpfRecords_data()
{
    QTest::addColumn<QByteArray>("txt");
    QTest::addColumn<bool>("spf");
    QTest::newRow("bare") << QByteArray("v=spf1") << true;
    QTest::newRow("terms") << QByteArray("v=spf1 -all") << true;
    QTest::newRow("upper") << QByteArray("V=SPF1 -all") << true;
    QTest::newRow("spf10") << QByteArray("v=spf10 -all") << false;
    QTest::newRow("other") << QByteArray("google-site-verification=x") << false;
    QTest::newRow("spf2") << QByteArray("spf2.0/pra -all") << false;
}

void TestSpfRecord::recognisesSpfRecords()
{
    QFETCH(QByteArray, txt);
    QFETCH(bool, spf);
    QCOMPARE(SpfRecord::isSpf(txt), spf);
}

void TestSpfRecord::parsesWellFormedRecords_data()
{
    QTest::addColumn<QByteArray>("txt");
    QTest::addColumn<int>("terms");
    QTest::newRow("all") << QByteArray("v=spf1 +all") << 1;
    QTest::newRow("a mx ptr") << QByteArray("v=spf1 a mx ptr -all") << 4;
    QTest::newRow("dual cidr") << QByteArray("v=spf1 a:example.com/24//64 mx//48 -all") << 3;
    QTest::newRow("ip") << QByteArray("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all") << 3;
    QTest::newRow("include exists") << QByteArray("v=spf1 include:_spf.example.net "
                                                  "exists:%{ir}.%{l1r+-}._spf.%{d} ?all")
                                    << 3;
    QTest::newRow("modifiers") << QByteArray("v=spf1 redirect=_spf.example.com exp=explain.%{d} "
                                             "foo=bar")
                               << 0;
    QTest::newRow("extra spaces") << QByteArray("v=spf1   ip4:192.0.2.1    -all  ") << 2;
}

void TestSpfRecord::parsesWellFormedRecords()
{
    QFETCH(QByteArray, txt);
    QFETCH(int, terms);
    QByteArray error;
    const std::optional<SpfRecord> r = SpfRecord::parse(txt, &error);
    QVERIFY2(r, error.constData());
    QCOMPARE(r->terms.size(), terms);
}

void TestSpfRecord::refusesMalformedRecords_data()
{
    QTest::addColumn<QByteArray>("txt");
    QTest::newRow("unknown mechanism") << QByteArray("v=spf1 foo -all");
    QTest::newRow("all with arg") << QByteArray("v=spf1 all:x");
    QTest::newRow("include without domain") << QByteArray("v=spf1 include -all");
    QTest::newRow("include bad domain") << QByteArray("v=spf1 include:example -all");
    QTest::newRow("ip4 short") << QByteArray("v=spf1 ip4:192.0.2 -all");
    QTest::newRow("ip4 prefix") << QByteArray("v=spf1 ip4:192.0.2.0/33 -all");
    QTest::newRow("ip4 leading zero") << QByteArray("v=spf1 ip4:192.0.2.0/024 -all");
    QTest::newRow("ip6 as ip4") << QByteArray("v=spf1 ip4:2001:db8::1 -all");
    QTest::newRow("ip6 prefix") << QByteArray("v=spf1 ip6:2001:db8::/129 -all");
    QTest::newRow("two redirects") << QByteArray("v=spf1 redirect=a.example redirect=b.example");
    QTest::newRow("bad macro") << QByteArray("v=spf1 exists:%{q}.example.com -all");
    QTest::newRow("bad modifier macro") << QByteArray("v=spf1 exp=%{z} -all");
    QTest::newRow("numeric top label") << QByteArray("v=spf1 a:example.123 -all");
}

void TestSpfRecord::refusesMalformedRecords()
{
    QFETCH(QByteArray, txt);
    QByteArray error;
    QVERIFY(!SpfRecord::parse(txt, &error));
    QVERIFY(!error.isEmpty());
}

void TestSpfRecord::readsQualifiersAndPrefixes()
{
    const std::optional<SpfRecord> r =
        SpfRecord::parse("v=spf1 -a/24//64 ~mx:example.org ?ip6:2001:db8::/32 all", nullptr);
    QVERIFY(r);
    QCOMPARE(r->terms.size(), 4);
    QCOMPARE(r->terms[0].qualifier, SpfResult::Fail);
    QCOMPARE(r->terms[0].prefix4, 24);
    QCOMPARE(r->terms[0].prefix6, 64);
    QCOMPARE(r->terms[1].qualifier, SpfResult::SoftFail);
    QCOMPARE(r->terms[1].domainSpec, QByteArray("example.org"));
    QCOMPARE(r->terms[2].qualifier, SpfResult::Neutral);
    QCOMPARE(r->terms[2].prefix6, 32);
    QCOMPARE(r->terms[3].qualifier, SpfResult::Pass);
}

QTEST_GUILESS_MAIN(TestSpfRecord)
#include "tst_spf_record.moc"
