// SPDX-License-Identifier: GPL-3.0-or-later
// The proxy's small wire formats: Postfix actions mapped to SMTP replies, the header From
// address, backend replies (multi-line, enhanced codes, hostile ones), the PROXY protocol
// headers and XCLIENT's xtext.

#include "smtp/BackendSession.h"
#include "smtp/HeaderFrom.h"
#include "smtp/PolicyHandlerDecider.h"
#include "smtp/SmtpReplyParser.h"

#include <QTest>

using namespace greygate;
using Kind = SmtpVerdict::Kind;

Q_DECLARE_METATYPE(SmtpVerdict::Kind)

class TestSmtpWireFormats : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void actions_map_to_smtp_replies_data()
    {
        QTest::addColumn<QByteArray>("action");
        QTest::addColumn<Kind>("kind");
        QTest::addColumn<QByteArray>("wire"); // the reply with enhanced codes, or the header
        QTest::newRow("defer") << QByteArray("DEFER_IF_PERMIT Greylisted, try in 60 seconds")
                               << Kind::Defer
                               << QByteArray("451 4.7.1 Greylisted, try in 60 seconds\r\n");
        QTest::newRow("defer with --greylist-code")
            << QByteArray("DEFER_IF_PERMIT 4.2.0 Greylisted") << Kind::Defer
            << QByteArray("451 4.2.0 Greylisted\r\n");
        QTest::newRow("reject") << QByteArray("REJECT 5.7.1 Sender blocked by policy")
                                << Kind::Reject
                                << QByteArray("550 5.7.1 Sender blocked by policy\r\n");
        QTest::newRow("prepend") << QByteArray("PREPEND X-Greylist: delayed 61 seconds")
                                 << Kind::Accept << QByteArray("X-Greylist: delayed 61 seconds");
        QTest::newRow("dunno") << QByteArray("DUNNO") << Kind::Accept << QByteArray();
        QTest::newRow("refused request") << QByteArray() << Kind::TempFail
                                         << QByteArray("451 4.3.0 Cannot decide for this "
                                                       "recipient now\r\n");
    }
    void actions_map_to_smtp_replies()
    {
        QFETCH(QByteArray, action);
        QFETCH(Kind, kind);
        QFETCH(QByteArray, wire);
        const SmtpVerdict v = PolicyHandlerDecider::verdictFor(action);
        QCOMPARE(v.kind, kind);
        if (kind == Kind::Accept)
            QCOMPARE(v.header, wire);
        else
            QCOMPARE(v.reply.format(true), wire);
    }

    void header_from_address_data()
    {
        QTest::addColumn<QByteArray>("headers");
        QTest::addColumn<QByteArray>("address");
        QTest::newRow("display name") << QByteArray("Subject: x\r\nFrom: A <a@b.example>\r\n\r\n")
                                      << QByteArray("a@b.example");
        QTest::newRow("bare") << QByteArray("from: a@b.example\r\n\r\n")
                              << QByteArray("a@b.example");
        QTest::newRow("folded") << QByteArray("From: A\r\n\t<a@b.example>\r\n\r\n")
                                << QByteArray("a@b.example");
        QTest::newRow("first of a list")
            << QByteArray("From: a@b.example, c@d.example\r\n\r\n") << QByteArray("a@b.example");
        QTest::newRow("only in the body")
            << QByteArray("Subject: x\r\n\r\nFrom: a@b.example\r\n") << QByteArray();
        QTest::newRow("none") << QByteArray("From: undisclosed\r\n\r\n") << QByteArray();
    }
    void header_from_address()
    {
        QFETCH(QByteArray, headers);
        QFETCH(QByteArray, address);
        QCOMPARE(HeaderFrom::address(headers), address);
    }

    void backend_replies_are_parsed_and_bounded()
    {
        SmtpReplyParser parser;
        QByteArray in = "250-backend.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n550 5.1.1 No";
        SmtpReply reply;
        QList<QByteArray> lines;
        QCOMPARE(parser.take(&in, &reply, &lines), SmtpReplyParser::Status::Reply);
        QCOMPARE(reply.code, 250);
        QCOMPARE(lines, (QList<QByteArray>{"backend.test", "PIPELINING", "SIZE 1000"}));
        QCOMPARE(parser.take(&in, &reply, &lines), SmtpReplyParser::Status::NeedMore);
        in.append(" such user\r\n");
        QCOMPARE(parser.take(&in, &reply, &lines), SmtpReplyParser::Status::Reply);
        QCOMPARE(reply.status, QByteArray("5.1.1"));
        QCOMPARE(reply.format(true), QByteArray("550 5.1.1 No such user\r\n"));

        for (const QByteArray &bad :
             {QByteArray("250-a\r\n354 b\r\n"), QByteArray("hello\r\n"), QByteArray(3000, '2')}) {
            SmtpReplyParser fresh;
            QByteArray copy = bad;
            QCOMPARE(fresh.take(&copy, &reply, &lines), SmtpReplyParser::Status::Error);
        }
    }

    void proxy_protocol_headers_and_xtext()
    {
        BackendSession::Client c;
        c.address = QHostAddress(QStringLiteral("::ffff:192.0.2.1"));
        c.port = 40000;
        c.localAddress = QHostAddress(QStringLiteral("198.51.100.2"));
        c.localPort = 25;
        QCOMPARE(BackendSession::proxyV1(c),
                 QByteArray("PROXY TCP4 192.0.2.1 198.51.100.2 40000 25\r\n"));
        const QByteArray v2 = BackendSession::proxyV2(c);
        QCOMPARE(v2.size(), 16 + 12);
        QCOMPARE(v2.mid(12, 4), QByteArray("\x21\x11\x00\x0c", 4));
        QCOMPARE(v2.mid(16, 4), QByteArray("\xc0\x00\x02\x01", 4));
        QCOMPARE(v2.mid(24, 2), QByteArray("\x9c\x40", 2));
        QCOMPARE(BackendSession::proxyV1(BackendSession::Client{}),
                 QByteArray("PROXY UNKNOWN\r\n"));
        QCOMPARE(BackendSession::xtext("a b+c=d\xff"), QByteArray("a+20b+2Bc+3Dd+FF"));
    }

    void restuffing_doubles_every_leading_dot_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QByteArray>("stuffed");
        QTest::newRow("no dot") << QByteArray("a\r\nb\r\n") << QByteArray("a\r\nb\r\n");
        QTest::newRow("first line") << QByteArray(".a\r\nb\r\n") << QByteArray("..a\r\nb\r\n");
        QTest::newRow("last line") << QByteArray("a\r\n.b\r\n") << QByteArray("a\r\n..b\r\n");
        QTest::newRow("a lone dot")
            << QByteArray("a\r\n.\r\nb\r\n") << QByteArray("a\r\n..\r\nb\r\n");
        QTest::newRow("consecutive")
            << QByteArray(".\r\n..\r\n.x\r\n") << QByteArray("..\r\n...\r\n..x\r\n");
        QTest::newRow("dot inside a line")
            << QByteArray("a.b\r\n x.\r\n") << QByteArray("a.b\r\n x.\r\n");
        QTest::newRow("empty lines") << QByteArray("\r\n\r\n.\r\n") << QByteArray("\r\n\r\n..\r\n");
        QTest::newRow("empty") << QByteArray() << QByteArray();
    }

    void restuffing_doubles_every_leading_dot()
    {
        QFETCH(QByteArray, content);
        QFETCH(QByteArray, stuffed);
        QByteArray out("held\r\n"); // appended to what is already queued
        BackendSession::stuffInto(out, content);
        QCOMPARE(out, QByteArray("held\r\n" + stuffed));
    }
};

QTEST_GUILESS_MAIN(TestSmtpWireFormats)
#include "tst_smtp_wire_formats.moc"
