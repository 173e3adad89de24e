// SPDX-License-Identifier: GPL-3.0-or-later
#include "DnsWire.h"
#include "dns/DnsMessage.h"

#include <QTest>

using namespace greygate;

class TestDnsMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void buildsAQueryWithEdns();
    void refusesNamesThatCannotBeAsked_data();
    void refusesNamesThatCannotBeAsked();
    void parsesTxtAndJoinsItsStrings();
    void parsesMxPtrAndAddresses();
    void followsCnamesInTheAnswer();
    void readsTheNegativeTtlFromTheSoa();
    void refusesHostileMessages_data();
    void refusesHostileMessages();
    void stopsAtTheTruncationFlag();
};

void TestDnsMessage::buildsAQueryWithEdns()
{
    const std::optional<QByteArray> q = DnsMessage::query(0x1234, "Example.COM.", DnsType::TXT);
    QVERIFY(q);
    QCOMPARE(q->left(4), QByteArray("\x12\x34\x01\x00", 4));
    QCOMPARE(dnswire::questionOf(*q),
             dnswire::name("Example.COM") + QByteArray("\x00\x10\x00\x01", 4));
    QVERIFY(q->endsWith(QByteArray("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11)));
}

void TestDnsMessage::refusesNamesThatCannotBeAsked_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("empty label") << QByteArray("a..example");
    QTest::newRow("leading dot") << QByteArray(".example");
    QTest::newRow("long label") << QByteArray(64, 'a') + ".example";
    QTest::newRow("long name") << QByteArray(QByteArray(63, 'a') + '.').repeated(4) + "com";
    QTest::newRow("space") << QByteArray("a b.example");
    QTest::newRow("control") << QByteArray("a\nb.example");
}

void TestDnsMessage::refusesNamesThatCannotBeAsked()
{
    QFETCH(QByteArray, name);
    QVERIFY(!DnsMessage::query(1, name, DnsType::A));
}

void TestDnsMessage::parsesTxtAndJoinsItsStrings()
{
    const QByteArray q = *DnsMessage::query(7, "example.com", DnsType::TXT);
    const QByteArray bytes =
        dnswire::answer(q, 0, {{16, 300, dnswire::txt({"v=spf1 ip4:192.0.2.0/24", " -all"})}});
    const std::optional<DnsMessage> m = DnsMessage::parse(bytes);
    QVERIFY(m);
    QCOMPARE(m->id, quint16(7));
    QVERIFY(m->response);
    QCOMPARE(m->questionName, QByteArray("example.com"));
    const QList<DnsRecord> txt = m->recordsFor("example.com", DnsType::TXT);
    QCOMPARE(txt.size(), 1);
    QCOMPARE(txt[0].text, QByteArray("v=spf1 ip4:192.0.2.0/24 -all"));
    QCOMPARE(txt[0].ttl, quint32(300));
}

void TestDnsMessage::parsesMxPtrAndAddresses()
{
    const QByteArray q = *DnsMessage::query(8, "example.com", DnsType::MX);
    QByteArray mx;
    dnswire::put16(mx, 10);
    mx.append(dnswire::name("Mail.Example.com"));
    QByteArray v6(16, '\0');
    v6[0] = char(0x20);
    v6[1] = char(0x01);
    v6[2] = char(0x0d);
    v6[3] = char(0xb8);
    v6[15] = 1;
    const QByteArray bytes =
        dnswire::answer(q, 0,
                        {{15, 60, mx},
                         {1, 60, dnswire::a("192.0.2.1"), "mail.example.com"},
                         {28, 60, v6, "mail.example.com"},
                         {12, 60, dnswire::name("host.example.org"), "x.arpa"}});
    const std::optional<DnsMessage> m = DnsMessage::parse(bytes);
    QVERIFY(m);
    const QList<DnsRecord> mxs = m->recordsFor("example.com", DnsType::MX);
    QCOMPARE(mxs.size(), 1);
    QCOMPARE(mxs[0].preference, quint16(10));
    QCOMPARE(mxs[0].target, QByteArray("mail.example.com"));
    QCOMPARE(m->recordsFor("mail.example.com", DnsType::A)[0].address,
             QHostAddress(QStringLiteral("192.0.2.1")));
    QCOMPARE(m->recordsFor("mail.example.com", DnsType::AAAA)[0].address,
             QHostAddress(QStringLiteral("2001:db8::1")));
    QCOMPARE(m->recordsFor("x.arpa", DnsType::PTR)[0].target, QByteArray("host.example.org"));
}

void TestDnsMessage::followsCnamesInTheAnswer()
{
    const QByteArray q = *DnsMessage::query(9, "www.example.com", DnsType::A);
    const QByteArray bytes =
        dnswire::answer(q, 0,
                        {{5, 60, dnswire::name("example.com")},
                         {1, 60, dnswire::a("192.0.2.10"), "example.com"},
                         {1, 60, dnswire::a("192.0.2.99"), "unrelated.example"}});
    const std::optional<DnsMessage> m = DnsMessage::parse(bytes);
    QVERIFY(m);
    const QList<DnsRecord> a = m->recordsFor("www.example.com", DnsType::A);
    QCOMPARE(a.size(), 1);
    QCOMPARE(a[0].address, QHostAddress(QStringLiteral("192.0.2.10")));
}

void TestDnsMessage::readsTheNegativeTtlFromTheSoa()
{
    const QByteArray q = *DnsMessage::query(10, "none.example.com", DnsType::TXT);
    const QByteArray bytes =
        dnswire::answer(q, 3, {}, {{6, 900, dnswire::soa(120), "example.com"}});
    const std::optional<DnsMessage> m = DnsMessage::parse(bytes);
    QVERIFY(m);
    QCOMPARE(m->rcode, quint8(3));
    QCOMPARE(m->negativeTtl, std::optional<quint32>(120));
}

void TestDnsMessage::refusesHostileMessages_data()
{
    QTest::addColumn<QByteArray>("bytes");
    const QByteArray q = *DnsMessage::query(11, "example.com", DnsType::TXT);
    const QByteArray good = dnswire::answer(q, 0, {{16, 60, dnswire::txt({"v=spf1 -all"})}});
    QTest::newRow("short header") << good.left(7);
    QTest::newRow("cut in the question") << good.left(15);
    QTest::newRow("cut in the record") << good.left(good.size() - 3);
    // A pointer to itself, and one pointing forwards (into a loop).
    QByteArray self = good;
    self[12] = char(0xc0);
    self[13] = char(12);
    QTest::newRow("pointer to itself") << self;
    QByteArray forward = good;
    forward[12] = char(0xc0);
    forward[13] = char(40);
    QTest::newRow("forward pointer") << forward;
    QByteArray rdlength = good;
    rdlength[rdlength.size() - 13] = char(0x7f); // the TXT record's rdlength (low byte)
    QTest::newRow("rdata past the end") << rdlength;
    QByteArray txtLength = good;
    txtLength[txtLength.size() - 12] = char(100); // the character-string's length
    QTest::newRow("txt string past rdata") << txtLength;
    QByteArray labelType = good;
    labelType[12] = char(0x40);
    QTest::newRow("extended label type") << labelType;
    QByteArray many = good;
    many[6] = char(0x7f); // 32,512 answers claimed
    QTest::newRow("too many records") << many;
    QByteArray twoQuestions = good;
    twoQuestions[5] = 2;
    QTest::newRow("two questions") << twoQuestions;
    QByteArray badA = dnswire::answer(*DnsMessage::query(12, "example.com", DnsType::A), 0,
                                      {{1, 60, QByteArray("\x01\x02\x03", 3)}});
    QTest::newRow("A of three bytes") << badA;
}

void TestDnsMessage::refusesHostileMessages()
{
    QFETCH(QByteArray, bytes);
    QByteArray error;
    QVERIFY(!DnsMessage::parse(bytes, &error));
    QVERIFY(!error.isEmpty());
}

void TestDnsMessage::stopsAtTheTruncationFlag()
{
    const QByteArray q = *DnsMessage::query(13, "example.com", DnsType::TXT);
    QByteArray bytes = dnswire::answer(q, 0, {}, {}, true);
    const std::optional<DnsMessage> m = DnsMessage::parse(bytes);
    QVERIFY(m);
    QVERIFY(m->truncated);
}

QTEST_GUILESS_MAIN(TestDnsMessage)
#include "tst_dns_message.moc"
