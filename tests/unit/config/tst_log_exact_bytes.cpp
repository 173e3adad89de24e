// SPDX-License-Identifier: GPL-3.0-or-later
// The log's bytes are documented and parsed by admins' tools: these pin whole lines, byte for
// byte, as literals (not as another code path writes them), for the values that take the
// formatter's less common branches and for timestamps the per-thread prefix cache reuses.

#include "util/LogLine.h"
#include "util/Logger.h"

#include <QTest>

using namespace greygate;
using namespace Qt::Literals::StringLiterals;

class LogExactBytesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void passedLineIsWrittenExactly();
    void byteValuesAreWrittenExactly_data();
    void byteValuesAreWrittenExactly();
    void longValuesAreWrittenWhole_data();
    void longValuesAreWrittenWhole();
    void everyByteIsQuotedAlikeInShortAndLongValues();
    void messagesAreWrittenExactly();
    void timestampsFollowTheInjectedTimeAcrossBoundaries();
    void levelAndCategoryChangesWithinOneMillisecondAreWritten();
    void aCategoryTooLongToKeepIsStillWritten();
    void copiedAndMovedLinesKeepTheirBytes();
};

namespace {

constexpr qint64 kMs = 1'800'000'000'123; // 2027-01-15T08:00:00.123Z

QByteArray infoLine(qint64 ms, const LogLine &line)
{
    return Logger::formatStructuredLine(ms, QtInfoMsg, "greygate.policyd", line.bytes());
}

} // namespace

void LogExactBytesTest::passedLineIsWrittenExactly()
{
    const LogLine line = std::move(LogLine("greylisting passed")
                                       .add("client", "186.192.15.218"_ba)
                                       .add("sender", "fdxw@mail.thz.example"_ba)
                                       .add("recipient", "apyr@deptt.greygate.example"_ba)
                                       .add("delayed", qint64(3))
                                       .add("attempts", qint64(2)));
    QCOMPARE(infoLine(kMs, line),
             "ts=2027-01-15T08:00:00.123Z level=info cat=greygate.policyd "
             "msg=\"greylisting passed\" client=186.192.15.218 sender=fdxw@mail.thz.example "
             "recipient=apyr@deptt.greygate.example delayed=3 attempts=2\n"_ba);
}

void LogExactBytesTest::byteValuesAreWrittenExactly_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("every plain punctuation") << "a.b-c_d:e/f@g+h[i]j,k<l>m"_ba
                                             << "a.b-c_d:e/f@g+h[i]j,k<l>m"_ba;
    QTest::newRow("empty") << QByteArray() << "\"\""_ba;
    QTest::newRow("space only") << " "_ba
                                << "\" \""_ba;
    QTest::newRow("equals only") << "="_ba
                                 << "\"=\""_ba;
    QTest::newRow("printable, quoted, none escaped") << "a b=c;d'e"_ba
                                                     << "\"a b=c;d'e\""_ba;
    QTest::newRow("quote") << "\""_ba
                           << "\"\\\"\""_ba;
    QTest::newRow("backslash") << "\\"_ba
                               << "\"\\\\\""_ba;
    QTest::newRow("quotes and backslashes") << "\\\"x\"\\"_ba
                                            << "\"\\\\\\\"x\\\"\\\\\""_ba;
    QTest::newRow("newline, return, tab") << "\n\r\t"_ba
                                          << "\"\\n\\r\\t\""_ba;
    QTest::newRow("NUL") << QByteArray(1, '\0') << "\"\\x00\""_ba;
    QTest::newRow("other control bytes") << "\x01\x08\x0b\x0c\x1b\x1f\x7f"_ba
                                         << "\"\\x01\\x08\\x0b\\x0c\\x1b\\x1f\\x7f\""_ba;
    QTest::newRow("8-bit bytes as Latin-1") << "\x80\xa0\xc3\xa9\xff"_ba
                                            << "\"\xc2\x80\xc2\xa0\xc3\x83\xc2\xa9\xc3\xbf\""_ba;
    QTest::newRow("8-bit byte in a token") << "caf\xe9"_ba
                                           << "\"caf\xc3\xa9\""_ba;
    QTest::newRow("forged field and line") << "x\" level=error\nts=0"_ba
                                           << "\"x\\\" level=error\\nts=0\""_ba;
}

void LogExactBytesTest::byteValuesAreWrittenExactly()
{
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, expected);
    const LogLine line = std::move(LogLine("m").add("v", value).add("n", qint64(-7)));
    QCOMPARE(line.bytes(), QByteArray("msg=m v="_ba + expected + " n=-7"_ba));
    QCOMPARE(infoLine(kMs, line),
             QByteArray("ts=2027-01-15T08:00:00.123Z level=info cat=greygate.policyd msg=m v="_ba +
                        expected + " n=-7\n"_ba));
}

void LogExactBytesTest::longValuesAreWrittenWhole_data()
{
    // Past the line's inline room (256 bytes) and past the scan's chunk (262,144 bytes),
    // where the counts of a chunk are carried into the totals.
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("300 plain") << QByteArray(300, 'a') << QByteArray(300, 'a');
    QTest::newRow("300 quoted") << QByteArray(300, ' ')
                                << QByteArray('"' + QByteArray(300, ' ') + '"');
    const qsizetype big = (qsizetype(1) << 18) + 5;
    QTest::newRow("chunk plus 5, plain") << QByteArray(big, 'z') << QByteArray(big, 'z');
    QTest::newRow("chunk plus 5, one quote at the end")
        << QByteArray(QByteArray(big, 'z') + '"')
        << QByteArray('"' + QByteArray(big, 'z') + "\\\"\""_ba);
    QTest::newRow("chunk plus 5, control bytes")
        << QByteArray(big, '\x01') << QByteArray('"' + "\\x01"_ba.repeated(big) + '"');
    QTest::newRow("two chunks plus 1, 8-bit bytes")
        << QByteArray(2 * (big - 5) + 1, '\xff')
        << QByteArray('"' + "\xc3\xbf"_ba.repeated(2 * (big - 5) + 1) + '"');
}

void LogExactBytesTest::longValuesAreWrittenWhole()
{
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, expected);
    const LogLine line = std::move(LogLine("m").add("v", value).add("k", "x"));
    QCOMPARE(line.bytes(), QByteArray("msg=m v="_ba + expected + " k=x"_ba));
    // The same bytes through the string path and through appendQuoted.
    QCOMPARE(LogLine("m").add("v", QString::fromLatin1(value)).add("k", "x").bytes(), line.bytes());
    LogLine::Buffer out;
    out.append("<", 1);
    LogLine::appendQuoted(out, value);
    QCOMPARE(out.view(), QByteArray('<' + expected));
}

void LogExactBytesTest::everyByteIsQuotedAlikeInShortAndLongValues()
{
    // Each byte, alone or among plain ones, at the start, in the middle and at the end of
    // values shorter and longer than the scan's eight-byte step, comes out as the text path
    // (one character at a time, its own code) writes it.
    for (int b = 0; b < 256; ++b) {
        for (const qsizetype size : {1, 3, 4, 7, 8, 9, 12, 13, 16, 17, 33}) {
            for (const qsizetype at : {qsizetype(0), size / 2, size - 1}) {
                QByteArray value(size, 'a');
                value[at] = char(b);
                const QByteArray bytes = LogLine("m").add("v", value).bytes().toByteArray();
                const QByteArray text =
                    LogLine("m").add("v", QString::fromLatin1(value)).bytes().toByteArray();
                QVERIFY2(bytes == text,
                         qPrintable(u"byte %1, size %2, at %3: %4"_s.arg(b).arg(size).arg(at).arg(
                             QString::fromLatin1(bytes.toPercentEncoding()))));
            }
        }
    }
}

void LogExactBytesTest::messagesAreWrittenExactly()
{
    QCOMPARE(LogLine("greylisting passed").bytes(), "msg=\"greylisting passed\""_ba);
    QCOMPARE(LogLine("started").bytes(), "msg=started"_ba);
    QCOMPARE(LogLine("").bytes(), "msg=\"\""_ba);
    QCOMPARE(LogLine("say \"hi\"").bytes(), "msg=\"say \\\"hi\\\"\""_ba);
    QCOMPARE(LogLine("caf\xc3\xa9 ok").bytes(), "msg=\"caf\xc3\xa9 ok\""_ba);
    QCOMPARE(LogLine(u"tab\there"_s).add("t", u"\u00e9\U0001F600"_s).bytes(),
             "msg=\"tab\\there\" t=\"\xc3\xa9\xf0\x9f\x98\x80\""_ba);
}

void LogExactBytesTest::timestampsFollowTheInjectedTimeAcrossBoundaries()
{
    // One thread, one level and category: the cached prefix is reused and its milliseconds
    // rewritten, or rebuilt for a new second, also when time goes back.
    const struct
    {
        qint64 ms;
        const char *ts;
    } steps[] = {
        {1'800'000'000'123, "2027-01-15T08:00:00.123Z"},
        {1'800'000'000'123, "2027-01-15T08:00:00.123Z"},
        {1'800'000'000'124, "2027-01-15T08:00:00.124Z"},
        {1'800'000'000'999, "2027-01-15T08:00:00.999Z"},
        {1'800'000'001'000, "2027-01-15T08:00:01.000Z"},
        {1'800'000'001'007, "2027-01-15T08:00:01.007Z"},
        {1'800'000'000'999, "2027-01-15T08:00:00.999Z"},
        {1'800'000'059'999, "2027-01-15T08:00:59.999Z"},
        {1'800'000'060'000, "2027-01-15T08:01:00.000Z"},
        {1'800'057'599'999, "2027-01-15T23:59:59.999Z"},
        {1'800'057'600'000, "2027-01-16T00:00:00.000Z"},
        {1'799'999'999'999, "2027-01-15T07:59:59.999Z"},
        {0, "1970-01-01T00:00:00.000Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {-1000, "1969-12-31T23:59:59.000Z"},
        {-1001, "1969-12-31T23:59:58.999Z"},
    };
    const LogLine line("m");
    for (const auto &step : steps) {
        QCOMPARE(infoLine(step.ms, line),
                 QByteArray("ts="_ba + step.ts + " level=info cat=greygate.policyd msg=m\n"_ba));
    }
}

void LogExactBytesTest::levelAndCategoryChangesWithinOneMillisecondAreWritten()
{
    const QByteArray body = "msg=m"_ba;
    const auto line = [&](QtMsgType type, const char *category) {
        return Logger::formatStructuredLine(kMs, type, category, body);
    };
    const QByteArray ts = "ts=2027-01-15T08:00:00.123Z"_ba;
    QCOMPARE(line(QtInfoMsg, "greygate.policyd"),
             QByteArray(ts + " level=info cat=greygate.policyd msg=m\n"));
    QCOMPARE(line(QtWarningMsg, "greygate.policyd"),
             QByteArray(ts + " level=warning cat=greygate.policyd msg=m\n"));
    QCOMPARE(line(QtWarningMsg, "greygate.store"),
             QByteArray(ts + " level=warning cat=greygate.store msg=m\n"));
    // Same pointer, other text: the category is compared by its bytes.
    char mutableName[] = "greygate.aaa";
    QCOMPARE(line(QtDebugMsg, mutableName),
             QByteArray(ts + " level=debug cat=greygate.aaa msg=m\n"));
    mutableName[9] = 'b';
    QCOMPARE(line(QtDebugMsg, mutableName),
             QByteArray(ts + " level=debug cat=greygate.baa msg=m\n"));
    QCOMPARE(line(QtCriticalMsg, nullptr), QByteArray(ts + " level=error cat=default msg=m\n"));
    QCOMPARE(line(QtCriticalMsg, ""), QByteArray(ts + " level=error cat=default msg=m\n"));
    QCOMPARE(line(QtFatalMsg, "a b"), QByteArray(ts + " level=fatal cat=\"a b\" msg=m\n"));
    QCOMPARE(line(QtInfoMsg, "greygate.policyd"),
             QByteArray(ts + " level=info cat=greygate.policyd msg=m\n"));
}

void LogExactBytesTest::aCategoryTooLongToKeepIsStillWritten()
{
    const QByteArray longCategory = QByteArray("greygate." + QByteArray(200, 'x'));
    const QByteArray quotedLong = QByteArray(150, '"');
    const QByteArray ts = "ts=2027-01-15T08:00:00.123Z"_ba;
    for (int round = 0; round < 2; ++round) {
        QCOMPARE(Logger::formatStructuredLine(kMs, QtInfoMsg, longCategory.constData(), "msg=m"),
                 QByteArray(ts + " level=info cat=" + longCategory + " msg=m\n"));
        QCOMPARE(Logger::formatStructuredLine(kMs, QtInfoMsg, quotedLong.constData(), "msg=m"),
                 QByteArray(ts + " level=info cat=\"" + "\\\""_ba.repeated(150) + "\" msg=m\n"));
        QCOMPARE(Logger::formatStructuredLine(kMs, QtInfoMsg, "c", "msg=m"),
                 QByteArray(ts + " level=info cat=c msg=m\n"));
    }
}

void LogExactBytesTest::copiedAndMovedLinesKeepTheirBytes()
{
    const QByteArray expectedLong = QByteArray("msg=m v=" + QByteArray(400, 'q'));
    LogLine shortLine("m");
    shortLine.add("v", "x");
    LogLine longLine("m");
    longLine.add("v", QByteArray(400, 'q'));

    const LogLine copiedShort = shortLine;
    const LogLine copiedLong = longLine;
    QCOMPARE(copiedShort.bytes(), "msg=m v=x"_ba);
    QCOMPARE(copiedLong.bytes(), expectedLong);
    LogLine movedShort = std::move(shortLine);
    LogLine movedLong = std::move(longLine);
    QCOMPARE(movedShort.bytes(), "msg=m v=x"_ba);
    QCOMPARE(movedLong.bytes(), expectedLong);
    movedShort = std::move(movedLong); // a heap line over an inline one
    QCOMPARE(movedShort.bytes(), expectedLong);
    movedShort = copiedShort; // and back
    QCOMPARE(movedShort.bytes(), "msg=m v=x"_ba);
    movedShort.add("w", qint64(1));
    QCOMPARE(movedShort.bytes(), "msg=m v=x w=1"_ba);
}

QTEST_GUILESS_MAIN(LogExactBytesTest)
#include "tst_log_exact_bytes.moc"
