// SPDX-License-Identifier: GPL-3.0-or-later
#include "greylist/TripletNormaliser.h"

#include <QRandomGenerator>
#include <QTest>
#include <arpa/inet.h>

using namespace greygate;

class TstTripletNormaliser : public QObject
{
    Q_OBJECT

private slots:
    void client_address_maps_to_its_network_data();
    void client_address_maps_to_its_network();
    void sender_is_reduced_to_what_stays_the_same_across_messages_data();
    void sender_is_reduced_to_what_stays_the_same_across_messages();
    void sender_tags_are_kept_when_stripping_is_off();
    void recipient_is_lower_cased_and_extension_folded_only_when_configured_data();
    void recipient_is_lower_cased_and_extension_folded_only_when_configured();
    void hostile_fields_are_rejected_data();
    void hostile_fields_are_rejected();
    void single_field_helpers_sanitise_hostile_input();
    void normalised_key_round_trips_through_joined();
    void dotted_quads_read_as_inet_pton_reads_them();
};

void TstTripletNormaliser::client_address_maps_to_its_network_data()
{
    QTest::addColumn<bool>("bySubnet");
    QTest::addColumn<int>("v4Prefix");
    QTest::addColumn<int>("v6Prefix");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected"); // empty: malformed (nullopt)

    QTest::newRow("v4 /24") << true << 24 << 64 << QByteArray("192.0.2.77")
                            << QByteArray("192.0.2.0/24");
    QTest::newRow("v4 /24 same network")
        << true << 24 << 64 << QByteArray("192.0.2.254") << QByteArray("192.0.2.0/24");
    QTest::newRow("v4 custom /16")
        << true << 16 << 64 << QByteArray("198.51.100.9") << QByteArray("198.51.0.0/16");
    QTest::newRow("v4 custom /20")
        << true << 20 << 64 << QByteArray("198.51.100.9") << QByteArray("198.51.96.0/20");
    QTest::newRow("v4 /32") << true << 32 << 64 << QByteArray("198.51.100.9")
                            << QByteArray("198.51.100.9/32");
    QTest::newRow("v4 prefix clamped")
        << true << 99 << 64 << QByteArray("198.51.100.9") << QByteArray("198.51.100.9/32");
    QTest::newRow("v4 exact") << false << 24 << 64 << QByteArray("192.0.2.77")
                              << QByteArray("192.0.2.77");
    QTest::newRow("v4 bracketed") << true << 24 << 64 << QByteArray("[192.0.2.77]")
                                  << QByteArray("192.0.2.0/24");
    QTest::newRow("v6 /64") << true << 24 << 64 << QByteArray("2001:DB8:1:2:aaaa:bbbb:cccc:dddd")
                            << QByteArray("2001:db8:1:2::/64");
    QTest::newRow("v6 /64 uncompressed input")
        << true << 24 << 64 << QByteArray("2001:0db8:0000:0000:0000:0000:0000:0001")
        << QByteArray("2001:db8::/64");
    QTest::newRow("v6 custom /48")
        << true << 24 << 48 << QByteArray("2001:db8:1:2::5") << QByteArray("2001:db8:1::/48");
    QTest::newRow("v6 custom /56")
        << true << 24 << 56 << QByteArray("2001:db8:1:2ff::5") << QByteArray("2001:db8:1:200::/56");
    QTest::newRow("v6 exact canonical") << false << 24 << 64 << QByteArray("2001:DB8:0:0:1:0:0:1")
                                        << QByteArray("2001:db8::1:0:0:1");
    QTest::newRow("v6 exact single zero not compressed")
        << false << 24 << 64 << QByteArray("2001:db8:0:1:1:1:1:1")
        << QByteArray("2001:db8:0:1:1:1:1:1");
    QTest::newRow("v6 loopback exact")
        << false << 24 << 64 << QByteArray("::1") << QByteArray("::1");
    QTest::newRow("v6 ipv6 tag and zone")
        << false << 24 << 64 << QByteArray("[IPv6:fe80::1%eth0]") << QByteArray("fe80::1");
    QTest::newRow("mapped is ipv4")
        << true << 24 << 64 << QByteArray("::ffff:192.0.2.77") << QByteArray("192.0.2.0/24");
    QTest::newRow("mapped exact is ipv4")
        << false << 24 << 64 << QByteArray("::FFFF:192.0.2.77") << QByteArray("192.0.2.77");
    QTest::newRow("mapped hex form")
        << true << 24 << 64 << QByteArray("::ffff:c000:024d") << QByteArray("192.0.2.0/24");
    QTest::newRow("empty") << true << 24 << 64 << QByteArray("") << QByteArray();
    QTest::newRow("hostname") << true << 24 << 64 << QByteArray("mail.example.com") << QByteArray();
    QTest::newRow("unknown") << true << 24 << 64 << QByteArray("unknown") << QByteArray();
    QTest::newRow("v4 octet too big")
        << true << 24 << 64 << QByteArray("192.0.2.256") << QByteArray();
    QTest::newRow("v4 too few parts") << true << 24 << 64 << QByteArray("192.0.2") << QByteArray();
    QTest::newRow("v4 leading zero")
        << true << 24 << 64 << QByteArray("192.0.2.010") << QByteArray();
    QTest::newRow("v4 trailing junk")
        << true << 24 << 64 << QByteArray("192.0.2.1x") << QByteArray();
    // Dotted quads are parsed without inet_pton: its edges must read as inet_pton reads them.
    QTest::newRow("v4 zeros") << false << 24 << 64 << QByteArray("0.0.0.0")
                              << QByteArray("0.0.0.0");
    QTest::newRow("v4 all ones") << false << 24 << 64 << QByteArray("255.255.255.255")
                                 << QByteArray("255.255.255.255");
    QTest::newRow("v4 spaces trimmed")
        << false << 24 << 64 << QByteArray(" 10.0.0.1 ") << QByteArray("10.0.0.1");
    QTest::newRow("v4 leading zero first")
        << true << 24 << 64 << QByteArray("01.2.3.4") << QByteArray();
    QTest::newRow("v4 double zero") << true << 24 << 64 << QByteArray("1.2.00.4") << QByteArray();
    QTest::newRow("v4 four digits") << true << 24 << 64 << QByteArray("1.2.3.1000") << QByteArray();
    QTest::newRow("v4 trailing dot") << true << 24 << 64 << QByteArray("1.2.3.4.") << QByteArray();
    QTest::newRow("v4 empty part") << true << 24 << 64 << QByteArray("1..2.3") << QByteArray();
    QTest::newRow("v4 five parts") << true << 24 << 64 << QByteArray("1.2.3.4.5") << QByteArray();
    QTest::newRow("v4 sign") << true << 24 << 64 << QByteArray("+1.2.3.4") << QByteArray();
    QTest::newRow("v4 one number") << true << 24 << 64 << QByteArray("3221225985") << QByteArray();
    QTest::newRow("v6 two double colons")
        << true << 24 << 64 << QByteArray("2001::db8::1") << QByteArray();
    QTest::newRow("v6 group too long")
        << true << 24 << 64 << QByteArray("2001:db8:12345::1") << QByteArray();
    QTest::newRow("unbalanced bracket")
        << true << 24 << 64 << QByteArray("[192.0.2.1") << QByteArray();
    QTest::newRow("embedded nul") << true << 24 << 64 << QByteArray("192.0.2.1\0junk", 14)
                                  << QByteArray();
    QTest::newRow("control char") << true << 24 << 64 << QByteArray("192.0.2.1\x1f")
                                  << QByteArray();
    QTest::newRow("over-long") << true << 24 << 64 << QByteArray(4000, '1') << QByteArray();
}

void TstTripletNormaliser::client_address_maps_to_its_network()
{
    QFETCH(bool, bySubnet);
    QFETCH(int, v4Prefix);
    QFETCH(int, v6Prefix);
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    GreylistConfig config;
    config.lookupBySubnet = bySubnet;
    config.ipv4Prefix = v4Prefix;
    config.ipv6Prefix = v6Prefix;
    const TripletNormaliser normaliser(config);

    const std::optional<QByteArray> key = normaliser.clientKey(input);
    if (expected.isEmpty()) {
        QVERIFY2(!key, key ? key->constData() : "");
        QVERIFY(!normaliser.normalise(input, "a@example.org", "b@example.net"));
        return;
    }
    QVERIFY(key);
    QCOMPARE(*key, expected);
    const std::optional<TripletKey> triplet =
        normaliser.normalise(input, "a@example.org", "b@example.net");
    QVERIFY(triplet);
    QCOMPARE(triplet->client, expected);
}

void TstTripletNormaliser::sender_is_reduced_to_what_stays_the_same_across_messages_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("plain") << QByteArray("alice@example.org") << QByteArray("alice@example.org");
    QTest::newRow("case") << QByteArray("Alice@Example.ORG") << QByteArray("alice@example.org");
    QTest::newRow("angles") << QByteArray("<Alice@Example.org>") << QByteArray("alice@example.org");
    QTest::newRow("null empty") << QByteArray("") << QByteArray("");
    QTest::newRow("null angles") << QByteArray("<>") << QByteArray("");
    QTest::newRow("null angles spaced") << QByteArray(" < > ") << QByteArray("");
    QTest::newRow("no domain kept") << QByteArray("Postmaster") << QByteArray("postmaster");
    QTest::newRow("utf8 bytes kept")
        << QByteArray("J\xc3\xb6rg@Example.de") << QByteArray("j\xc3\xb6rg@example.de");
    QTest::newRow("srs0") << QByteArray("SRS0=HHH=TT=example.org=alice@forwarder.net")
                          << QByteArray("alice@example.org");
    QTest::newRow("srs0 plus separator")
        << QByteArray("SRS0+xyz=9c=example.org=bob@fwd.example") << QByteArray("bob@example.org");
    QTest::newRow("srs0 local with equals")
        << QByteArray("srs0=h=tt=example.org=a=b@fwd.example") << QByteArray("a=b@example.org");
    QTest::newRow("srs1") << QByteArray(
                                 "SRS1=HHH=fwd1.example==HHH=TT=example.org=alice@fwd2.example")
                          << QByteArray("alice@example.org");
    QTest::newRow("srs0 incomplete kept")
        << QByteArray("srs0=hash=tt@fwd.example") << QByteArray("srs0=hash=tt@fwd.example");
    QTest::newRow("srs of batv") << QByteArray(
                                        "SRS0=h=tt=example.org=prvs=1234abcdef=carol@fwd.example")
                                 << QByteArray("carol@example.org");
    QTest::newRow("batv prvs") << QByteArray("prvs=1234ABCDEF=carol@example.org")
                               << QByteArray("carol@example.org");
    QTest::newRow("batv prvs new tag each message")
        << QByteArray("prvs=0987fedcba=carol@example.org") << QByteArray("carol@example.org");
    QTest::newRow("batv msprvs1") << QByteArray("msprvs1=17768ZizBM9Bu=bounces@example.org")
                                  << QByteArray("bounces@example.org");
    QTest::newRow("batv user slash tag")
        << QByteArray("prvs=carol/1234abcdef@example.org") << QByteArray("carol@example.org");
    QTest::newRow("batv btv1") << QByteArray("btv1==6525ce9d5f1==dave@example.org")
                               << QByteArray("dave@example.org");
    QTest::newRow("prvs without tag kept")
        << QByteArray("prvs=@example.org") << QByteArray("prvs=@example.org");
    QTest::newRow("plus tag") << QByteArray("erin+newsletter@example.org")
                              << QByteArray("erin@example.org");
    QTest::newRow("plus tag with numbers")
        << QByteArray("erin+bounce-12345@example.org") << QByteArray("erin@example.org");
    QTest::newRow("leading plus kept")
        << QByteArray("+erin@example.org") << QByteArray("+erin@example.org");
    QTest::newRow("verp number") << QByteArray("bounce-12345@lists.example.org")
                                 << QByteArray("bounce-#@lists.example.org");
    QTest::newRow("verp two numbers") << QByteArray("bounce-123-456@lists.example.org")
                                      << QByteArray("bounce-#-#@lists.example.org");
    QTest::newRow("verp number only")
        << QByteArray("20240101@example.org") << QByteArray("#@example.org");
    QTest::newRow("digits inside a word kept")
        << QByteArray("user42@example.org") << QByteArray("user42@example.org");
    QTest::newRow("digits after underscore kept (perl \\w)")
        << QByteArray("list_123@example.org") << QByteArray("list_123@example.org");
    QTest::newRow("verp dotted") << QByteArray("owner.77.list@example.org")
                                 << QByteArray("owner.#.list@example.org");
    QTest::newRow("domain numbers untouched")
        << QByteArray("a-1@123.example.org") << QByteArray("a-#@123.example.org");
}

void TstTripletNormaliser::sender_is_reduced_to_what_stays_the_same_across_messages()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    const TripletNormaliser normaliser{GreylistConfig{}};
    QCOMPARE(normaliser.normaliseSender(input), expected);
    const std::optional<TripletKey> key = normaliser.normalise("192.0.2.1", input, "x@example.net");
    QVERIFY(key);
    QCOMPARE(key->sender, expected);
}

void TstTripletNormaliser::sender_tags_are_kept_when_stripping_is_off()
{
    GreylistConfig config;
    config.stripSenderTags = false;
    const TripletNormaliser normaliser(config);
    QCOMPARE(normaliser.normaliseSender("<Bounce-123+X@Example.org>"),
             QByteArray("bounce-123+x@example.org"));
    QCOMPARE(normaliser.normaliseSender("SRS0=h=tt=example.org=a@fwd.example"),
             QByteArray("srs0=h=tt=example.org=a@fwd.example"));
    QCOMPARE(normaliser.normaliseSender("<>"), QByteArray());
}

void TstTripletNormaliser::recipient_is_lower_cased_and_extension_folded_only_when_configured_data()
{
    QTest::addColumn<QByteArray>("delimiter");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("case") << QByteArray() << QByteArray("Bob@Example.NET")
                          << QByteArray("bob@example.net");
    QTest::newRow("angles") << QByteArray() << QByteArray("<bob@example.net>")
                            << QByteArray("bob@example.net");
    QTest::newRow("extension kept by default")
        << QByteArray() << QByteArray("bob+news@example.net") << QByteArray("bob+news@example.net");
    QTest::newRow("extension folded")
        << QByteArray("+") << QByteArray("Bob+News@example.net") << QByteArray("bob@example.net");
    QTest::newRow("first delimiter of a set")
        << QByteArray("+-") << QByteArray("bob-a+b@example.net") << QByteArray("bob@example.net");
    QTest::newRow("empty extension kept")
        << QByteArray("+") << QByteArray("bob+@example.net") << QByteArray("bob+@example.net");
    QTest::newRow("leading delimiter kept")
        << QByteArray("+") << QByteArray("+bob@example.net") << QByteArray("+bob@example.net");
    QTest::newRow("delimiter in domain ignored")
        << QByteArray("-") << QByteArray("bob@mx-1.example.net")
        << QByteArray("bob@mx-1.example.net");
    QTest::newRow("no domain") << QByteArray("+") << QByteArray("Postmaster+x")
                               << QByteArray("postmaster");
    QTest::newRow("numbers kept in recipients")
        << QByteArray() << QByteArray("ticket-123@example.net")
        << QByteArray("ticket-123@example.net");
}

void TstTripletNormaliser::recipient_is_lower_cased_and_extension_folded_only_when_configured()
{
    QFETCH(QByteArray, delimiter);
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    GreylistConfig config;
    config.recipientDelimiter = delimiter;
    const TripletNormaliser normaliser(config);
    QCOMPARE(normaliser.normaliseRecipient(input), expected);
    const std::optional<TripletKey> key = normaliser.normalise("192.0.2.1", "a@example.org", input);
    QVERIFY(key);
    QCOMPARE(key->recipient, expected);
}

void TstTripletNormaliser::hostile_fields_are_rejected_data()
{
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QByteArray>("recipient");

    QTest::newRow("separator in sender") << QByteArray("a\x1f"
                                                       "b@example.org")
                                         << QByteArray("r@example.net");
    QTest::newRow("separator in recipient")
        << QByteArray("a@example.org") << QByteArray("r\x1f@example.net");
    QTest::newRow("nul in sender")
        << QByteArray("a\0b@example.org", 15) << QByteArray("r@example.net");
    QTest::newRow("newline in recipient")
        << QByteArray("a@example.org") << QByteArray("r@example.net\r\nX: y");
    QTest::newRow("tab") << QByteArray("a\t@example.org") << QByteArray("r@example.net");
    QTest::newRow("del") << QByteArray("a\x7f@example.org") << QByteArray("r@example.net");
    QTest::newRow("over-long sender") << QByteArray(513, 'a') << QByteArray("r@example.net");
    QTest::newRow("over-long recipient")
        << QByteArray("a@example.org") << (QByteArray(600, 'r') + "@example.net");
}

void TstTripletNormaliser::hostile_fields_are_rejected()
{
    QFETCH(QByteArray, sender);
    QFETCH(QByteArray, recipient);
    const TripletNormaliser normaliser{GreylistConfig{}};
    QVERIFY(!normaliser.normalise("192.0.2.1", sender, recipient));
    QVERIFY(normaliser.normalise("192.0.2.1", "a@example.org", "r@example.net"));
}

void TstTripletNormaliser::single_field_helpers_sanitise_hostile_input()
{
    const TripletNormaliser normaliser{GreylistConfig{}};
    const QByteArray sender = normaliser.normaliseSender(QByteArray("A\x1f"
                                                                    "B\nc@Example.org"));
    QCOMPARE(sender, QByteArray("a?b?c@example.org"));
    const QByteArray longOne = normaliser.normaliseRecipient(QByteArray(5000, 'R'));
    QCOMPARE(longOne.size(), TripletNormaliser::kMaxFieldBytes);
    QVERIFY(!longOne.contains('\x1f'));
    QVERIFY(TripletNormaliser::acceptableField(QByteArray(512, 'a')));
    QVERIFY(!TripletNormaliser::acceptableField(QByteArray(513, 'a')));
}

void TstTripletNormaliser::normalised_key_round_trips_through_joined()
{
    const TripletNormaliser normaliser{GreylistConfig{}};
    const std::optional<TripletKey> key = normaliser.normalise(
        "2001:db8::7", "<SRS0=h=tt=example.org=a@f.example>", "<B@example.net>");
    QVERIFY(key);
    QCOMPARE(key->client, QByteArray("2001:db8::/64"));
    QCOMPARE(key->sender, QByteArray("a@example.org"));
    QCOMPARE(key->recipient, QByteArray("b@example.net"));
    QCOMPARE(TripletKey::split(key->joined()), key);
}

void TstTripletNormaliser::dotted_quads_read_as_inet_pton_reads_them()
{
    // The IPv4 fast path against the libc parser it stands in for: random strings of digits
    // and dots, exact addresses (no subnet), so the key is the address as inet_pton read it.
    GreylistConfig config;
    config.lookupBySubnet = false;
    const TripletNormaliser normaliser(config);
    QRandomGenerator rng(20261126);
    const char alphabet[] = "0123456789.....";
    int valid = 0;
    for (int round = 0; round < 200000; ++round) {
        QByteArray text(1 + int(rng.bounded(15)), '0');
        for (char &c : text)
            c = alphabet[rng.bounded(int(sizeof alphabet - 1))];
        quint8 b[4];
        const bool ok = inet_pton(AF_INET, text.constData(), b) == 1;
        const std::optional<QByteArray> key = normaliser.clientKey(text);
        QCOMPARE(key.has_value(), ok);
        if (ok) {
            ++valid;
            QCOMPARE(*key, QByteArray::number(b[0]) + '.' + QByteArray::number(b[1]) + '.' +
                               QByteArray::number(b[2]) + '.' + QByteArray::number(b[3]));
        }
    }
    QVERIFY(valid > 100); // the strings did reach the accepting path
}

QTEST_GUILESS_MAIN(TstTripletNormaliser)
#include "tst_triplet_normaliser.moc"
