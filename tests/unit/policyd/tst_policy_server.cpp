// SPDX-License-Identifier: GPL-3.0-or-later
// The policy server with the greylisting handler, a real SqliteStore in a temp dir and a
// ManualClock driving the engine, spoken to through real loopback sockets as Postfix would.

#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "policyd/PolicyServer.h"
#include "store/SqliteStore.h"

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace greygate;

namespace {

constexpr int WaitMs = 10'000;

QByteArray rcpt(const QByteArray &client, const QByteArray &sender, const QByteArray &recipient,
                const QByteArray &instance, const QByteArray &state = "RCPT")
{
    return "request=smtpd_access_policy\nprotocol_state=" + state +
           "\nprotocol_name=ESMTP\nclient_address=" + client +
           "\nclient_name=mail.sender.example\nhelo_name=mail.sender.example\nsender=" + sender +
           "\nrecipient=" + recipient + "\ninstance=" + instance + "\nqueue_id=\nsize=0\n\n";
}

// A loopback client driven by the test's event loop (the server lives on the same thread,
// so the client must never block it).
class Client
{
public:
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        QDeadlineTimer deadline(WaitMs);
        while ((m_socket.state() == QAbstractSocket::HostLookupState ||
                m_socket.state() == QAbstractSocket::ConnectingState) &&
               !deadline.hasExpired())
            QTest::qWait(1);
        return m_socket.state() == QAbstractSocket::ConnectedState;
    }
    void send(const QByteArray &bytes) { m_socket.write(bytes); }
    // Hands the bytes to the kernel now (on loopback the server's socket has them on return).
    void sendNow(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }

    // The next n answers (actions without "action="), or fewer if the server closed the
    // connection or did not answer in time.
    QList<QByteArray> answers(int n)
    {
        QList<QByteArray> out;
        QDeadlineTimer deadline(WaitMs);
        while (!deadline.hasExpired()) {
            m_buffer += m_socket.readAll();
            qsizetype end;
            while (out.size() < n && (end = m_buffer.indexOf("\n\n")) >= 0) {
                QByteArray answer = m_buffer.left(end);
                m_buffer.remove(0, end + 2);
                out.append(answer.startsWith("action=") ? answer.mid(7) : "<bad> " + answer);
            }
            if (out.size() == n || m_socket.state() != QAbstractSocket::ConnectedState)
                break;
            QTest::qWait(1);
        }
        m_buffer += m_socket.readAll();
        return out;
    }
    std::optional<QByteArray> ask(const QByteArray &request)
    {
        send(request);
        const QList<QByteArray> got = answers(1);
        return got.isEmpty() ? std::nullopt : std::optional(got.first());
    }
    // True once the server has closed the connection (within the wait).
    bool closedByServer()
    {
        QDeadlineTimer deadline(WaitMs);
        while (m_socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            m_buffer += m_socket.readAll();
            QTest::qWait(1);
        }
        m_buffer += m_socket.readAll();
        return m_socket.state() != QAbstractSocket::ConnectedState;
    }
    const QByteArray &unread() const { return m_buffer; }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

} // namespace

class PolicyServerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void firstRcptIsDeferredWithTheConfiguredText();
    void retryAfterDelayGetsPrependOncePerInstanceThenDunno();
    void retryBeforeTheDelayIsDeferredAgainWithTheTimeLeft();
    void requestsOutsideRcptGetDunno_data();
    void requestsOutsideRcptGetDunno();
    void pipelinedRequestsAreAllAnsweredInOrder();
    void requestsOfSeveralConnectionsArrivingTogetherShareOneCommit();
    void protocolErrorClosesOnlyTheOffendingConnection_data();
    void protocolErrorClosesOnlyTheOffendingConnection();
    void incompleteRequestTimesOutWhileOthersAreServed();
    void idleConnectionIsClosedAfterTheIdleTimeout();
    void connectionsBeyondTheMaximumAreRefused();
    void storeFailureClosesWithoutAnswering();
    void shutdownAnswersWhatWasDecidedAndClosesEverything();

private:
    void start(const PolicyServerOptions &serverOptions = {});

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<SqliteStore> m_store;
    std::unique_ptr<GreylistEngine> m_engine;
    std::unique_ptr<GreylistPolicyHandler> m_handler;
    std::unique_ptr<PolicyServer> m_server;
};

void PolicyServerTest::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void PolicyServerTest::cleanup()
{
    m_server.reset();
    m_handler.reset();
    m_engine.reset();
    if (m_store)
        m_store->close();
    m_store.reset();
    m_clock.reset();
    m_dir.reset();
}

void PolicyServerTest::start(const PolicyServerOptions &serverOptions)
{
    m_clock = std::make_unique<ManualClock>();
    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = m_dir->path();
    m_store = std::make_unique<SqliteStore>(storeOptions);
    QString error;
    QVERIFY2(m_store->open(&error), qPrintable(error));
    GreylistConfig config;
    config.delay = 60;
    config.autoWhitelistClients = 0;
    m_engine = std::make_unique<GreylistEngine>(config, *m_clock);
    QVERIFY2(m_engine->load(*m_store, &error), qPrintable(error));
    GreylistPolicyOptions options;
    options.greylistText = "Greylisted for %s seconds, see https://help.example/%r";
    options.greylistCode = "4.2.0";
    options.hostname = "mx.example.test";
    m_handler = std::make_unique<GreylistPolicyHandler>(*m_engine, *m_store, *m_clock, options);
    m_server = std::make_unique<PolicyServer>(*m_handler, serverOptions);
    QVERIFY2(m_server->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
}

void PolicyServerTest::firstRcptIsDeferredWithTheConfiguredText()
{
    start();
    Client client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    const auto answer =
        client.ask(rcpt("192.0.2.10", "alice@sender.example", "bob@Example.TEST", "1.2.3"));
    QCOMPARE(answer.value_or("<none>"),
             QByteArray("DEFER_IF_PERMIT 4.2.0 Greylisted for 60 seconds, see "
                        "https://help.example/example.test"));
    // Answered only once committed: the engine holds it and nothing is left unsaved.
    QCOMPARE(m_handler->pendingChanges(), 0);
    QCOMPARE(m_engine->tripletCount(), 1);
}

void PolicyServerTest::retryAfterDelayGetsPrependOncePerInstanceThenDunno()
{
    start();
    Client client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    // One message, two recipients: both deferred.
    client.send(rcpt("192.0.2.10", "alice@sender.example", "bob@example.test", "aa.1") +
                rcpt("192.0.2.10", "alice@sender.example", "carol@example.test", "aa.1"));
    const QList<QByteArray> first = client.answers(2);
    QCOMPARE(first.size(), 2);
    QVERIFY(first[0].startsWith("DEFER_IF_PERMIT "));
    QVERIFY(first[1].startsWith("DEFER_IF_PERMIT "));

    m_clock->advanceSeconds(61);
    // The retry (a new instance): the first recipient gets the header, the second not.
    const auto bob =
        client.ask(rcpt("192.0.2.10", "alice@sender.example", "bob@example.test", "bb.2"));
    QVERIFY(bob.has_value());
    QVERIFY2(bob->startsWith("PREPEND X-Greylist: delayed 61 seconds by greygate-" GREYGATE_VERSION
                             " at mx.example.test; "),
             bob->constData());
    const auto carol =
        client.ask(rcpt("192.0.2.10", "alice@sender.example", "carol@example.test", "bb.2"));
    QCOMPARE(carol.value_or("<none>"), QByteArray("DUNNO"));
    // The next message of a passed triplet: accepted silently.
    const auto again =
        client.ask(rcpt("192.0.2.10", "alice@sender.example", "bob@example.test", "cc.3"));
    QCOMPARE(again.value_or("<none>"), QByteArray("DUNNO"));
}

void PolicyServerTest::retryBeforeTheDelayIsDeferredAgainWithTheTimeLeft()
{
    start();
    Client client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    QVERIFY(client.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1")).has_value());
    m_clock->advanceSeconds(59);
    QCOMPARE(client.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "2")).value_or("<none>"),
             QByteArray("DEFER_IF_PERMIT 4.2.0 Greylisted for 1 seconds, see "
                        "https://help.example/d.example"));
}

void PolicyServerTest::requestsOutsideRcptGetDunno_data()
{
    QTest::addColumn<QByteArray>("state");
    QTest::newRow("CONNECT") << QByteArray("CONNECT");
    QTest::newRow("MAIL") << QByteArray("MAIL");
    QTest::newRow("DATA") << QByteArray("DATA");
    QTest::newRow("END-OF-MESSAGE") << QByteArray("END-OF-MESSAGE");
    QTest::newRow("VRFY") << QByteArray("VRFY");
}

void PolicyServerTest::requestsOutsideRcptGetDunno()
{
    QFETCH(QByteArray, state);
    start();
    Client client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    QCOMPARE(
        client.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1", state)).value_or("<none>"),
        QByteArray("DUNNO"));
    QCOMPARE(m_engine->tripletCount(), 0);
}

void PolicyServerTest::pipelinedRequestsAreAllAnsweredInOrder()
{
    PolicyServerOptions options;
    options.maxRequestsPerPass = 7; // the rest is taken in later passes
    start(options);
    Client client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    QByteArray burst;
    constexpr int N = 200;
    for (int i = 0; i < N; ++i) {
        burst += rcpt("192.0.2.10", "a@s.example", "user" + QByteArray::number(i) + "@d.example",
                      QByteArray::number(i), i % 2 ? "RCPT" : "DATA");
    }
    client.send(burst);
    const QList<QByteArray> got = client.answers(N);
    QCOMPARE(got.size(), N);
    for (int i = 0; i < N; ++i)
        QVERIFY2(got[i].startsWith(i % 2 ? "DEFER_IF_PERMIT" : "DUNNO"), got[i].constData());
    QCOMPARE(m_engine->tripletCount(), N / 2);
}

void PolicyServerTest::requestsOfSeveralConnectionsArrivingTogetherShareOneCommit()
{
    start();
    Client clients[4];
    for (Client &c : clients)
        QVERIFY(c.connectTo(m_server->serverPort()));
    QTRY_COMPARE(m_server->connectionCount(), 4);
    const quint64 commitsBefore = m_server->stats().commits;
    // All four requests are in the server's sockets before its event loop runs again, so
    // they are decided in one pass and committed together.
    for (int i = 0; i < 4; ++i)
        clients[i].sendNow(
            rcpt("192.0.2.10", "a@s.example", "r" + QByteArray::number(i) + "@d.example", "1"));
    for (Client &c : clients) {
        const QList<QByteArray> got = c.answers(1);
        QCOMPARE(got.size(), 1);
        QVERIFY(got.first().startsWith("DEFER_IF_PERMIT"));
    }
    QCOMPARE(m_server->stats().commits, commitsBefore + 1);
    QCOMPARE(m_engine->tripletCount(), 4);
}

void PolicyServerTest::protocolErrorClosesOnlyTheOffendingConnection_data()
{
    QTest::addColumn<QByteArray>("bad");
    QTest::newRow("binary junk") << QByteArray("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\n",
                                               12);
    QTest::newRow("line without =") << QByteArray("EHLO attacker.example\n");
    QTest::newRow("over-long line") << QByteArray("sender=" + QByteArray(9000, 'x') + "\n\n");
    QTest::newRow("not a policy request")
        << QByteArray("request=junk_policy\nprotocol_state=RCPT\n\n");
    QTest::newRow("no request attribute") << QByteArray("protocol_state=RCPT\nsender=a@b\n\n");
    QTest::newRow("RCPT without recipient")
        << QByteArray("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2."
                      "1\nsender=a@b\n\n");
    QTest::newRow("RCPT without sender")
        << QByteArray("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2."
                      "1\nrecipient=a@b\n\n");
    QTest::newRow("RCPT without client_address")
        << QByteArray("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=\nrecipient=a@b\n"
                      "\n");
    QTest::newRow("RCPT with a client address that is none")
        << rcpt("not-an-address", "a@b", "c@d", "1");
}

void PolicyServerTest::protocolErrorClosesOnlyTheOffendingConnection()
{
    QFETCH(QByteArray, bad);
    start();
    Client good;
    Client hostile;
    QVERIFY(good.connectTo(m_server->serverPort()));
    QVERIFY(hostile.connectTo(m_server->serverPort()));
    QVERIFY(good.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1")).has_value());

    hostile.send(bad);
    QVERIFY(hostile.closedByServer());
    QVERIFY2(hostile.unread().isEmpty(), hostile.unread().constData()); // no answer at all
    QCOMPARE(m_server->stats().protocolErrors, 1u);

    // The other connection is untouched and keeps being served.
    QCOMPARE(
        good.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "2", "DATA")).value_or("<none>"),
        QByteArray("DUNNO"));
    QCOMPARE(m_server->connectionCount(), 1);
}

void PolicyServerTest::incompleteRequestTimesOutWhileOthersAreServed()
{
    PolicyServerOptions options;
    options.requestTimeoutMs = 300;
    start(options);
    Client slow;
    Client good;
    QVERIFY(slow.connectTo(m_server->serverPort()));
    QVERIFY(good.connectTo(m_server->serverPort()));
    slow.send("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@b"); // never ends
    // Meanwhile the other client is answered: the slow one stalls no one.
    QVERIFY(good.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1")).has_value());
    QVERIFY(slow.closedByServer());
    QVERIFY(slow.unread().isEmpty());
    QCOMPARE(m_server->stats().timeouts, 1u);
    QVERIFY(good.ask(rcpt("192.0.2.10", "a@s.example", "c@d.example", "2")).has_value());
}

void PolicyServerTest::idleConnectionIsClosedAfterTheIdleTimeout()
{
    PolicyServerOptions options;
    options.idleTimeoutMs = 300;
    start(options);
    Client client;
    QVERIFY(client.connectTo(m_server->serverPort()));
    QVERIFY(client.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1")).has_value());
    QVERIFY(client.closedByServer());
    QCOMPARE(m_server->stats().timeouts, 1u);
}

void PolicyServerTest::connectionsBeyondTheMaximumAreRefused()
{
    PolicyServerOptions options;
    options.maxConnections = 2;
    start(options);
    Client a;
    Client b;
    Client c;
    QVERIFY(a.connectTo(m_server->serverPort()));
    QVERIFY(b.connectTo(m_server->serverPort()));
    QVERIFY(a.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1")).has_value());
    QVERIFY(b.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "2")).has_value());
    c.connectTo(m_server->serverPort()); // the kernel accepts; the server then drops it
    QVERIFY(c.closedByServer());
    QCOMPARE(m_server->stats().refused, 1u);
    QVERIFY(a.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "3")).has_value());
}

void PolicyServerTest::storeFailureClosesWithoutAnswering()
{
    start();
    Client client;
    Client other;
    QVERIFY(client.connectTo(m_server->serverPort()));
    QVERIFY(other.connectTo(m_server->serverPort()));
    QVERIFY(client.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1")).has_value());

    m_store->close(); // from now on every commit fails
    client.send(rcpt("192.0.2.10", "a@s.example", "new@d.example", "2"));
    QVERIFY(client.closedByServer());
    QVERIFY2(client.unread().isEmpty(), client.unread().constData());
    QCOMPARE(m_server->stats().internalErrors, 1u);
    // Requests that change nothing need no commit and are still answered.
    QCOMPARE(
        other.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "3", "DATA")).value_or("<none>"),
        QByteArray("DUNNO"));
}

void PolicyServerTest::shutdownAnswersWhatWasDecidedAndClosesEverything()
{
    start();
    Client client;
    Client idle;
    QVERIFY(client.connectTo(m_server->serverPort()));
    QVERIFY(idle.connectTo(m_server->serverPort()));
    QVERIFY(client.ask(rcpt("192.0.2.10", "a@s.example", "b@d.example", "1")).has_value());
    QTRY_COMPARE(m_server->connectionCount(), 2);

    QSignalSpy finished(m_server.get(), &PolicyServer::shutdownFinished);
    client.send(rcpt("192.0.2.10", "a@s.example", "c@d.example", "2"));
    QTRY_COMPARE(m_server->stats().requests, 2u); // decided, answer waiting for the commit
    m_server->shutdown();
    const QList<QByteArray> last = client.answers(1);
    QCOMPARE(last.size(), 1);
    QVERIFY(last.first().startsWith("DEFER_IF_PERMIT"));
    QVERIFY(client.closedByServer());
    QVERIFY(idle.closedByServer());
    QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, WaitMs);
    QCOMPARE(m_server->connectionCount(), 0);
    Client late;
    QVERIFY(!late.connectTo(m_server->serverPort()) || late.closedByServer());
}

QTEST_GUILESS_MAIN(PolicyServerTest)
#include "tst_policy_server.moc"
