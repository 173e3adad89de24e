// SPDX-License-Identifier: GPL-3.0-or-later
// DATA framing: only CRLF.CRLF ends a message, in both bare-LF modes, for every smuggling
// variant of CVE-2023-51764/5/6; dot-unstuffing; the 1000-byte line limit; the size limit;
// the same result however the input is split.

#include "smtp/DataReader.h"

#include <QRandomGenerator>
#include <QTest>

using namespace greygate;
using Status = DataReader::Status;
using Error = DataReader::Error;

Q_DECLARE_METATYPE(DataReader::Status)
Q_DECLARE_METATYPE(DataReader::Error)

namespace {

struct Result
{
    Status status = Status::NeedMore;
    Error error = Error::None;
    qsizetype consumed = 0; // of the whole input
    QByteArray content;
};

Result read(const QByteArray &input, qsizetype chunk, bool normalise, qint64 maxSize = 0)
{
    DataReader reader(maxSize, normalise);
    Result r;
    for (qsizetype at = 0; at < input.size(); at += chunk) {
        const QByteArray piece = input.mid(at, chunk);
        qsizetype used = 0;
        r.status = reader.feed(piece, &used, &r.content);
        r.consumed = at + used;
        if (r.status != Status::NeedMore)
            break;
    }
    r.error = reader.error();
    return r;
}

const QByteArray kHead = QByteArrayLiteral("Subject: hi\r\n\r\nbody");
const QByteArray kSmuggled = QByteArrayLiteral("MAIL FROM:<evil@x.example>\r\n"
                                               "RCPT TO:<victim@y.example>\r\nDATA\r\n"
                                               "Subject: smuggled\r\n");
const QByteArray kEnd = QByteArrayLiteral("\r\n.\r\n");

} // namespace

class TestSmtpDataReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void smuggling_variants_never_end_the_message_data()
    {
        QTest::addColumn<QByteArray>("variant");
        QTest::addColumn<Error>("refusedAs");
        QTest::newRow("\\n.\\n") << QByteArray("\n.\n") << Error::BareLf;
        QTest::newRow("\\r.\\r") << QByteArray("\r.\r") << Error::BareCr;
        QTest::newRow("\\r.\\n") << QByteArray("\r.\n") << Error::BareCr;
        QTest::newRow("\\n.\\r") << QByteArray("\n.\r") << Error::BareLf;
        QTest::newRow("\\n.\\r\\n") << QByteArray("\n.\r\n") << Error::BareLf;
        QTest::newRow("\\r\\n.\\n") << QByteArray("\r\n.\n") << Error::BareLf;
        QTest::newRow("\\r.\\r\\n") << QByteArray("\r.\r\n") << Error::BareCr;
        QTest::newRow("\\r\\n.\\r") << QByteArray("\r\n.\rX") << Error::BareCr;
        QTest::newRow("\\r\\n\\0.\\r\\n") << QByteArray("\r\n\0.\r\n", 6) << Error::Nul;
    }
    void smuggling_variants_never_end_the_message()
    {
        QFETCH(QByteArray, variant);
        QFETCH(Error, refusedAs);
        const QByteArray input = kHead + variant + kSmuggled + QByteArray("tail") + kEnd;
        for (const qsizetype chunk : {qsizetype(1), qsizetype(2), qsizetype(7), input.size()}) {
            // Refused: the reader stops at the offending byte, before the smuggled text.
            const Result refused = read(input, chunk, false);
            QCOMPARE(refused.status, Status::Fatal);
            QCOMPARE(refused.error, refusedAs);
            QVERIFY(refused.consumed <= kHead.size() + variant.size());
            QVERIFY(!refused.content.contains("MAIL FROM"));

            // Normalised: the smuggled commands are content and only the real CRLF.CRLF
            // ends the message; NUL stays refused.
            const Result normalised = read(input, chunk, true);
            if (refusedAs == Error::Nul) {
                QCOMPARE(normalised.status, Status::Fatal);
                continue;
            }
            QCOMPARE(normalised.status, Status::End);
            QCOMPARE(normalised.consumed, input.size());
            QVERIFY(normalised.content.contains("MAIL FROM:<evil@x.example>\r\n"));
            QVERIFY(normalised.content.endsWith("tail\r\n"));
            // Canonical output: every line ends with CRLF, no bare CR or LF remains.
            QCOMPARE(normalised.content.count('\r'), normalised.content.count('\n'));
            QVERIFY(!normalised.content.contains("\r\r"));
        }
    }

    void the_message_ends_exactly_after_the_dot()
    {
        const QByteArray input = "a\r\n..b\r\n.\r\n\r\n.\r\nNOOP\r\n";
        const Result r = read(input, 1, false);
        QCOMPARE(r.status, Status::End);
        QCOMPARE(r.consumed, qsizetype(input.indexOf("\r\n.\r\n") + 5));
        QCOMPARE(r.content, QByteArray("a\r\n.b\r\n")); // un-stuffed
    }

    void an_empty_message_ends_at_once()
    {
        const Result r = read(".\r\nQUIT\r\n", 4, false);
        QCOMPARE(r.status, Status::End);
        QCOMPARE(r.consumed, 3);
        QVERIFY(r.content.isEmpty());
    }

    void line_limit_data()
    {
        QTest::addColumn<int>("lineBytes"); // with the CRLF
        QTest::addColumn<Error>("error");
        QTest::newRow("1000") << 1000 << Error::None;
        QTest::newRow("1001") << 1001 << Error::LineTooLong;
        QTest::newRow("1 MiB") << (1 << 20) << Error::LineTooLong;
    }
    void line_limit()
    {
        QFETCH(int, lineBytes);
        QFETCH(Error, error);
        const QByteArray input = QByteArray(lineBytes - 2, 'x') + "\r\nok\r\n.\r\n";
        const Result r = read(input, 333, false);
        QCOMPARE(r.status, Status::End); // the message is read to its end either way
        QCOMPARE(r.consumed, input.size());
        QCOMPARE(r.error, error);
        if (error == Error::None)
            QCOMPARE(r.content.size(), lineBytes + 4);
    }

    void size_limit_is_counted_and_refused()
    {
        const QByteArray input = QByteArray(100, 'x') + "\r\n.\r\n";
        QCOMPARE(read(input, 10, false, 102).error, Error::None);
        const Result big = read(input, 10, false, 101);
        QCOMPARE(big.status, Status::End);
        QCOMPARE(big.error, Error::TooBig);
    }

    void bare_lf_normalised_becomes_crlf()
    {
        const Result r = read("a\nb\r\n.\r\n", 1, true);
        QCOMPARE(r.status, Status::End);
        QCOMPARE(r.content, QByteArray("a\r\nb\r\n"));
    }

    void whole_lines_read_at_once_match_a_byte_at_a_time()
    {
        // Whole lines are taken by a fast path, split ones byte by byte: both must give the
        // same content, status, error and end for any input. Random messages over the bytes
        // that matter (dots, CR, LF, NUL, long lines), with and without a size limit.
        QRandomGenerator random(20261126);
        const char alphabet[] = {'.', '.', '\r', '\r', '\n', '\n', 'a', 'b', ' ', '\0'};
        for (int round = 0; round < 3000; ++round) {
            QByteArray input;
            const int pieces = int(random.bounded(1, 40));
            for (int k = 0; k < pieces; ++k) {
                const quint32 kind = random.bounded(10);
                if (kind < 5)
                    input.append("line\r\n");
                else if (kind == 5)
                    input.append("..stuffed\r\n");
                else if (kind == 6)
                    input.append(QByteArray(int(random.bounded(990, 1003)), 'x')).append("\r\n");
                else if (kind == 7)
                    input.append(".\r\n");
                else
                    input.append(alphabet[random.bounded(int(sizeof alphabet))]);
            }
            if (random.bounded(2))
                input.append(kEnd);
            const qint64 maxSize = random.bounded(3) == 0 ? qint64(random.bounded(1, 3000)) : 0;
            for (const bool normalise : {false, true}) {
                const Result whole =
                    read(input, qMax<qsizetype>(input.size(), 1), normalise, maxSize);
                const qsizetype chunk = qsizetype(random.bounded(2, 64));
                for (const qsizetype each : {qsizetype(1), chunk}) {
                    const Result split = read(input, each, normalise, maxSize);
                    const auto where = [&] {
                        return QByteArray("round " + QByteArray::number(round) + " chunk " +
                                          QByteArray::number(each) + " normalise " +
                                          QByteArray::number(normalise) + ": " +
                                          input.left(200).toPercentEncoding());
                    };
                    QVERIFY2(split.status == whole.status, where().constData());
                    QVERIFY2(split.error == whole.error, where().constData());
                    QVERIFY2(split.consumed == whole.consumed, where().constData());
                    QVERIFY2(split.content == whole.content, where().constData());
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestSmtpDataReader)
#include "tst_smtp_data_reader.moc"
