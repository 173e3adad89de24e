// SPDX-License-Identifier: GPL-3.0-or-later
// Command framing (512 bytes with CRLF, bare LF, bare CR, NUL, lines split anywhere) and
// command parsing (verbs, MAIL/RCPT paths and parameters) with the replies for bad input.

#include "smtp/SmtpCommandParser.h"

#include <QTest>

using namespace greygate;
using Status = SmtpCommandParser::LineStatus;
using Verb = SmtpCommand::Verb;

Q_DECLARE_METATYPE(SmtpCommandParser::LineStatus)
Q_DECLARE_METATYPE(SmtpCommand::Verb)

namespace {

struct Framed
{
    QList<Status> statuses;
    QList<QByteArray> lines;
    qsizetype leftOver = 0;
};

// Feeds `input` in pieces of `chunk` bytes the way the session does: unconsumed bytes stay
// in the buffer and more are appended.
Framed frame(const QByteArray &input, qsizetype chunk, bool normalise)
{
    SmtpCommandParser parser(normalise);
    Framed out;
    QByteArray buffer;
    for (qsizetype at = 0; at < input.size(); at += chunk) {
        buffer.append(input.mid(at, chunk));
        for (int guard = 0; guard < 10000; ++guard) {
            qsizetype used = 0;
            QByteArray line;
            const Status s = parser.takeLine(buffer, &used, &line);
            buffer.remove(0, used);
            if (s == Status::NeedMore)
                break;
            out.statuses.append(s);
            out.lines.append(line);
        }
    }
    out.leftOver = buffer.size();
    return out;
}

} // namespace

class TestSmtpCommandParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void framing_gives_the_same_lines_for_every_split_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<bool>("normalise");
        QTest::addColumn<QList<Status>>("statuses");

        const QByteArray max510(510, 'x'); // 510 + CRLF = 512
        const QByteArray over511(511, 'x');
        QTest::newRow("two commands")
            << QByteArray("NOOP\r\nQUIT\r\n") << false << QList<Status>{Status::Line, Status::Line};
        QTest::newRow("512 bytes with CRLF is a line")
            << QByteArray(max510 + "\r\n") << false << QList<Status>{Status::Line};
        QTest::newRow("513 bytes with CRLF is too long")
            << QByteArray(over511 + "\r\nNOOP\r\n") << false
            << QList<Status>{Status::TooLong, Status::Line};
        QTest::newRow("a 1 MiB line is skipped, the next is read")
            << QByteArray(QByteArray(1 << 20, 'A') + "\r\nNOOP\r\n") << false
            << QList<Status>{Status::TooLong, Status::Line};
        QTest::newRow("bare LF refused")
            << QByteArray("NOOP\nQUIT\r\n") << false << QList<Status>{Status::BareLf, Status::Line};
        QTest::newRow("bare LF normalised")
            << QByteArray("NOOP\nQUIT\r\n") << true << QList<Status>{Status::Line, Status::Line};
        QTest::newRow("bare CR inside a line")
            << QByteArray("NO\rOP\r\n") << false << QList<Status>{Status::BadByte};
        QTest::newRow("NUL inside a line")
            << QByteArray("NO\0OP\r\n", 7) << true << QList<Status>{Status::BadByte};
        QTest::newRow("incomplete line waits") << QByteArray("NOOP\r") << false << QList<Status>{};
    }
    void framing_gives_the_same_lines_for_every_split()
    {
        QFETCH(QByteArray, input);
        QFETCH(bool, normalise);
        QFETCH(QList<Status>, statuses);
        for (const qsizetype chunk : {qsizetype(1), qsizetype(3), qsizetype(511), input.size()}) {
            const Framed f = frame(input, qMax<qsizetype>(chunk, 1), normalise);
            QCOMPARE(f.statuses, statuses);
            QVERIFY(f.leftOver < SmtpCommandParser::kMaxLine);
        }
    }

    void parse_reads_verbs_and_addresses_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<Verb>("verb");
        QTest::addColumn<QByteArray>("address");
        QTest::addColumn<int>("errorCode");

        QTest::newRow("ehlo") << QByteArray("ehlo client.example") << Verb::Ehlo << QByteArray()
                              << 0;
        QTest::newRow("helo without name")
            << QByteArray("HELO") << Verb::Helo << QByteArray() << 501;
        QTest::newRow("mail") << QByteArray("MAIL FROM:<a@b.example>") << Verb::Mail
                              << QByteArray("a@b.example") << 0;
        QTest::newRow("mail null sender")
            << QByteArray("MAIL FROM:<>") << Verb::Mail << QByteArray() << 0;
        QTest::newRow("mail with a space") << QByteArray("mail from: <a@b.example>") << Verb::Mail
                                           << QByteArray("a@b.example") << 0;
        QTest::newRow("mail without brackets")
            << QByteArray("MAIL FROM:a@b.example") << Verb::Mail << QByteArray() << 501;
        QTest::newRow("source route dropped") << QByteArray("RCPT TO:<@relay.example:u@d.example>")
                                              << Verb::Rcpt << QByteArray("u@d.example") << 0;
        QTest::newRow("quoted local part with >")
            << QByteArray("RCPT TO:<\"a>b\"@d.example>") << Verb::Rcpt
            << QByteArray("\"a>b\"@d.example") << 0;
        QTest::newRow("rcpt empty")
            << QByteArray("RCPT TO:<>") << Verb::Rcpt << QByteArray() << 501;
        QTest::newRow("rcpt parameter") << QByteArray("RCPT TO:<u@d.example> NOTIFY=NEVER")
                                        << Verb::Rcpt << QByteArray("u@d.example") << 555;
        QTest::newRow("unknown parameter") << QByteArray("MAIL FROM:<a@b.example> XYZ=1")
                                           << Verb::Mail << QByteArray("a@b.example") << 555;
        QTest::newRow("bad SIZE") << QByteArray("MAIL FROM:<a@b.example> SIZE=12x") << Verb::Mail
                                  << QByteArray("a@b.example") << 501;
        QTest::newRow("BINARYMIME") << QByteArray("MAIL FROM:<a@b.example> BODY=BINARYMIME")
                                    << Verb::Mail << QByteArray("a@b.example") << 504;
        QTest::newRow("path too long")
            << QByteArray("RCPT TO:<" + QByteArray(250, 'a') + "@d.example>") << Verb::Rcpt
            << QByteArray() << 501;
        QTest::newRow("control byte in address")
            << QByteArray("RCPT TO:<a\x01@d.example>") << Verb::Rcpt << QByteArray() << 501;
        QTest::newRow("garbage after path")
            << QByteArray("RCPT TO:<u@d.example>junk") << Verb::Rcpt << QByteArray() << 501;
        QTest::newRow("data with argument")
            << QByteArray("DATA x") << Verb::Data << QByteArray() << 501;
        QTest::newRow("starttls") << QByteArray("STARTTLS") << Verb::StartTls << QByteArray() << 0;
        QTest::newRow("http request")
            << QByteArray("GET / HTTP/1.1") << Verb::Unknown << QByteArray() << 500;
        QTest::newRow("empty line") << QByteArray() << Verb::Unknown << QByteArray() << 500;
    }
    void parse_reads_verbs_and_addresses()
    {
        QFETCH(QByteArray, line);
        QFETCH(Verb, verb);
        QFETCH(QByteArray, address);
        QFETCH(int, errorCode);
        const SmtpCommand cmd = SmtpCommandParser::parse(line);
        QCOMPARE(cmd.verb, verb);
        QCOMPARE(cmd.error.code, errorCode);
        if (errorCode == 0)
            QCOMPARE(cmd.address, address);
        else
            QVERIFY(!cmd.error.status.isEmpty());
    }

    void every_verb_is_known_in_any_case_and_nothing_close_to_one_is_data()
    {
        QTest::addColumn<QByteArray>("word");
        QTest::addColumn<Verb>("verb");
        const QList<std::pair<QByteArray, Verb>> verbs = {
            {"HELO", Verb::Helo}, {"EHLO", Verb::Ehlo}, {"MAIL", Verb::Mail},
            {"RCPT", Verb::Rcpt}, {"DATA", Verb::Data}, {"RSET", Verb::Rset},
            {"NOOP", Verb::Noop}, {"QUIT", Verb::Quit}, {"VRFY", Verb::Vrfy},
            {"EXPN", Verb::Expn}, {"HELP", Verb::Help}, {"STARTTLS", Verb::StartTls},
            {"AUTH", Verb::Auth}, {"BDAT", Verb::Bdat}};
        for (const auto &[name, verb] : verbs) {
            QTest::newRow(name.constData()) << name << verb;
            QTest::newRow(name.toLower().constData()) << name.toLower() << verb;
            QByteArray mixed = name.toLower();
            mixed[1] = name[1];
            QTest::newRow(mixed.constData()) << mixed << verb;
            QTest::newRow(QByteArray(name + "X").constData())
                << QByteArray(name + "X") << Verb::Unknown;
            QTest::newRow(name.chopped(1).constData()) << name.chopped(1) << Verb::Unknown;
        }
        // Bytes that upper-case to nothing in ASCII, and near misses
        QTest::newRow("MAI\\xc3") << QByteArray("MAI\xc3") << Verb::Unknown;
        QTest::newRow("M@IL") << QByteArray("M@IL") << Verb::Unknown;
        QTest::newRow("STARTTLs") << QByteArray("STARTTLs") << Verb::StartTls;
        QTest::newRow("STARTTLZ") << QByteArray("STARTTLZ") << Verb::Unknown;
        QTest::newRow("empty") << QByteArray() << Verb::Unknown;
    }
    void every_verb_is_known_in_any_case_and_nothing_close_to_one_is()
    {
        QFETCH(QByteArray, word);
        QFETCH(Verb, verb);
        QCOMPARE(SmtpCommandParser::parse(word).verb, verb);
        QCOMPARE(SmtpCommandParser::parse(QByteArray(word + " x")).verb, verb);
    }

    void parse_reads_mail_parameters()
    {
        const SmtpCommand cmd = SmtpCommandParser::parse(
            "MAIL FROM:<j\xc3\xb6rg@b.example> SIZE=12345 BODY=8BITMIME SMTPUTF8");
        QVERIFY(cmd.ok());
        QCOMPARE(cmd.size, 12345);
        QCOMPARE(cmd.body, SmtpCommand::Body::EightBitMime);
        QVERIFY(cmd.smtpUtf8);
        QVERIFY(cmd.eightBitPath);
    }

    void reply_format_puts_the_enhanced_code_on_every_line()
    {
        const SmtpReply r = SmtpReply::make(250, "2.0.0", "first\nlast");
        QCOMPARE(r.format(true), QByteArray("250-2.0.0 first\r\n250 2.0.0 last\r\n"));
        QCOMPARE(r.format(false), QByteArray("250-first\r\n250 last\r\n"));
        // Hostile text cannot add a line of its own.
        QCOMPARE(SmtpReply::make(550, "", "a\rb\x00").format(true),
                 QByteArray("550 5.0.0 a?b\r\n"));
    }
};

QTEST_GUILESS_MAIN(TestSmtpCommandParser)
#include "tst_smtp_command_parser.moc"
