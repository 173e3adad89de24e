// SPDX-License-Identifier: GPL-3.0-or-later
#include "policy/MailAddress.h"

#include <QRandomGenerator>
#include <QTest>

using namespace greygate;

namespace {

// The byte-at-a-time definition Lowered's sixteen-byte steps must agree with.
struct Reference
{
    bool valid = false;
    QByteArray address;
    QByteArray domain;
};

Reference reference(QByteArrayView raw)
{
    Reference r;
    while (!raw.isEmpty() && raw.front() == ' ')
        raw = raw.sliced(1);
    while (!raw.isEmpty() && raw.back() == ' ')
        raw.chop(1);
    if (raw.size() >= 2 && raw.front() == '<' && raw.back() == '>')
        raw = raw.sliced(1, raw.size() - 2);
    if (raw.size() > MailAddress::kMaxAddress)
        return r;
    qsizetype at = -1;
    for (qsizetype i = 0; i < raw.size(); ++i) {
        const auto c = uchar(raw[i]);
        if (c <= 0x20 || c == 0x7f)
            return {};
        if (c == '@')
            at = i;
        r.address.append(c >= 'A' && c <= 'Z' ? char(c + 32) : char(c));
    }
    r.domain = at < 0 ? QByteArray() : r.address.mid(at + 1);
    r.valid = true;
    return r;
}

void compareWithReference(const QByteArray &raw)
{
    const MailAddress::Lowered lowered(raw);
    const Reference expected = reference(raw);
    QCOMPARE(lowered.valid(), expected.valid);
    if (!expected.valid)
        return;
    QCOMPARE(lowered.address().toByteArray(), expected.address);
    QCOMPARE(lowered.domain().toByteArray(), expected.domain);
}

} // namespace

class TestMailAddressLowered : public QObject
{
    Q_OBJECT

private slots:
    void lowersTrimsAndFindsTheLastAt_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QByteArray>("address");
        QTest::addColumn<QByteArray>("domain");
        QTest::newRow("short") << QByteArray("A@B.Example") << true << QByteArray("a@b.example")
                               << QByteArray("b.example");
        QTest::newRow("long, angle brackets")
            << QByteArray("  <Some.Long.Local.Part+Tag@Mail.Sub.EXAMPLE.org> ") << true
            << QByteArray("some.long.local.part+tag@mail.sub.example.org")
            << QByteArray("mail.sub.example.org");
        QTest::newRow("two @ in different steps")
            << QByteArray("a@b-1234567890123456789@Example.COM") << true
            << QByteArray("a@b-1234567890123456789@example.com") << QByteArray("example.com");
        QTest::newRow("null sender") << QByteArray("<>") << true << QByteArray() << QByteArray();
        QTest::newRow("no @") << QByteArray("POSTMASTER-AND-SOME-MORE") << true
                              << QByteArray("postmaster-and-some-more") << QByteArray();
        QTest::newRow("tab after 16 bytes")
            << QByteArray("abcdefghijklmnopq\tr@x") << false << QByteArray() << QByteArray();
        QTest::newRow("inner space in a step")
            << QByteArray("abcdef ghijklmnopqr@x") << false << QByteArray() << QByteArray();
        QTest::newRow("DEL in a step")
            << QByteArray("abcdefghijklm\x7fnopqr@x") << false << QByteArray() << QByteArray();
        QTest::newRow("UTF-8 kept as it is")
            << QByteArray("J\xc3\x9cRGEN.M\xc3\xbcller@Exampl\xc3\x89.de") << true
            << QByteArray("j\xc3\x9crgen.m\xc3\xbcller@exampl\xc3\x89.de")
            << QByteArray("exampl\xc3\x89.de");
        QTest::newRow("kMaxAddress bytes")
            << QByteArray(MailAddress::kMaxAddress, 'X') << true
            << QByteArray(MailAddress::kMaxAddress, 'x') << QByteArray();
        QTest::newRow("one past kMaxAddress") << QByteArray(MailAddress::kMaxAddress + 1, 'x')
                                              << false << QByteArray() << QByteArray();
    }

    void lowersTrimsAndFindsTheLastAt()
    {
        QFETCH(QByteArray, raw);
        QFETCH(bool, valid);
        QFETCH(QByteArray, address);
        QFETCH(QByteArray, domain);
        const MailAddress::Lowered lowered(raw);
        QCOMPARE(lowered.valid(), valid);
        if (!valid)
            return;
        QCOMPARE(lowered.address().toByteArray(), address);
        QCOMPARE(lowered.domain().toByteArray(), domain);
        compareWithReference(raw);
    }

    void agreesWithTheByteLoopOnRandomInput()
    {
        // Bytes drawn mostly from letters, '@' and '.', with control bytes, spaces, DEL and
        // bytes >= 0x80 mixed in, at every length around the 16-byte steps and the bound.
        static const QByteArray alphabet = QByteArrayLiteral(
            "abcxyzABCXYZ@@..-+_09 <>\t\x01\x1f\x20\x7f\x80\xc3\xff\x40\x5a\x5b\x60\x7b");
        QRandomGenerator rng(20261126);
        for (int n = 0; n < 50'000; ++n) {
            const qsizetype size = qsizetype(rng.bounded(MailAddress::kMaxAddress + 8));
            QByteArray raw(size, Qt::Uninitialized);
            const bool clean = rng.bounded(2) == 0; // half without any byte that invalidates
            for (qsizetype i = 0; i < size; ++i) {
                char c = alphabet[rng.bounded(int(alphabet.size()))];
                while (clean && (uchar(c) <= 0x20 || c == 0x7f))
                    c = alphabet[rng.bounded(int(alphabet.size()))];
                raw[i] = c;
            }
            compareWithReference(raw);
            if (QTest::currentTestFailed()) {
                qWarning() << "input" << raw.toHex();
                return;
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestMailAddressLowered)
#include "tst_mail_address_lowered.moc"
