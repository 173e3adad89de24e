// SPDX-License-Identifier: GPL-3.0-or-later
// The metrics port's request head parser: what it accepts, what it refuses with which
// status, and the same outcome however the bytes are split.
#include "control/HttpRequestParser.h"

#include <QTest>

using namespace greygate;

class HttpRequestParserTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesARequestHead_data();
    void parsesARequestHead();
    void refusesMalformedHeads_data();
    void refusesMalformedHeads();
    void waitsForTheEndOfTheHead();
    void boundsTheHeadAt8KiB();
};

void HttpRequestParserTest::parsesARequestHead_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::newRow("prometheus") << QByteArray("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\n"
                                              "User-Agent: Prometheus/2.45\r\nAccept: text/plain"
                                              "\r\n\r\n")
                                << QByteArray("GET") << QByteArray("/metrics");
    QTest::newRow("http/1.0 without host") << QByteArray("GET /healthz HTTP/1.0\r\n\r\n")
                                           << QByteArray("GET") << QByteArray("/healthz");
    QTest::newRow("bare line feeds") << QByteArray("GET /healthz HTTP/1.1\nHost: x\n\n")
                                     << QByteArray("GET") << QByteArray("/healthz");
    QTest::newRow("query string") << QByteArray("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                                  << QByteArray("GET") << QByteArray("/metrics");
    QTest::newRow("another method") << QByteArray("POST /metrics HTTP/1.1\r\nHost: x\r\n"
                                                  "Content-Length: 0\r\n\r\n")
                                    << QByteArray("POST") << QByteArray("/metrics");
    QTest::newRow("bytes after the head are ignored")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n") << QByteArray("GET")
        << QByteArray("/");
}

void HttpRequestParserTest::parsesARequestHead()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    for (qsizetype chunk : {input.size(), qsizetype(1), qsizetype(7)}) {
        HttpRequestParser p;
        HttpRequestParser::Status status = HttpRequestParser::Status::NeedMore;
        for (qsizetype at = 0; at < input.size(); at += chunk)
            status = p.feed(QByteArrayView(input).sliced(at, qMin(chunk, input.size() - at)));
        QCOMPARE(status, HttpRequestParser::Status::Complete);
        QCOMPARE(p.method(), method);
        QCOMPARE(p.path(), path);
    }
}

void HttpRequestParserTest::refusesMalformedHeads_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("status");
    QTest::newRow("no version") << QByteArray("GET /metrics\r\n\r\n") << 400;
    QTest::newRow("empty line first") << QByteArray("\r\n\r\n") << 400;
    QTest::newRow("absolute url") << QByteArray("GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                                  << 400;
    QTest::newRow("two spaces") << QByteArray("GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QTest::newRow("http/2") << QByteArray("GET / HTTP/2.0\r\nHost: x\r\n\r\n") << 505;
    QTest::newRow("not http") << QByteArray("GET / SPDY/3\r\n\r\n") << 400;
    QTest::newRow("missing host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("two hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400;
    QTest::newRow("header without colon") << QByteArray("GET / HTTP/1.1\r\nHost x\r\n\r\n") << 400;
    QTest::newRow("space in header name")
        << QByteArray("GET / HTTP/1.1\r\nHost : x\r\n\r\n") << 400;
    QTest::newRow("folded header")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n") << 400;
    QTest::newRow("control byte in value")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\x01y\r\n\r\n") << 400;
    QTest::newRow("nul in target")
        << (QByteArray("GET /a") + '\0' + QByteArray("b HTTP/1.1\r\nHost: x\r\n\r\n")) << 400;
    QTest::newRow("body") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
                          << 400;
    QTest::newRow("chunked")
        << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n") << 400;
    QTest::newRow("method too long")
        << (QByteArray(40, 'G') + " / HTTP/1.1\r\nHost: x\r\n\r\n") << 400;
    QByteArray many("GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 100; ++i)
        many += "X-" + QByteArray::number(i) + ": y\r\n";
    QTest::newRow("too many headers") << (many + "\r\n") << 431;
}

void HttpRequestParserTest::refusesMalformedHeads()
{
    QFETCH(QByteArray, input);
    QFETCH(int, status);
    for (qsizetype chunk : {input.size(), qsizetype(1)}) {
        HttpRequestParser p;
        HttpRequestParser::Status s = HttpRequestParser::Status::NeedMore;
        for (qsizetype at = 0; at < input.size(); at += chunk)
            s = p.feed(QByteArrayView(input).sliced(at, qMin(chunk, input.size() - at)));
        QCOMPARE(s, HttpRequestParser::Status::Error);
        QCOMPARE(p.errorStatus(), status);
        QVERIFY(!p.errorString().isEmpty());
    }
}

void HttpRequestParserTest::waitsForTheEndOfTheHead()
{
    HttpRequestParser p;
    QCOMPARE(p.feed("GET /metrics HTTP/1.1\r\nHost: x\r\n"), HttpRequestParser::Status::NeedMore);
    QCOMPARE(p.feed("\r"), HttpRequestParser::Status::NeedMore);
    QCOMPARE(p.feed("\n"), HttpRequestParser::Status::Complete);
    // Later bytes change nothing.
    QCOMPARE(p.feed("garbage"), HttpRequestParser::Status::Complete);
}

void HttpRequestParserTest::boundsTheHeadAt8KiB()
{
    const QByteArray start("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
    const QByteArray end("\r\n\r\n");
    const qsizetype fits = HttpRequestParser::kMaxHeadBytes - start.size() - end.size() + 2;
    HttpRequestParser ok;
    QCOMPARE(ok.feed(QByteArray(start + QByteArray(fits, 'a') + end)),
             HttpRequestParser::Status::Complete);

    HttpRequestParser over;
    QCOMPARE(over.feed(QByteArray(start + QByteArray(fits + 1, 'a') + end)),
             HttpRequestParser::Status::Error);
    QCOMPARE(over.errorStatus(), 431);

    // An endless header is refused once past the bound, without waiting for its end.
    HttpRequestParser endless;
    HttpRequestParser::Status s = endless.feed(start);
    for (int i = 0; i < 100 && s == HttpRequestParser::Status::NeedMore; ++i)
        s = endless.feed(QByteArray(1000, 'a'));
    QCOMPARE(s, HttpRequestParser::Status::Error);
    QCOMPARE(endless.errorStatus(), 431);
}

QTEST_GUILESS_MAIN(HttpRequestParserTest)
#include "tst_http_request_parser.moc"
