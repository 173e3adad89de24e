// SPDX-License-Identifier: GPL-3.0-or-later
// LogLine quotes byte fields (request attributes from the network) as bytes: the output must
// be what the same bytes read as Latin-1 text give, so a hostile byte can never forge a field.

#include "util/LogLine.h"

#include <QTest>

using namespace greygate;
using namespace Qt::Literals::StringLiterals;

class LogLineBytesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void byteFieldsAreQuotedAsTheirLatin1Text_data();
    void byteFieldsAreQuotedAsTheirLatin1Text();
    void numbersAndMessagesKeepTheirForm();
};

void LogLineBytesTest::byteFieldsAreQuotedAsTheirLatin1Text_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain address") << "alice@example.org"_ba << u"alice@example.org"_s;
    QTest::newRow("empty") << QByteArray() << u"\"\""_s;
    QTest::newRow("quote and backslash") << "a\"b\\c"_ba << u"\"a\\\"b\\\\c\""_s;
    QTest::newRow("forged field") << "x sender=evil"_ba << u"\"x sender=evil\""_s;
    QTest::newRow("newline, return, tab") << "a\nb\rc\td"_ba << u"\"a\\nb\\rc\\td\""_s;
    QTest::newRow("NUL, ESC and DEL")
        << QByteArray("a\0b\x1b\x7f", 5) << u"\"a\\x00b\\x1b\\x7f\""_s;
    QTest::newRow("non-ASCII bytes") << "caf\xc3\xa9\xff"_ba << u"\"caf\u00c3\u00a9\u00ff\""_s;
}

void LogLineBytesTest::byteFieldsAreQuotedAsTheirLatin1Text()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expected);
    const QString fromBytes = LogLine("m").add("sender", bytes).text();
    QCOMPARE(fromBytes, u"msg=m sender="_s + expected);
    // The text path (a QString value) quotes exactly the same way.
    QCOMPARE(fromBytes, LogLine("m").add("sender", QString::fromLatin1(bytes)).text());
    QCOMPARE(LogLine::quoted(QString::fromLatin1(bytes)), expected);
}

void LogLineBytesTest::numbersAndMessagesKeepTheirForm()
{
    QCOMPARE(LogLine("greylisting passed").add("delayed", qint64(-42)).add("n", 0).text(),
             u"msg=\"greylisting passed\" delayed=-42 n=0"_s);
    QCOMPARE(LogLine("big").add("v", std::numeric_limits<qint64>::min()).text(),
             u"msg=big v=-9223372036854775808"_s);
    QCOMPARE(LogLine("caf\xc3\xa9").text(), u"msg=\"caf\u00e9\""_s);
}

QTEST_GUILESS_MAIN(LogLineBytesTest)
#include "tst_log_line_bytes.moc"
