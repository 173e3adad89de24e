// SPDX-License-Identifier: GPL-3.0-or-later
// The metrics port over a real loopback socket: GET /metrics in the Prometheus text format
// with the proxy's real figures, GET /healthz, and hostile requests (wrong method, unknown
// path, garbage, an oversized head, a head that never ends, a connection flood), each
// answered or closed while the server keeps serving.
#include "ControlTestProxy.h"
#include "control/MetricsRenderer.h"
#include "control/MetricsServer.h"

#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>

using namespace greygate;
using namespace greygate::test;

namespace {

struct Answer
{
    int status = 0; // 0: closed without an answer
    QByteArray head;
    QByteArray body;
};

// Sends bytes and reads until the server closes (bounded).
Answer exchange(quint16 port, const QByteArray &request, int timeoutMs = 5000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    Answer a;
    if (!socket.waitForConnected(timeoutMs))
        return a;
    socket.write(request);
    QByteArray all;
    bool closed = false;
    QObject::connect(&socket, &QTcpSocket::disconnected, [&] { closed = true; });
    QObject::connect(&socket, &QTcpSocket::readyRead, [&] { all += socket.readAll(); });
    if (!QTest::qWaitFor(
            [&] { return closed || socket.state() == QAbstractSocket::UnconnectedState; },
            timeoutMs))
        return a;
    all += socket.readAll();
    const qsizetype end = all.indexOf("\r\n\r\n");
    if (!all.startsWith("HTTP/1.1 ") || end < 0)
        return a;
    a.status = all.mid(9, 3).toInt();
    a.head = all.first(end);
    a.body = all.mid(end + 4);
    return a;
}

} // namespace

class MetricsServerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void servesThePrometheusTextFormat();
    void healthzTellsTheStoreState();
    void refusesWhatIsNotAGet_data();
    void refusesWhatIsNotAGet();
    void aHeadThatNeverEndsTimesOut();
    void aFloodOfConnectionsIsBounded();

private:
    std::unique_ptr<ControlTestProxy> m_proxy;
    std::unique_ptr<MetricsServer> m_server;
    bool m_healthy = true;
};

void MetricsServerTest::init()
{
    m_proxy = std::make_unique<ControlTestProxy>();
    QVERIFY2(m_proxy->ok, qPrintable(m_proxy->startError));
    MetricsServer::Options o;
    o.requestTimeoutMs = 1000; // long enough to see the flood held, short for the test
    o.maxConnections = 4;
    m_healthy = true;
    m_server = std::make_unique<MetricsServer>(
        o,
        [this] {
            MetricsRenderer::Inputs in;
            in.engine = m_proxy->engine.get();
            in.handler = m_proxy->handler.get();
            in.events = &m_proxy->events;
            in.uptimeSeconds = 42;
            return MetricsRenderer::render(in);
        },
        [this] { return m_healthy; });
    QString error;
    QVERIFY2(m_server->start(&error), qPrintable(error));
}

void MetricsServerTest::cleanup()
{
    m_server.reset();
    m_proxy.reset();
}

void MetricsServerTest::servesThePrometheusTextFormat()
{
    ControlTestProxy &p = *m_proxy;
    QVERIFY(p.decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));
    QVERIFY(p.decide("198.51.100.1", "x@y.example", "c@corp.example").startsWith("DEFER"));
    p.clock.advanceSeconds(p.config.delay + 1);
    QVERIFY(!p.decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));

    const Answer a =
        exchange(m_server->serverPort(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QCOMPARE(a.status, 200);
    QVERIFY2(a.head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
             a.head.constData());
    QVERIFY(a.head.contains("Connection: close"));
    QVERIFY(a.head.contains(QByteArray("Content-Length: " + QByteArray::number(a.body.size()))));
    const QByteArray &m = a.body;
    QVERIFY2(m.contains("\ngreygate_decisions_total{verdict=\"deferred\"} 2\n"), m.constData());
    QVERIFY(m.contains("\ngreygate_decisions_total{verdict=\"passed\"} 1\n"));
    QVERIFY(m.contains("\ngreygate_queue_deferred 1\n"));
    QVERIFY(m.contains("\ngreygate_queue_passed 1\n"));
    QVERIFY(m.startsWith("# HELP greygate_up "));
    QVERIFY(m.contains("\ngreygate_up 1\n"));
    QVERIFY(m.contains("\ngreygate_uptime_seconds 42\n"));
    QVERIFY(m.contains("\ngreygate_build_info{version=\""));
    QVERIFY(m.contains("\n# TYPE greygate_store_commit_seconds summary\n"));
    QVERIFY(m.contains("\ngreygate_store_commit_seconds_count 3\n"));
    // Every line is a comment or "name{labels} value", as the text format wants.
    static const QRegularExpression sample(
        QStringLiteral("^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\\{[a-z_]+=\"[^\"]*\"\\})? "
                       "[0-9.e+-]+)$"));
    for (const QByteArray &line : m.trimmed().split('\n'))
        QVERIFY2(sample.match(QString::fromUtf8(line)).hasMatch(), line.constData());
    QVERIFY(m.endsWith('\n'));
}

void MetricsServerTest::healthzTellsTheStoreState()
{
    Answer a = exchange(m_server->serverPort(), "GET /healthz HTTP/1.0\r\n\r\n");
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, QByteArray("ok\n"));
    m_healthy = false;
    a = exchange(m_server->serverPort(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    QCOMPARE(a.status, 503);
}

void MetricsServerTest::refusesWhatIsNotAGet_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::newRow("post") << QByteArray("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n") << 405;
    QTest::newRow("head") << QByteArray("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n") << 405;
    QTest::newRow("unknown path") << QByteArray("GET /admin HTTP/1.1\r\nHost: x\r\n\r\n") << 404;
    QTest::newRow("traversal") << QByteArray("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
                               << 404;
    QTest::newRow("garbage") << QByteArrayLiteral(
                                    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
                             << 400;
    QTest::newRow("smuggled body")
        << QByteArray("GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "0\r\n\r\n")
        << 400;
    QTest::newRow("oversized head") << (QByteArray("GET /metrics HTTP/1.1\r\nHost: x\r\nX: ") +
                                        QByteArray(20'000, 'a') + "\r\n\r\n")
                                    << 431;
    QTest::newRow("http/2 preface") << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") << 400;
}

void MetricsServerTest::refusesWhatIsNotAGet()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    const Answer a = exchange(m_server->serverPort(), request);
    QCOMPARE(a.status, status);
    if (status == 405)
        QVERIFY(a.head.contains("\r\nAllow: GET"));
    // And the server still serves.
    QCOMPARE(exchange(m_server->serverPort(), "GET /healthz HTTP/1.0\r\n\r\n").status, 200);
}

void MetricsServerTest::aHeadThatNeverEndsTimesOut()
{
    const Answer a = exchange(m_server->serverPort(), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    QCOMPARE(a.status, 408);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0, 5000);
}

void MetricsServerTest::aFloodOfConnectionsIsBounded()
{
    // Silent connections hold their slots until the timeout; beyond the bound new ones are
    // closed at once, and after the timeout the server serves again.
    std::vector<std::unique_ptr<QTcpSocket>> idle;
    for (int i = 0; i < 10; ++i) {
        auto s = std::make_unique<QTcpSocket>();
        s->connectToHost(QHostAddress::LocalHost, m_server->serverPort());
        QVERIFY(s->waitForConnected(5000));
        idle.push_back(std::move(s));
    }
    QTRY_VERIFY_WITH_TIMEOUT(m_server->connectionCount() == 4, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0, 5000);
    QCOMPARE(exchange(m_server->serverPort(), "GET /healthz HTTP/1.0\r\n\r\n").status, 200);
}

QTEST_GUILESS_MAIN(MetricsServerTest)
#include "tst_metrics_server.moc"
