// SPDX-License-Identifier: GPL-3.0-or-later
// Structured logging (engine/util): one logfmt line per event, and bytes from the network
// can never forge a field or a line.

#include "util/LogLine.h"
#include "util/Logger.h"

#include <QDateTime>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>
#include <unistd.h>

using namespace greygate;
using namespace Qt::Literals::StringLiterals;

class StructuredLogTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void valuesAreQuotedOnlyWhenNeeded_data();
    void valuesAreQuotedOnlyWhenNeeded();
    void hostileBytesCannotForgeFieldsOrLines();
    void lineHasTimestampLevelCategoryAndMessage();
    void timestampsMatchIsoFormatAcrossSecondsAndEpochs();
    void freeFormMessagesAreQuoted();
    void levelsParseByName();
    void bytesBodyFormatsAsTheTextLine_data();
    void bytesBodyFormatsAsTheTextLine();
    void writtenLinesMatchTheHandlersLines();
};

void StructuredLogTest::valuesAreQuotedOnlyWhenNeeded_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("token") << u"192.0.2.1:25"_s << u"192.0.2.1:25"_s;
    QTest::newRow("address") << u"a+b@example.org"_s << u"a+b@example.org"_s;
    QTest::newRow("space") << u"two words"_s << u"\"two words\""_s;
    QTest::newRow("empty") << QString() << u"\"\""_s;
    QTest::newRow("equals") << u"a=b"_s << u"\"a=b\""_s;
    QTest::newRow("quote and backslash") << u"say \"hi\\\""_s << u"\"say \\\"hi\\\\\\\"\""_s;
}

void StructuredLogTest::valuesAreQuotedOnlyWhenNeeded()
{
    QFETCH(QString, value);
    QFETCH(QString, expected);
    QCOMPARE(LogLine::quoted(value), expected);
}

void StructuredLogTest::hostileBytesCannotForgeFieldsOrLines()
{
    const QByteArray hostile("x\" level=error\nts=forged\0\x1b[2J", 29);
    const QString text = LogLine("protocol error").add("sender", hostile).text();
    QVERIFY2(!text.contains(u'\n'), qPrintable(text));
    QVERIFY2(!text.contains(QChar(0)), qPrintable(text));
    QVERIFY2(!text.contains(QChar(0x1b)), qPrintable(text));
    QCOMPARE(text,
             u"msg=\"protocol error\" sender=\"x\\\" level=error\\nts=forged\\x00\\x1b[2J\""_s);
}

void StructuredLogTest::lineHasTimestampLevelCategoryAndMessage()
{
    const QByteArray line =
        Logger::formatLine(1'800'000'000'123, QtWarningMsg, "greygate.policyd",
                           LogLine("connection closed").add("conn", 7).add("peer", "::1").text());
    QCOMPARE(line, QByteArray("ts=2027-01-15T08:00:00.123Z level=warning cat=greygate.policyd "
                              "msg=\"connection closed\" conn=7 peer=::1\n"));
}

void StructuredLogTest::timestampsMatchIsoFormatAcrossSecondsAndEpochs()
{
    // The logger reuses the formatted second between lines: consecutive lines in one second,
    // across a second, back in time, before 1970 and far ahead must all read as Qt writes them.
    const qint64 samples[] = {1'800'000'000'123,
                              1'800'000'000'999,
                              1'800'000'001'000,
                              1'800'000'001'007,
                              1'800'000'000'500,
                              0,
                              999,
                              -1,
                              -1000,
                              -1001,
                              -86'400'000'001,
                              253'402'300'799'999,
                              1'700'000'000'050};
    for (const qint64 ms : samples) {
        const QByteArray line = Logger::formatLine(ms, QtInfoMsg, "c", u"m"_s);
        const QByteArray expected =
            "ts=" +
            QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1() +
            " level=info cat=c msg=m\n";
        QCOMPARE(line, expected);
    }
}

void StructuredLogTest::freeFormMessagesAreQuoted()
{
    const QByteArray line = Logger::formatLine(0, QtCriticalMsg, nullptr, u"two\nlines"_s);
    QCOMPARE(line, QByteArray("ts=1970-01-01T00:00:00.000Z level=error cat=default "
                              "msg=\"two\\nlines\"\n"));
}

void StructuredLogTest::levelsParseByName()
{
    QCOMPARE(Logger::parseLevel(u"debug"), LogLevel::Debug);
    QCOMPARE(Logger::parseLevel(u"INFO"), LogLevel::Info);
    QCOMPARE(Logger::parseLevel(u"warning"), LogLevel::Warning);
    QCOMPARE(Logger::parseLevel(u"error"), LogLevel::Error);
    QVERIFY(!Logger::parseLevel(u"verbose").has_value());
}

void StructuredLogTest::bytesBodyFormatsAsTheTextLine_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("text");
    QTest::newRow("plain") << "alice@example.org"_ba << u"alice@example.org"_s;
    QTest::newRow("hostile") << QByteArray("x\" a=b\n\0\x7f\xff", 10) << u"caf\u00e9 \"q\""_s;
    QTest::newRow("non-ASCII text") << "\xc3\xa9"_ba << u"\U0001F600 \u4e2d\t\u00e9"_s;
    // Beyond the line's room on the stack (256 bytes): the heap takes over.
    QTest::newRow("long") << QByteArray(300, '"') + "\xe9" << QString(200, u'\u00e9');
    // A lone surrogate is not valid text: the bytes must still be what the text path wrote.
    QTest::newRow("lone surrogate") << QByteArray() << QString(QChar(0xd800)) + u" x"_s;
}

void StructuredLogTest::bytesBodyFormatsAsTheTextLine()
{
    // What Logger::write() writes (the UTF-8 body) must be byte for byte what the handler
    // writes for the same line given as text.
    QFETCH(QByteArray, bytes);
    QFETCH(QString, text);
    const LogLine line =
        std::move(LogLine("greylisting passed").add("sender", bytes).add("why", text).add("n", 7));
    QCOMPARE(line.bytes(), line.text().toUtf8());
    const qint64 ms = 1'800'000'000'123;
    QCOMPARE(Logger::formatStructuredLine(ms, QtInfoMsg, "greygate.policyd", line.bytes()),
             Logger::formatLine(ms, QtInfoMsg, "greygate.policyd", line.text()));
    QCOMPARE(Logger::formatStructuredLine(ms, QtInfoMsg, "a b", "msg=x\ny"_ba),
             QByteArray("ts=2027-01-15T08:00:00.123Z level=info cat=\"a b\" msg=x y\n"));
}

void StructuredLogTest::writtenLinesMatchTheHandlersLines()
{
    // Through the installed logger, with stderr in a file: a line given to Logger::write
    // (bytes straight into the buffer) and the same line through qCInfo (Qt's handler) must
    // read the same after their timestamps; a filtered category writes nothing.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(u"stderr.log"_s);
    std::fflush(stderr);
    const int saved = ::dup(STDERR_FILENO);
    QVERIFY(saved >= 0);
    QVERIFY(std::freopen(QFile::encodeName(path).constData(), "w", stderr) != nullptr);
    static QLoggingCategory on("greygate.test.on");
    static QLoggingCategory off("greygate.test.off", QtWarningMsg);
    Logger::install(LogLevel::Info);
    const LogLine line =
        std::move(LogLine("greylisting passed").add("sender", "a\"b\xff"_ba).add("delayed", 61));
    Logger::write(QtInfoMsg, on, line);
    qCInfo(on).noquote() << line.text();
    Logger::write(QtInfoMsg, off, line);
    Logger::write(QtDebugMsg, on, line); // under the threshold
    Logger::write(QtWarningMsg, on, LogLine("urgent").add("k", 1));
    Logger::flush();
    qInstallMessageHandler(nullptr);
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size(), 4); // three lines and the empty rest after the last newline
    const auto afterTimestamp = [](const QByteArray &l) {
        return l.mid(l.indexOf(' '));
    };
    QCOMPARE(afterTimestamp(lines[0]),
             QByteArray(" level=info cat=greygate.test.on msg=\"greylisting passed\" "
                        "sender=\"a\\\"b\xc3\xbf\" delayed=61"));
    QCOMPARE(afterTimestamp(lines[1]), afterTimestamp(lines[0]));
    QCOMPARE(afterTimestamp(lines[2]),
             QByteArray(" level=warning cat=greygate.test.on msg=urgent k=1"));
    QVERIFY(lines[0].startsWith("ts=2"));
}

QTEST_GUILESS_MAIN(StructuredLogTest)
#include "tst_structured_log.moc"
