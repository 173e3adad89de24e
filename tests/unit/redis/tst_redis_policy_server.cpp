// SPDX-License-Identifier: GPL-3.0-or-later
// The policy server's asynchronous path with the real parts behind it: GreylistPolicyHandler
// deciding policies in memory and greylisting through RedisDecider on a real redis-server,
// spoken to over loopback sockets as Postfix would. Answers keep request order per
// connection even when synchronous ones (other protocol states) sit between them; protocol
// errors still close; Redis going away applies --redis-fail without a crash.

#include "RedisDecisionStack.h"
#include "RedisTestServer.h"
#include "policyd/PolicyServer.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisSyncClient.h"

#include <QDeadlineTimer>
#include <QTcpSocket>
#include <QTest>
#include <memory>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int WaitMs = 10'000;

QByteArray request(const QByteArray &client, const QByteArray &sender, const QByteArray &recipient,
                   const QByteArray &state = "RCPT")
{
    return "request=smtpd_access_policy\nprotocol_state=" + state +
           "\nprotocol_name=ESMTP\nclient_address=" + client + "\nsender=" + sender +
           "\nrecipient=" + recipient + "\ninstance=i." + recipient + "\n\n";
}

class Client
{
public:
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        QDeadlineTimer deadline(WaitMs);
        while (m_socket.state() != QAbstractSocket::ConnectedState && !deadline.hasExpired())
            QTest::qWait(1);
        return m_socket.state() == QAbstractSocket::ConnectedState;
    }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }
    QList<QByteArray> answers(int n)
    {
        QList<QByteArray> out;
        QDeadlineTimer deadline(WaitMs);
        while (!deadline.hasExpired()) {
            m_buffer += m_socket.readAll();
            qsizetype end;
            while (out.size() < n && (end = m_buffer.indexOf("\n\n")) >= 0) {
                const QByteArray answer = m_buffer.left(end);
                m_buffer.remove(0, end + 2);
                out.append(answer.startsWith("action=") ? answer.mid(7) : "<bad> " + answer);
            }
            if (out.size() == n || m_socket.state() != QAbstractSocket::ConnectedState)
                break;
            QTest::qWait(1);
        }
        return out;
    }
    bool closedByServer()
    {
        QDeadlineTimer deadline(WaitMs);
        while (m_socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            m_socket.readAll();
            QTest::qWait(1);
        }
        return m_socket.state() != QAbstractSocket::ConnectedState;
    }
    void abort() { m_socket.abort(); }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

} // namespace

class TestRedisPolicyServer : public QObject
{
    Q_OBJECT

private:
    RedisTestServer m_redis;
    RedisOptions m_options;
    RedisDecisionStack m_stack;
    std::unique_ptr<PolicyServer> m_server;

    std::vector<const Event *> attempts() const { return m_stack.attempts(); }

    void start(bool failOpen)
    {
        RedisOptions o = m_options;
        o.failOpen = failOpen;
        QString error;
        QVERIFY2(m_stack.start(o, o, &error), qPrintable(error));
        QTRY_VERIFY(m_stack.connection->isUp());
        QVERIFY(m_stack.recorder->isAsynchronous());
        m_server = std::make_unique<PolicyServer>(*m_stack.recorder, PolicyServerOptions{});
        QVERIFY2(m_server->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    }
    void shiftFirstBack(const TripletKey &key, qint64 seconds)
    {
        RedisSyncClient sync;
        QString error;
        QVERIFY2(sync.connect(m_options, &error), qPrintable(error));
        const QByteArray k = RedisKeys::triplet(key);
        const qint64 first =
            RedisSyncClient::integer(sync.command({"HGET", k, "first"}, &error).get());
        QVERIFY(first > 0);
        QVERIFY(sync.command({"HSET", k, "first", QByteArray::number(first - seconds)}, &error));
    }

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QString error;
        m_options = *RedisOptions::fromUrl(m_redis.url(), &error);
        m_options.timeoutMs = 1000;
    }
    void init()
    {
        RedisSyncClient sync;
        QString error;
        QVERIFY2(sync.connect(m_options, &error), qPrintable(error));
        QVERIFY(sync.command({"FLUSHALL"}, &error));
    }
    void cleanup()
    {
        m_server.reset();
        m_stack.reset();
    }

    void firstSightIsDeferredAndARetryAfterTheDelayPasses()
    {
        start(true);
        Client client;
        QVERIFY(client.connectTo(m_server->serverPort()));
        client.send(request("192.0.2.10", "alice@sender.example", "bob@example.test"));
        QCOMPARE(client.answers(1), QList<QByteArray>{"DEFER_IF_PERMIT Greylisted for 60 seconds"});
        shiftFirstBack(TripletKey{"192.0.2.0/24", "alice@sender.example", "bob@example.test"}, 61);
        client.send(request("192.0.2.10", "alice@sender.example", "bob@example.test"));
        const QList<QByteArray> second = client.answers(1);
        QCOMPARE(second.size(), 1);
        QVERIFY2(second[0].startsWith("PREPEND X-Greylist: delayed 6"), second[0].constData());
        QCOMPARE(m_stack.handler->stats().deferred, 1u);
        QCOMPARE(m_stack.handler->stats().passedNow, 1u);
        // Both attempts reach the event log with the outcome and attempts Redis decided.
        const std::vector<const Event *> seen = attempts();
        QCOMPARE(seen.size(), 2u);
        QCOMPARE(seen[0]->outcome, AttemptOutcome::Deferred);
        QCOMPARE(seen[0]->attempts, 1u);
        QCOMPARE(seen[0]->decidedBy, DecidedBy::None);
        QCOMPARE(seen[0]->client, QByteArray("192.0.2.10"));
        QCOMPARE(seen[0]->recipient, QByteArray("bob@example.test"));
        QCOMPARE(seen[1]->outcome, AttemptOutcome::Passed);
        QCOMPARE(seen[1]->attempts, 2u);
        QCOMPARE(m_stack.events->totals().deferred, 1u);
    }

    void pipelinedAnswersKeepRequestOrderAcrossSynchronousOnes()
    {
        start(true);
        Client client;
        QVERIFY(client.connectTo(m_server->serverPort()));
        QByteArray burst;
        QList<QByteArray> expected;
        for (int i = 0; i < 300; ++i) {
            const QByteArray rcpt = "r" + QByteArray::number(i) + "@example.test";
            if (i % 3 == 1) {
                // Answered at once by the handler, between answers that come from Redis.
                burst += request("192.0.2.10", "a@sender.example", rcpt, "DATA");
                expected.append("DUNNO");
            } else {
                burst += request("192.0.2.10", "a@sender.example", rcpt);
                expected.append("DEFER_IF_PERMIT Greylisted for 60 seconds");
            }
        }
        client.send(burst);
        QCOMPARE(client.answers(300), expected);
        QCOMPARE(m_server->stats().answers, 300u);
        // Concurrent decisions: each event carries its own outcome (200 deferrals, each a
        // first attempt; the DATA-state requests are not RCPT decisions).
        const std::vector<const Event *> seen = attempts();
        QCOMPARE(seen.size(), 200u);
        for (const Event *e : seen) {
            QCOMPARE(e->outcome, AttemptOutcome::Deferred);
            QCOMPARE(e->attempts, 1u);
        }
    }

    void protocolErrorStillClosesTheConnection()
    {
        start(true);
        Client client;
        QVERIFY(client.connectTo(m_server->serverPort()));
        client.send(request("192.0.2.10", "a@sender.example", "x@example.test") +
                    "request=something_else\nprotocol_state=RCPT\n\n");
        QVERIFY(client.closedByServer());
        QCOMPARE(m_server->stats().protocolErrors, 1u);
        Client other;
        QVERIFY(other.connectTo(m_server->serverPort()));
        other.send(request("192.0.2.10", "a@sender.example", "y@example.test"));
        QCOMPARE(other.answers(1).size(), 1);
    }

    void clientLeavingWithAnswersOutstandingIsHarmless()
    {
        start(true);
        for (int round = 0; round < 5; ++round) {
            Client client;
            QVERIFY(client.connectTo(m_server->serverPort()));
            QByteArray burst;
            for (int i = 0; i < 50; ++i)
                burst += request("192.0.2.10", "a@sender.example",
                                 "r" + QByteArray::number(i) + "@example.test");
            client.send(burst);
            client.abort();
        }
        QTRY_COMPARE(m_server->connectionCount(), 0);
        Client client;
        QVERIFY(client.connectTo(m_server->serverPort()));
        client.send(request("192.0.2.10", "a@sender.example", "last@example.test"));
        QCOMPARE(client.answers(1).size(), 1);
    }

    void redisGoneFailsOpenOrClosedThenRecovers_data()
    {
        QTest::addColumn<bool>("failOpen");
        QTest::addColumn<QByteArray>("whileDown");
        QTest::newRow("open") << true << QByteArray("DUNNO");
        QTest::newRow("closed") << false
                                << QByteArray("DEFER_IF_PERMIT Greylisting state unavailable, "
                                              "please try again later");
    }
    void redisGoneFailsOpenOrClosedThenRecovers()
    {
        QFETCH(bool, failOpen);
        QFETCH(QByteArray, whileDown);
        start(failOpen);
        Client client;
        QVERIFY(client.connectTo(m_server->serverPort()));
        m_redis.kill();
        QTRY_VERIFY_WITH_TIMEOUT(!m_stack.connection->isUp(), WaitMs);
        client.send(request("192.0.2.10", "a@sender.example", "down@example.test"));
        QCOMPARE(client.answers(1), QList<QByteArray>{whileDown});
        QCOMPARE(failOpen ? m_stack.handler->stats().failedOpen
                          : m_stack.handler->stats().failedClosed,
                 1u);
        QTRY_COMPARE(attempts().size(), 1u);
        QCOMPARE(attempts()[0]->outcome,
                 failOpen ? AttemptOutcome::Bypassed : AttemptOutcome::Deferred);
        QVERIFY(attempts()[0]->action.contains(u"unavailable"));
        QString error;
        QVERIFY2(m_redis.restart(&error), qPrintable(error));
        QTRY_VERIFY_WITH_TIMEOUT(m_stack.connection->isUp(), WaitMs);
        client.send(request("192.0.2.10", "a@sender.example", "up@example.test"));
        QCOMPARE(client.answers(1), QList<QByteArray>{"DEFER_IF_PERMIT Greylisted for 60 seconds"});
    }
};

QTEST_GUILESS_MAIN(TestRedisPolicyServer)
#include "tst_redis_policy_server.moc"
