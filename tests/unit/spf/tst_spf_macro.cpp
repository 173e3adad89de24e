// SPDX-License-Identifier: GPL-3.0-or-later
#include "spf/SpfMacro.h"

#include <QTest>

using namespace greygate;

class TestSpfMacro : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void expandsTheRfc7208Examples_data();
    void expandsTheRfc7208Examples();
    void refusesMalformedMacros_data();
    void refusesMalformedMacros();
    void cutsLongDomainsFromTheLeft();
    void escapesUpperCaseMacros();
    void reverseNamesForPtr();
};

void TestSpfMacro::expandsTheRfc7208Examples_data()
{
    QTest::addColumn<QByteArray>("spec");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("expected");
    const QByteArray v4 = "192.0.2.3";
    // RFC 7208 §7.4.
    QTest::newRow("s") << QByteArray("%{s}") << v4 << QByteArray("strong-bad@email.example.com");
    QTest::newRow("o") << QByteArray("%{o}") << v4 << QByteArray("email.example.com");
    QTest::newRow("d") << QByteArray("%{d}") << v4 << QByteArray("email.example.com");
    QTest::newRow("d4") << QByteArray("%{d4}") << v4 << QByteArray("email.example.com");
    QTest::newRow("d3") << QByteArray("%{d3}") << v4 << QByteArray("email.example.com");
    QTest::newRow("d2") << QByteArray("%{d2}") << v4 << QByteArray("example.com");
    QTest::newRow("d1") << QByteArray("%{d1}") << v4 << QByteArray("com");
    QTest::newRow("dr") << QByteArray("%{dr}") << v4 << QByteArray("com.example.email");
    QTest::newRow("d2r") << QByteArray("%{d2r}") << v4 << QByteArray("example.email");
    QTest::newRow("l") << QByteArray("%{l}") << v4 << QByteArray("strong-bad");
    QTest::newRow("l-") << QByteArray("%{l-}") << v4 << QByteArray("strong.bad");
    QTest::newRow("lr") << QByteArray("%{lr}") << v4 << QByteArray("strong-bad");
    QTest::newRow("lr-") << QByteArray("%{lr-}") << v4 << QByteArray("bad.strong");
    QTest::newRow("l1r-") << QByteArray("%{l1r-}") << v4 << QByteArray("strong");
    QTest::newRow("ir v d2") << QByteArray("%{ir}.%{v}._spf.%{d2}") << v4
                             << QByteArray("3.2.0.192.in-addr._spf.example.com");
    QTest::newRow("lr- lp d2") << QByteArray("%{lr-}.lp._spf.%{d2}") << v4
                               << QByteArray("bad.strong.lp._spf.example.com");
    QTest::newRow("lr- ir v d2") << QByteArray("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}") << v4
                                 << QByteArray("bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    QTest::newRow("ir v l1r- d2") << QByteArray("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}") << v4
                                  << QByteArray("3.2.0.192.in-addr.strong.lp._spf.example.com");
    QTest::newRow("d2 trusted") << QByteArray("%{d2}.trusted-domains.example.net") << v4
                                << QByteArray("example.com.trusted-domains.example.net");
    QTest::newRow("ipv6") << QByteArray("%{ir}.%{v}._spf.%{d2}") << QByteArray("2001:db8::cb01")
                          << QByteArray("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
                                        "1.0.0.2.ip6._spf.example.com");
    QTest::newRow("escapes") << QByteArray("%%%_%-") << v4 << QByteArray("% %20");
}

void TestSpfMacro::expandsTheRfc7208Examples()
{
    QFETCH(QByteArray, spec);
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, expected);
    SpfMacro::Context ctx;
    ctx.sender = "strong-bad@email.example.com";
    ctx.domain = "email.example.com";
    ctx.client = QHostAddress(QString::fromLatin1(client));
    QByteArray out;
    QVERIFY(SpfMacro::expand(spec, ctx, &out, false));
    QCOMPARE(out, expected);
}

void TestSpfMacro::refusesMalformedMacros_data()
{
    QTest::addColumn<QByteArray>("spec");
    QTest::newRow("lone percent") << QByteArray("a%");
    QTest::newRow("unknown escape") << QByteArray("%x");
    QTest::newRow("unclosed") << QByteArray("%{d");
    QTest::newRow("empty") << QByteArray("%{}");
    QTest::newRow("unknown letter") << QByteArray("%{q}");
    QTest::newRow("zero digits") << QByteArray("%{d0}");
    QTest::newRow("bad delimiter") << QByteArray("%{d2r!}");
    QTest::newRow("control byte") << QByteArray("a\x01");
}

void TestSpfMacro::refusesMalformedMacros()
{
    QFETCH(QByteArray, spec);
    QVERIFY(!SpfMacro::valid(spec));
}

void TestSpfMacro::cutsLongDomainsFromTheLeft()
{
    SpfMacro::Context ctx;
    ctx.sender = QByteArray(60, 'a') + '.' + QByteArray(60, 'b') + '.' + QByteArray(60, 'c') + '.' +
                 QByteArray(60, 'd') + "@example.com";
    ctx.domain = "example.com";
    QByteArray out;
    QVERIFY(SpfMacro::expand("%{l}.%{d}", ctx, &out));
    QVERIFY(out.size() <= 253);
    QVERIFY(out.startsWith(QByteArray(60, 'b')));
    QVERIFY(out.endsWith(".example.com"));
}

void TestSpfMacro::escapesUpperCaseMacros()
{
    SpfMacro::Context ctx;
    ctx.sender = "a b/c@example.com";
    QByteArray out;
    QVERIFY(SpfMacro::expand("%{L}", ctx, &out, false));
    QCOMPARE(out, QByteArray("a%20b%2Fc"));
}

void TestSpfMacro::reverseNamesForPtr()
{
    QCOMPARE(SpfMacro::reverseName(QHostAddress(QStringLiteral("192.0.2.65"))),
             QByteArray("65.2.0.192.in-addr.arpa"));
    QCOMPARE(
        SpfMacro::reverseName(QHostAddress(QStringLiteral("2001:db8::cb01"))),
        QByteArray("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"));
}

QTEST_GUILESS_MAIN(TestSpfMacro)
#include "tst_spf_macro.moc"
