// SPDX-License-Identifier: GPL-3.0-or-later
// The policy server with I/O threads (--policy-io-threads): requests read and parsed on the
// I/O threads, decided in batches on this (the test's) thread, answered back in order. The
// handler numbers its answers after the request's recipient, so every answer says which
// request it belongs to; in async mode it answers late and out of order (as Redis may).

#include "policyd/PolicyHandler.h"
#include "policyd/PolicyServer.h"

#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>
#include <memory>

using namespace greygate;

namespace {

constexpr int WaitMs = 20'000;

QByteArray request(int conn, int i)
{
    return "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2." +
           QByteArray::number(conn % 250 + 1) + "\nsender=a@s.example\nrecipient=c" +
           QByteArray::number(conn) + "r" + QByteArray::number(i) + "@d.example\n\n";
}

QByteArray expected(int conn, int i)
{
    return "DUNNO c" + QByteArray::number(conn) + "r" + QByteArray::number(i) + "@d.example";
}

// Echoes the recipient; refuses a recipient "bad@..." (a protocol error). Async mode answers
// each request after a random 0-3 ms, so answers come back out of order; `hold` keeps every
// answer until released (a stalled decision thread).
class EchoHandler : public PolicyHandler
{
public:
    explicit EchoHandler(bool async)
        : m_async(async)
    {}

    QByteArray decide(const PolicyRequest &r) override
    {
        ++decided;
        if (r.recipient.startsWith("bad@"))
            return {};
        return "DUNNO " + r.recipient;
    }
    bool commit() override
    {
        ++commits;
        return !failCommits;
    }
    QByteArray protocolError() const override { return QByteArrayLiteral("bad recipient"); }
    bool isAsynchronous() const override { return m_async; }
    void decideAsync(const PolicyRequest &r, PolicyAnswerCallback done) override
    {
        PolicyAnswer a;
        a.action = decide(r);
        if (a.action.isEmpty())
            a.error = protocolError();
        if (hold) {
            m_held.emplace_back(std::move(a), std::move(done));
            return;
        }
        QTimer::singleShot(
            int(QRandomGenerator::global()->bounded(4)), &m_context,
            [a = std::move(a), done = std::move(done)]() mutable { done(std::move(a)); });
    }
    void release()
    {
        hold = false;
        auto held = std::move(m_held);
        for (auto &[a, done] : held)
            done(std::move(a));
    }

    int decided = 0;
    int commits = 0;
    bool failCommits = false;
    bool hold = false;

private:
    const bool m_async;
    QObject m_context;
    std::vector<std::pair<PolicyAnswer, PolicyAnswerCallback>> m_held;
};

// A loopback client driven by the test's event loop, which is also the decision thread.
class Client
{
public:
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        return m_socket.waitForConnected(WaitMs);
    }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }
    // Answers read so far (without "action=").
    const QList<QByteArray> &poll()
    {
        m_buffer += m_socket.readAll();
        qsizetype end;
        while ((end = m_buffer.indexOf("\n\n")) >= 0) {
            const QByteArray a = m_buffer.left(end);
            m_answers.append(a.startsWith("action=") ? a.mid(7) : "<bad> " + a);
            m_buffer.remove(0, end + 2);
        }
        return m_answers;
    }
    bool connected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    void abort() { m_socket.abort(); }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
    QList<QByteArray> m_answers;
};

// Conns clients, each sending N requests in one write.
bool pipeline(quint16 port, int conns, int n, std::vector<std::unique_ptr<Client>> &clients)
{
    for (int c = 0; c < conns; ++c) {
        clients.push_back(std::make_unique<Client>());
        if (!clients.back()->connectTo(port))
            return false;
        QByteArray burst;
        for (int i = 0; i < n; ++i)
            burst += request(c, i);
        clients.back()->send(burst);
    }
    return true;
}

} // namespace

class PolicyServerThreadsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void manyPipeliningConnectionsGetEveryAnswerInOrder_data();
    void manyPipeliningConnectionsGetEveryAnswerInOrder();
    void aStalledDecisionThreadStopsTheReading();
    void protocolErrorsCloseOnlyTheirConnection();
    void failedCommitClosesWithoutAnswering();
    void clientClosingWithRequestsInFlightLeavesTheOthersServed();
    void shutdownUnderLoadAnswersInOrderAndFinishes_data();
    void shutdownUnderLoadAnswersInOrderAndFinishes();
    void connectionsBeyondTheMaximumAreRefused();
    void slowAndIdleClientsTimeOutWhileOthersAreServed();
    void overlongLineIsAProtocolError();

private:
    std::unique_ptr<PolicyServer> start(EchoHandler &handler, int threads,
                                        PolicyServerOptions options = {})
    {
        options.ioThreads = threads;
        auto server = std::make_unique<PolicyServer>(handler, options);
        QString error;
        if (!server->listen(QHostAddress::LocalHost, 0, &error))
            qWarning() << error;
        return server;
    }
};

void PolicyServerThreadsTest::manyPipeliningConnectionsGetEveryAnswerInOrder_data()
{
    QTest::addColumn<int>("threads");
    QTest::addColumn<bool>("async");
    QTest::newRow("1 thread") << 1 << false;
    QTest::newRow("3 threads") << 3 << false;
    QTest::newRow("3 threads, async") << 3 << true;
}

void PolicyServerThreadsTest::manyPipeliningConnectionsGetEveryAnswerInOrder()
{
    QFETCH(int, threads);
    QFETCH(bool, async);
    EchoHandler handler(async);
    PolicyServerOptions options;
    options.maxRequestsPerPass = 16; // deep pipelines take several passes
    auto server = start(handler, threads, options);
    constexpr int Conns = 12;
    constexpr int N = 400;
    std::vector<std::unique_ptr<Client>> clients;
    QVERIFY(pipeline(server->serverPort(), Conns, N, clients));
    for (int c = 0; c < Conns; ++c) {
        QTRY_COMPARE_WITH_TIMEOUT(clients[c]->poll().size(), N, WaitMs);
        const QList<QByteArray> &got = clients[c]->poll();
        for (int i = 0; i < N; ++i)
            QCOMPARE(got[i], expected(c, i));
    }
    const PolicyServer::Stats stats = server->stats();
    QCOMPARE(stats.requests, quint64(Conns * N));
    QCOMPARE(stats.answers, quint64(Conns * N));
    QCOMPARE(server->connectionCount(), Conns);
    // Batches, not one hop per request: far fewer commits (passes) than requests.
    QVERIFY2(stats.commits < stats.requests / 4, QByteArray::number(stats.commits).constData());
}

void PolicyServerThreadsTest::aStalledDecisionThreadStopsTheReading()
{
    EchoHandler handler(true);
    handler.hold = true;
    auto server = start(handler, 2);
    Client client;
    QVERIFY(client.connectTo(server->serverPort()));
    constexpr int N = 3000;
    QByteArray burst;
    for (int i = 0; i < N; ++i)
        burst += request(0, i);
    client.send(burst);
    QTRY_VERIFY_WITH_TIMEOUT(handler.decided > 0, WaitMs);
    QTest::qWait(300);
    // Nothing answered, so no more than a connection's in-flight bound was read and parsed;
    // the rest waits in the kernel's buffers.
    QCOMPARE(handler.decided, 256);
    QCOMPARE(client.poll().size(), 0);
    QVERIFY(server->stats().asyncStalls >= 1);
    handler.release();
    QTRY_COMPARE_WITH_TIMEOUT(client.poll().size(), N, WaitMs);
    for (int i = 0; i < N; ++i)
        QCOMPARE(client.poll()[i], expected(0, i));
}

void PolicyServerThreadsTest::protocolErrorsCloseOnlyTheirConnection()
{
    EchoHandler handler(false);
    auto server = start(handler, 2);
    Client parserError, handlerError, good;
    QVERIFY(parserError.connectTo(server->serverPort()));
    QVERIFY(handlerError.connectTo(server->serverPort()));
    QVERIFY(good.connectTo(server->serverPort()));
    parserError.send(QByteArrayLiteral("no equals sign here\n\n"));
    handlerError.send(request(1, 0) +
                      "request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=bad@x\n\n");
    good.send(request(2, 0) + request(2, 1));
    QTRY_VERIFY_WITH_TIMEOUT(!parserError.connected(), WaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!handlerError.connected(), WaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(good.poll().size(), 2, WaitMs);
    QCOMPARE(good.poll()[1], expected(2, 1));
    QVERIFY(good.connected());
    QCOMPARE(server->stats().protocolErrors, quint64(2));
}

void PolicyServerThreadsTest::failedCommitClosesWithoutAnswering()
{
    EchoHandler handler(false);
    handler.failCommits = true;
    auto server = start(handler, 2);
    Client client;
    QVERIFY(client.connectTo(server->serverPort()));
    client.send(request(0, 0) + request(0, 1));
    QTRY_VERIFY_WITH_TIMEOUT(!client.connected(), WaitMs);
    QCOMPARE(client.poll().size(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(server->stats().internalErrors >= 1, WaitMs);
    QCOMPARE(server->stats().answers, quint64(0));
}

void PolicyServerThreadsTest::clientClosingWithRequestsInFlightLeavesTheOthersServed()
{
    EchoHandler handler(true); // answers arrive after the client is gone
    auto server = start(handler, 2);
    Client leaving, staying;
    QVERIFY(leaving.connectTo(server->serverPort()));
    QVERIFY(staying.connectTo(server->serverPort()));
    QByteArray burst;
    for (int i = 0; i < 200; ++i)
        burst += request(0, i);
    leaving.send(burst);
    QTRY_VERIFY_WITH_TIMEOUT(handler.decided > 0, WaitMs);
    leaving.abort();
    QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 1, WaitMs);
    for (int i = 0; i < 50; ++i)
        staying.send(request(1, i));
    QTRY_COMPARE_WITH_TIMEOUT(staying.poll().size(), 50, WaitMs);
    QCOMPARE(staying.poll()[49], expected(1, 49));
}

void PolicyServerThreadsTest::shutdownUnderLoadAnswersInOrderAndFinishes_data()
{
    QTest::addColumn<bool>("async");
    QTest::newRow("sync") << false;
    QTest::newRow("async") << true;
}

void PolicyServerThreadsTest::shutdownUnderLoadAnswersInOrderAndFinishes()
{
    QFETCH(bool, async);
    EchoHandler handler(async);
    auto server = start(handler, 3);
    QSignalSpy finished(server.get(), &PolicyServer::shutdownFinished);
    constexpr int Conns = 8;
    constexpr int N = 2000;
    std::vector<std::unique_ptr<Client>> clients;
    QVERIFY(pipeline(server->serverPort(), Conns, N, clients));
    QTRY_VERIFY_WITH_TIMEOUT(handler.decided > 500, WaitMs);
    server->shutdown();
    QVERIFY(finished.wait(WaitMs));
    QCOMPARE(server->connectionCount(), 0);
    for (int c = 0; c < Conns; ++c) {
        QTRY_VERIFY_WITH_TIMEOUT(!clients[c]->connected(), WaitMs);
        // What each client got is a prefix of its requests' answers, in order.
        const QList<QByteArray> &got = clients[c]->poll();
        for (int i = 0; i < got.size(); ++i)
            QCOMPARE(got[i], expected(c, i));
    }
}

void PolicyServerThreadsTest::connectionsBeyondTheMaximumAreRefused()
{
    EchoHandler handler(false);
    PolicyServerOptions options;
    options.maxConnections = 3;
    auto server = start(handler, 2, options);
    Client clients[4];
    for (int i = 0; i < 3; ++i)
        QVERIFY(clients[i].connectTo(server->serverPort()));
    QTRY_COMPARE_WITH_TIMEOUT(server->connectionCount(), 3, WaitMs);
    QVERIFY(clients[3].connectTo(server->serverPort()));
    QTRY_VERIFY_WITH_TIMEOUT(!clients[3].connected(), WaitMs);
    QCOMPARE(server->stats().refused, quint64(1));
    clients[0].send(request(0, 0));
    QTRY_COMPARE_WITH_TIMEOUT(clients[0].poll().size(), 1, WaitMs);
}

void PolicyServerThreadsTest::slowAndIdleClientsTimeOutWhileOthersAreServed()
{
    EchoHandler handler(false);
    PolicyServerOptions options;
    options.requestTimeoutMs = 400;
    options.idleTimeoutMs = 800;
    auto server = start(handler, 2, options);
    Client slow, idle, good;
    QVERIFY(slow.connectTo(server->serverPort()));
    QVERIFY(idle.connectTo(server->serverPort()));
    QVERIFY(good.connectTo(server->serverPort()));
    slow.send(request(0, 0).left(40)); // never finished
    QTRY_VERIFY_WITH_TIMEOUT(!slow.connected(), WaitMs);
    QVERIFY(idle.connected()); // the idle timeout is longer
    for (int i = 0; i < 3; ++i) {
        good.send(request(2, i));
        QTRY_COMPARE_WITH_TIMEOUT(good.poll().size(), i + 1, WaitMs);
    }
    QTRY_VERIFY_WITH_TIMEOUT(!idle.connected(), WaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(!good.connected(), WaitMs); // idle too once served
    QCOMPARE(server->stats().timeouts, quint64(3));
}

void PolicyServerThreadsTest::overlongLineIsAProtocolError()
{
    EchoHandler handler(false);
    auto server = start(handler, 2);
    Client bad, good;
    QVERIFY(bad.connectTo(server->serverPort()));
    QVERIFY(good.connectTo(server->serverPort()));
    bad.send("recipient=" + QByteArray(100 * 1024, 'x')); // over 8 KiB, no line end
    QTRY_VERIFY_WITH_TIMEOUT(!bad.connected(), WaitMs);
    QCOMPARE(server->stats().protocolErrors, quint64(1));
    good.send(request(1, 0));
    QTRY_COMPARE_WITH_TIMEOUT(good.poll().size(), 1, WaitMs);
    QCOMPARE(good.poll()[0], expected(1, 0));
}

QTEST_GUILESS_MAIN(PolicyServerThreadsTest)
#include "tst_policy_server_threads.moc"
