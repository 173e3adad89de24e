// SPDX-License-Identifier: GPL-3.0-or-later
// The policy protocol parser: Postfix's real requests, pipelined, split at every byte, and
// hostile input rejected with a clear error and bounded memory.

#include "greylist/ControlBytes.h"
#include "policyd/PolicyRequestParser.h"

#include <QRandomGenerator>
#include <QTest>
#include <algorithm>

using namespace greygate;

namespace {

// A request as Postfix 3.7's smtpd sends it at RCPT (SMTPD_POLICY_README), attribute order
// and all.
const QByteArray RealRcpt = QByteArrayLiteral("request=smtpd_access_policy\n"
                                              "protocol_state=RCPT\n"
                                              "protocol_name=ESMTP\n"
                                              "client_address=192.0.2.10\n"
                                              "client_name=mail.sender.example\n"
                                              "client_port=41234\n"
                                              "reverse_client_name=mail.sender.example\n"
                                              "server_address=127.0.0.1\n"
                                              "server_port=25\n"
                                              "helo_name=mail.sender.example\n"
                                              "sender=alice@sender.example\n"
                                              "recipient=bob@example.test\n"
                                              "recipient_count=0\n"
                                              "queue_id=\n"
                                              "instance=1a2b.656f1e2c.9d4a.0\n"
                                              "size=0\n"
                                              "etrn_domain=\n"
                                              "stress=\n"
                                              "sasl_method=\n"
                                              "sasl_username=\n"
                                              "sasl_sender=\n"
                                              "ccert_subject=\n"
                                              "ccert_issuer=\n"
                                              "ccert_fingerprint=\n"
                                              "ccert_pubkey_fingerprint=\n"
                                              "encryption_protocol=TLSv1.3\n"
                                              "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
                                              "encryption_keysize=256\n"
                                              "policy_context=\n"
                                              "compatibility_level=3.6\n"
                                              "mail_version=3.7.11\n"
                                              "\n");

const QByteArray NullSenderData = QByteArrayLiteral("request=smtpd_access_policy\n"
                                                    "protocol_state=DATA\n"
                                                    "client_address=2001:db8::1\n"
                                                    "sender=\n"
                                                    "recipient=postmaster@example.test\n"
                                                    "\n");

struct Parsed
{
    QList<PolicyRequest> requests;
    QByteArray error;
};

// Feeds `input` in chunks of the given sizes (the rest in one go) and collects everything.
Parsed parseInChunks(const QByteArray &input, qsizetype chunk,
                     const PolicyRequestParser::Limits &limits = {})
{
    PolicyRequestParser parser(limits);
    Parsed out;
    for (qsizetype at = 0; at < input.size(); at += chunk) {
        QByteArrayView view = QByteArrayView(input).sliced(at, std::min(chunk, input.size() - at));
        for (int guard = 0; guard < 10'000; ++guard) {
            const auto status = parser.next(view);
            if (status == PolicyRequestParser::Status::Request) {
                out.requests.append(parser.request());
                continue;
            }
            if (status == PolicyRequestParser::Status::Error) {
                out.error = parser.errorString();
                return out;
            }
            break;
        }
        if (!view.isEmpty()) {
            out.error = "parser left bytes unconsumed";
            return out;
        }
    }
    return out;
}

} // namespace

class PolicyRequestParserTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void realPostfixRequestsAreParsed_data();
    void realPostfixRequestsAreParsed();
    void pipelinedRequestsComeOutInOrderWhereverTheInputIsSplit();
    void oneByteAtATimeGivesTheSameRequests();
    void hostileInputIsAProtocolErrorWithAClearMessage_data();
    void hostileInputIsAProtocolErrorWithAClearMessage();
    void overlongLineIsRejectedBeforeItsEndArrives();
    void failedParserStaysFailed();
    void fieldsOfTheLastRequestDoNotLeakIntoTheNext();
    void firstControlByteIsTheFirstOfAnyKindAtAnyOffset();
    void containsAsciiUpperSeesOnlyAsciiCapitalsAtAnyOffset();
    void copyLoweredAsciiLowersOnlyAsciiCapitals();
    void linesWithTabsReturnsOrControlBytesReadAsByteByByte();
};

void PolicyRequestParserTest::realPostfixRequestsAreParsed_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("state");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<bool>("hasSender");
    QTest::addColumn<QByteArray>("recipient");
    QTest::addColumn<QByteArray>("instance");
    QTest::addColumn<int>("attributes");

    QTest::newRow("postfix 3.7 RCPT")
        << RealRcpt << QByteArray("RCPT") << QByteArray("192.0.2.10")
        << QByteArray("alice@sender.example") << true << QByteArray("bob@example.test")
        << QByteArray("1a2b.656f1e2c.9d4a.0") << 31;
    QTest::newRow("null sender at DATA, IPv6")
        << NullSenderData << QByteArray("DATA") << QByteArray("2001:db8::1") << QByteArray() << true
        << QByteArray("postmaster@example.test") << QByteArray() << 5;
    QTest::newRow("CRLF line ends tolerated")
        << QByteArray("request=smtpd_access_policy\r\nprotocol_state=RCPT\r\nclient_address=192.0."
                      "2.1\r\nrecipient=a@b\r\n\r\n")
        << QByteArray("RCPT") << QByteArray("192.0.2.1") << QByteArray() << false
        << QByteArray("a@b") << QByteArray() << 4;
    QTest::newRow("value containing '=' and UTF-8")
        << QByteArray("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a=b@\xc3\xa9x."
                      "example\n\n")
        << QByteArray("RCPT") << QByteArray() << QByteArray("a=b@\xc3\xa9x.example") << true
        << QByteArray() << QByteArray() << 3;
}

void PolicyRequestParserTest::realPostfixRequestsAreParsed()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, state);
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, sender);
    QFETCH(bool, hasSender);
    QFETCH(QByteArray, recipient);
    QFETCH(QByteArray, instance);
    QFETCH(int, attributes);

    const Parsed parsed = parseInChunks(input, input.size());
    QVERIFY2(parsed.error.isEmpty(), parsed.error.constData());
    QCOMPARE(parsed.requests.size(), 1);
    const PolicyRequest &r = parsed.requests.first();
    QCOMPARE(r.request, QByteArray("smtpd_access_policy"));
    QCOMPARE(r.protocolState, state);
    QCOMPARE(r.clientAddress, client);
    QCOMPARE(r.sender, sender);
    QCOMPARE(r.has(PolicyRequest::Sender), hasSender);
    QCOMPARE(r.recipient, recipient);
    QCOMPARE(r.instance, instance);
    QCOMPARE(r.attributeCount, attributes);
}

void PolicyRequestParserTest::pipelinedRequestsComeOutInOrderWhereverTheInputIsSplit()
{
    const QByteArray input = RealRcpt + NullSenderData + RealRcpt;
    // Split into two pieces at every byte position.
    for (qsizetype split = 1; split < input.size(); ++split) {
        PolicyRequestParser parser;
        QList<QByteArray> states;
        for (QByteArrayView part :
             {QByteArrayView(input).first(split), QByteArrayView(input).sliced(split)}) {
            for (int guard = 0; guard < 100; ++guard) {
                const auto status = parser.next(part);
                QVERIFY2(status != PolicyRequestParser::Status::Error,
                         parser.errorString().constData());
                if (status == PolicyRequestParser::Status::NeedMore)
                    break;
                states.append(parser.request().protocolState + '/' +
                              parser.request().clientAddress);
            }
            QVERIFY(part.isEmpty());
        }
        QCOMPARE(states,
                 (QList<QByteArray>{"RCPT/192.0.2.10", "DATA/2001:db8::1", "RCPT/192.0.2.10"}));
        QVERIFY(!parser.inRequest());
    }
}

void PolicyRequestParserTest::oneByteAtATimeGivesTheSameRequests()
{
    const QByteArray input = RealRcpt + NullSenderData;
    const Parsed whole = parseInChunks(input, input.size());
    const Parsed bytes = parseInChunks(input, 1);
    QVERIFY2(bytes.error.isEmpty(), bytes.error.constData());
    QCOMPARE(bytes.requests.size(), 2);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(bytes.requests[i].recipient, whole.requests[i].recipient);
        QCOMPARE(bytes.requests[i].sender, whole.requests[i].sender);
        QCOMPARE(bytes.requests[i].instance, whole.requests[i].instance);
        QCOMPARE(bytes.requests[i].present, whole.requests[i].present);
    }
}

void PolicyRequestParserTest::hostileInputIsAProtocolErrorWithAClearMessage_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expectedError");
    QTest::addColumn<int>("requestsBefore");

    QTest::newRow("NUL byte") << QByteArray("request=smtpd_access_policy\nsender=a\0b\n\n", 40)
                              << QByteArray("control byte 0x00") << 0;
    QTest::newRow("line without '='")
        << QByteArray("request=smtpd_access_policy\nHELO example\n\n") << QByteArray("no '='") << 0;
    QTest::newRow("empty attribute name")
        << QByteArray("=value\n\n") << QByteArray("empty attribute name") << 0;
    QTest::newRow("empty line first")
        << QByteArray("\n") << QByteArray("empty line before any attribute") << 0;
    QTest::newRow("escape sequence")
        << QByteArray("sender=\x1b[2J\n\n") << QByteArray("control byte 0x1b") << 0;
    QTest::newRow("DEL byte") << QByteArray("sender=a\x7f\n\n") << QByteArray("DEL byte") << 0;
    QTest::newRow("binary junk after a good request")
        << RealRcpt + QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", 12)
        << QByteArray("control byte 0x16") << 1;
    QTest::newRow("over-long line") << QByteArray("sender=" + QByteArray(8200, 'a') + "\n\n")
                                    << QByteArray("longer than 8192 bytes") << 0;
    QByteArray manyAttributes;
    for (int i = 0; i < 257; ++i)
        manyAttributes += "x" + QByteArray::number(i) + "=1\n";
    QTest::newRow("too many attributes") << manyAttributes + "\n"
                                         << QByteArray("more than 256 attributes") << 0;
    QByteArray bigRequest;
    for (int i = 0; i < 20; ++i)
        bigRequest += "x" + QByteArray::number(i) + "=" + QByteArray(4000, 'v') + "\n";
    QTest::newRow("over-long request") << bigRequest + "\n"
                                       << QByteArray("request longer than 65536 bytes") << 0;
}

void PolicyRequestParserTest::hostileInputIsAProtocolErrorWithAClearMessage()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expectedError);
    QFETCH(int, requestsBefore);

    for (qsizetype chunk : {input.size(), qsizetype(1), qsizetype(7)}) {
        const Parsed parsed = parseInChunks(input, chunk);
        QVERIFY2(parsed.error.contains(expectedError),
                 (u"chunk " + QString::number(chunk) + u": " + QString::fromLatin1(parsed.error))
                     .toUtf8()
                     .constData());
        QCOMPARE(parsed.requests.size(), requestsBefore);
    }
}

void PolicyRequestParserTest::overlongLineIsRejectedBeforeItsEndArrives()
{
    PolicyRequestParser parser;
    const QByteArray chunk(1024, 'a');
    auto status = PolicyRequestParser::Status::NeedMore;
    int fed = 0;
    // Without a newline, ever: the parser must give up after about one line's worth.
    for (; fed < 100 && status == PolicyRequestParser::Status::NeedMore; ++fed) {
        QByteArrayView view(chunk);
        status = parser.next(view);
    }
    QCOMPARE(status, PolicyRequestParser::Status::Error);
    QVERIFY(fed <= 9);
    QVERIFY(parser.errorString().contains("longer than 8192 bytes"));
}

void PolicyRequestParserTest::failedParserStaysFailed()
{
    PolicyRequestParser parser;
    QByteArrayView junk("junk\n");
    QCOMPARE(parser.next(junk), PolicyRequestParser::Status::Error);
    QByteArrayView good(RealRcpt);
    QCOMPARE(parser.next(good), PolicyRequestParser::Status::Error);
    QVERIFY(parser.failed());
}

void PolicyRequestParserTest::fieldsOfTheLastRequestDoNotLeakIntoTheNext()
{
    const QByteArray input =
        RealRcpt + QByteArray("request=smtpd_access_policy\nprotocol_state=RCPT\n\n");
    const Parsed parsed = parseInChunks(input, input.size());
    QCOMPARE(parsed.requests.size(), 2);
    const PolicyRequest &second = parsed.requests[1];
    QVERIFY(second.recipient.isEmpty());
    QVERIFY(second.instance.isEmpty());
    QVERIFY(!second.has(PolicyRequest::Sender));
    QVERIFY(!second.has(PolicyRequest::ClientAddress));
    QCOMPARE(second.attributeCount, 2);
}

void PolicyRequestParserTest::firstControlByteIsTheFirstOfAnyKindAtAnyOffset()
{
    // The parser finds a line's end with the word-at-a-time scan: it must name the first
    // control byte (< 0x20 or DEL) exactly, whatever precedes or follows it in its word
    // (bytes >= 0x80, 0x20, 0x7e, other control bytes that borrow).
    const auto reference = [](QByteArrayView v) -> qsizetype {
        for (qsizetype i = 0; i < v.size(); ++i) {
            const auto c = uchar(v[i]);
            if (c < 0x20 || c == 0x7f)
                return i;
        }
        return -1;
    };
    const char alphabet[] = {'a',  ' ',    '~',    '\x7f', '\x80', '\xff', '\0', '\n',
                             '\t', '\x1f', '\x20', '\x21', '\x7e', '\x9f', 'Z',  '='};
    QRandomGenerator rng(20261126);
    for (int round = 0; round < 20000; ++round) {
        QByteArray text(int(rng.bounded(40)), 'x');
        for (char &c : text)
            c = rng.bounded(4) == 0 ? alphabet[rng.bounded(int(sizeof alphabet))] : 'x';
        QCOMPARE(firstControlByte(text), reference(text));
    }
    QCOMPARE(firstControlByte(QByteArrayView()), qsizetype(-1));
    QCOMPARE(firstControlByte("0123456789abcdef\x7f\n"), qsizetype(16));
}

void PolicyRequestParserTest::containsAsciiUpperSeesOnlyAsciiCapitalsAtAnyOffset()
{
    // Whether a sender needs lowering: 'A'..'Z' only, never '@', '[', bytes >= 0x80 (0xc1 is
    // 'A' + 0x80), in the 16-byte steps and the tail alike.
    const char alphabet[] = {'A', 'Z', '@', '[', '\xc1', '\xda', '\x80', 'a', 'z', '\0'};
    QRandomGenerator rng(20261127);
    for (int round = 0; round < 20000; ++round) {
        QByteArray text(int(rng.bounded(60)), 'x');
        for (char &c : text)
            c = rng.bounded(8) == 0 ? alphabet[rng.bounded(int(sizeof alphabet))] : 'x';
        const bool expected =
            std::any_of(text.cbegin(), text.cend(), [](char c) { return c >= 'A' && c <= 'Z'; });
        QCOMPARE(containsAsciiUpper(text), expected);
    }
    QVERIFY(!containsAsciiUpper(QByteArrayView()));
    QVERIFY(containsAsciiUpper("0123456789abcdefZ"));
}

void PolicyRequestParserTest::copyLoweredAsciiLowersOnlyAsciiCapitals()
{
    // The normaliser lowers every sender and recipient with it: against QByteArray::toLower
    // (ASCII only in Qt 6) at every length around the 16-byte steps, bytes >= 0x80 kept.
    const char alphabet[] = {'A', 'Z', '@', '[', '`', '{', '\xc1', '\xda', '\x80', 'a', 'z', '\0'};
    QRandomGenerator rng(20261128);
    for (int round = 0; round < 20000; ++round) {
        QByteArray text(int(rng.bounded(70)), 'x');
        for (char &c : text)
            c = rng.bounded(3) == 0 ? alphabet[rng.bounded(int(sizeof alphabet))] : 'M';
        QByteArray out(text.size(), '?');
        copyLoweredAscii(text, out.data());
        QCOMPARE(out, text.toLower());
        QCOMPARE(lastIndexOfByte(text, '@'), text.lastIndexOf('@'));
    }
    QCOMPARE(lastIndexOfByte(QByteArrayView(), '@'), qsizetype(-1));
}

void PolicyRequestParserTest::linesWithTabsReturnsOrControlBytesReadAsByteByByte()
{
    // Whole lines take the parser's fast path, lines split anywhere the general one: a tab
    // or a CR (let through), a control byte (an error) must read the same in both.
    const QList<QByteArray> inputs = {
        QByteArray("request=smtpd_access_policy\r\nsender=a\tb\nrecipient=c@d\n\n"),
        QByteArray("request=smtpd_access_policy\nsender=a\x01"
                   "b@example.org\n\n"),
        QByteArray("request=smtpd_access_policy\nsender=0123456789\x7f\n\n"),
        QByteArray("request=smtpd_access_policy\nrecipient=x\n\r\n"),
    };
    for (const QByteArray &input : inputs) {
        const Parsed whole = parseInChunks(input, input.size());
        const Parsed bytes = parseInChunks(input, 1);
        QCOMPARE(whole.error, bytes.error);
        QCOMPARE(whole.requests.size(), bytes.requests.size());
        for (qsizetype i = 0; i < whole.requests.size(); ++i) {
            QCOMPARE(whole.requests[i].sender, bytes.requests[i].sender);
            QCOMPARE(whole.requests[i].request, bytes.requests[i].request);
        }
    }
    QCOMPARE(parseInChunks(inputs[0], inputs[0].size()).requests.value(0).sender,
             QByteArray("a\tb"));
    QVERIFY(parseInChunks(inputs[1], inputs[1].size()).error.contains("control byte 0x01"));
}

QTEST_GUILESS_MAIN(PolicyRequestParserTest)
#include "tst_policy_request_parser.moc"
