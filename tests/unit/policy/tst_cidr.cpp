// SPDX-License-Identifier: GPL-3.0-or-later
#include "policy/Cidr.h"
#include "policy/CidrSet.h"

#include <QTest>

using namespace greygate;

class TstCidr : public QObject
{
    Q_OBJECT

private slots:
    void networks_parse_to_their_canonical_form_data();
    void networks_parse_to_their_canonical_form();
    void malformed_and_hostile_networks_are_refused_with_a_reason_data();
    void malformed_and_hostile_networks_are_refused_with_a_reason();
    void a_network_holds_exactly_its_addresses_data();
    void a_network_holds_exactly_its_addresses();
    void a_cidr_set_finds_the_longest_network_holding_an_address();
};

void TstCidr::networks_parse_to_their_canonical_form_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("canonical");
    QTest::addColumn<int>("prefix");
    QTest::addColumn<bool>("v4");

    QTest::newRow("v4 /8") << QByteArray("10.0.0.0/8") << u"10.0.0.0/8"_qs << 8 << true;
    QTest::newRow("v4 /0") << QByteArray("0.0.0.0/0") << u"0.0.0.0/0"_qs << 0 << true;
    QTest::newRow("v4 host bare") << QByteArray("192.0.2.7") << u"192.0.2.7/32"_qs << 32 << true;
    QTest::newRow("v4 /32") << QByteArray("192.0.2.7/32") << u"192.0.2.7/32"_qs << 32 << true;
    QTest::newRow("v6 /32") << QByteArray("2001:DB8::/32") << u"2001:db8::/32"_qs << 32 << false;
    QTest::newRow("v6 full form") << QByteArray("2001:0db8:0000:0000:0000:0000:0000:0000/64")
                                  << u"2001:db8::/64"_qs << 64 << false;
    QTest::newRow("v6 /0") << QByteArray("::/0") << u"::/0"_qs << 0 << false;
    QTest::newRow("v6 host bare") << QByteArray("2001:db8::1") << u"2001:db8::1/128"_qs << 128
                                  << false;
    QTest::newRow("v6 /127 odd") << QByteArray("2001:db8::2/127") << u"2001:db8::2/127"_qs << 127
                                 << false;
    QTest::newRow("mapped /104 is v4 /8")
        << QByteArray("::ffff:10.0.0.0/104") << u"10.0.0.0/8"_qs << 8 << true;
    QTest::newRow("mapped host is v4 host")
        << QByteArray("::ffff:192.0.2.1") << u"192.0.2.1/32"_qs << 32 << true;
    QTest::newRow("v6 trailing dotted quad")
        << QByteArray("64:ff9b::192.0.2.0/120") << u"64:ff9b::c000:200/120"_qs << 120 << false;
}

void TstCidr::networks_parse_to_their_canonical_form()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, canonical);
    QFETCH(int, prefix);
    QFETCH(bool, v4);
    QString error;
    const std::optional<Cidr> cidr = Cidr::parse(QByteArrayView(text), &error);
    QVERIFY2(cidr, qPrintable(error));
    QCOMPARE(cidr->toString(), canonical);
    QCOMPARE(cidr->prefix, prefix);
    QCOMPARE(cidr->network.v4, v4);
    // The canonical form parses back to the same network.
    QCOMPARE(Cidr::parse(QStringView(canonical)), cidr);
}

void TstCidr::malformed_and_hostile_networks_are_refused_with_a_reason_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("reason");

    QTest::newRow("octet 300") << QByteArray("10.0.0.300/8") << u"bad address"_qs;
    QTest::newRow("host bits v4") << QByteArray("10.0.0.1/8")
                                  << u"host bits set; the network is 10.0.0.0/8"_qs;
    QTest::newRow("host bits v6") << QByteArray("2001:db8::1/32")
                                  << u"the network is 2001:db8::/32"_qs;
    QTest::newRow("prefix 33") << QByteArray("10.0.0.0/33") << u"prefix must be 0..32"_qs;
    QTest::newRow("prefix 129") << QByteArray("::/129") << u"prefix must be 0..128"_qs;
    QTest::newRow("prefix leading zero") << QByteArray("10.0.0.0/08") << u"prefix"_qs;
    QTest::newRow("prefix empty") << QByteArray("10.0.0.0/") << u"prefix"_qs;
    QTest::newRow("prefix negative") << QByteArray("10.0.0.0/-1") << u"prefix"_qs;
    QTest::newRow("prefix huge") << QByteArray("10.0.0.0/99999999999") << u"prefix"_qs;
    QTest::newRow("two slashes") << QByteArray("10.0.0.0/8/8") << u"prefix"_qs;
    QTest::newRow("octal octet") << QByteArray("010.0.0.0/8") << u"bad address"_qs;
    QTest::newRow("three octets") << QByteArray("10.0.0/24") << u"bad address"_qs;
    QTest::newRow("five octets") << QByteArray("10.0.0.0.0/24") << u"bad address"_qs;
    QTest::newRow("spaces") << QByteArray(" 10.0.0.0/8") << u"bad address"_qs;
    QTest::newRow("hostname") << QByteArray("mail.example.com/24") << u"bad address"_qs;
    QTest::newRow("empty") << QByteArray("") << u"bad address"_qs;
    QTest::newRow("slash only") << QByteArray("/8") << u"bad address"_qs;
    QTest::newRow("v6 two gaps") << QByteArray("2001::db8::/32") << u"bad address"_qs;
    QTest::newRow("v6 group too long") << QByteArray("2001:db8:12345::/48") << u"bad address"_qs;
    QTest::newRow("v6 nine groups") << QByteArray("1:2:3:4:5:6:7:8:9/64") << u"bad address"_qs;
    QTest::newRow("v6 gap for nothing") << QByteArray("1:2:3:4::5:6:7:8/64") << u"bad address"_qs;
    QTest::newRow("v6 zone") << QByteArray("fe80::1%eth0/128") << u"bad address"_qs;
    QTest::newRow("v6 trailing colon") << QByteArray("2001:db8:/32") << u"bad address"_qs;
    QTest::newRow("v6 leading colon") << QByteArray(":2001:db8::/32") << u"bad address"_qs;
    QTest::newRow("mapped short prefix") << QByteArray("::ffff:10.0.0.0/80") << u"/96 or longer"_qs;
    QTest::newRow("nul byte") << QByteArray("10.0.0.0\0/8", 11) << u"bad address"_qs;
    QTest::newRow("over-long") << QByteArray(5000, '1') << u"bad address"_qs;
    QTest::newRow("bracketed") << QByteArray("[2001:db8::]/32") << u"bad address"_qs;
}

void TstCidr::malformed_and_hostile_networks_are_refused_with_a_reason()
{
    QFETCH(QByteArray, text);
    QFETCH(QString, reason);
    QString error;
    QVERIFY(!Cidr::parse(QByteArrayView(text), &error));
    QVERIFY2(error.contains(reason), qPrintable(error));
    QVERIFY2(error.contains(u"is not a CIDR"), qPrintable(error));
    QVERIFY(error.size() < 200); // a hostile string is not echoed at length
}

void TstCidr::a_network_holds_exactly_its_addresses_data()
{
    QTest::addColumn<QByteArray>("network");
    QTest::addColumn<QByteArray>("address");
    QTest::addColumn<bool>("inside");

    QTest::newRow("v4 first") << QByteArray("192.0.2.0/24") << QByteArray("192.0.2.0") << true;
    QTest::newRow("v4 last") << QByteArray("192.0.2.0/24") << QByteArray("192.0.2.255") << true;
    QTest::newRow("v4 just below")
        << QByteArray("192.0.2.0/24") << QByteArray("192.0.1.255") << false;
    QTest::newRow("v4 just above")
        << QByteArray("192.0.2.0/24") << QByteArray("192.0.3.0") << false;
    QTest::newRow("v4 /0 holds all v4")
        << QByteArray("0.0.0.0/0") << QByteArray("203.0.113.9") << true;
    QTest::newRow("v4 /0 holds no v6")
        << QByteArray("0.0.0.0/0") << QByteArray("2001:db8::1") << false;
    QTest::newRow("v6 /0 holds no v4") << QByteArray("::/0") << QByteArray("192.0.2.1") << false;
    QTest::newRow("v4 /31") << QByteArray("192.0.2.6/31") << QByteArray("192.0.2.7") << true;
    QTest::newRow("v4 /32 other") << QByteArray("192.0.2.6/32") << QByteArray("192.0.2.7") << false;
    QTest::newRow("mapped client in v4 net")
        << QByteArray("192.0.2.0/24") << QByteArray("::ffff:192.0.2.9") << true;
    QTest::newRow("v6 /64 inside") << QByteArray("2001:db8:1:2::/64")
                                   << QByteArray("2001:db8:1:2:ffff:ffff:ffff:ffff") << true;
    QTest::newRow("v6 /64 outside")
        << QByteArray("2001:db8:1:2::/64") << QByteArray("2001:db8:1:3::") << false;
    QTest::newRow("v6 /65 crosses half")
        << QByteArray("2001:db8::8000:0:0:0/65") << QByteArray("2001:db8::7fff:0:0:1") << false;
    QTest::newRow("v6 /128") << QByteArray("2001:db8::1/128") << QByteArray("2001:db8::1") << true;
}

void TstCidr::a_network_holds_exactly_its_addresses()
{
    QFETCH(QByteArray, network);
    QFETCH(QByteArray, address);
    QFETCH(bool, inside);
    const std::optional<Cidr> cidr = Cidr::parse(QByteArrayView(network));
    const std::optional<IpAddress> ip = IpAddress::parse(address);
    QVERIFY(cidr);
    QVERIFY(ip);
    QCOMPARE(cidr->contains(*ip), inside);
    CidrSet set;
    set.insert(*cidr, 7);
    QCOMPARE(set.contains(*ip), inside);
}

void TstCidr::a_cidr_set_finds_the_longest_network_holding_an_address()
{
    CidrSet set;
    set.insert(*Cidr::parse(QByteArrayView("10.0.0.0/8")), 1);
    set.insert(*Cidr::parse(QByteArrayView("10.1.0.0/16")), 2);
    set.insert(*Cidr::parse(QByteArrayView("10.1.2.0/24")), 3);
    set.insert(*Cidr::parse(QByteArrayView("10.1.2.0/24")), 4);
    set.insert(*Cidr::parse(QByteArrayView("2001:db8::/32")), 5);

    QList<int> seen;
    set.forEachMatch(*IpAddress::parse("10.1.2.3"), [&](int, int v) { seen.append(v); });
    QCOMPARE(seen, (QList<int>{3, 4, 2, 1}));
    QCOMPARE(set.longestMatch(*IpAddress::parse("10.1.2.3")), 24);
    QCOMPARE(set.longestMatch(*IpAddress::parse("10.1.9.3")), 16);
    QCOMPARE(set.longestMatch(*IpAddress::parse("10.9.9.3")), 8);
    QCOMPARE(set.longestMatch(*IpAddress::parse("11.0.0.1")), -1);
    QCOMPARE(set.longestMatch(*IpAddress::parse("2001:db8:5::1")), 32);
    QCOMPARE(set.longestMatch(*IpAddress::parse("2001:db9::1")), -1);
}

QTEST_GUILESS_MAIN(TstCidr)
#include "tst_cidr.moc"
