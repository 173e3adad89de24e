// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What the SMTP proxy's session tests share: a client driven from the test's event loop and
// the proxy over the real decision engine in front of a TestBackend.

#include "TestBackend.h"
#include "control/DecisionRecorder.h"
#include "events/EventLog.h"
#include "greylist/Clock.h"
#include "greylist/GreylistEngine.h"
#include "policy/PolicyJson.h"
#include "policyd/GreylistPolicyHandler.h"
#include "smtp/PolicyHandlerDecider.h"
#include "smtp/SmtpServer.h"
#include "store/SqliteStore.h"

#include <QDeadlineTimer>
#include <QSignalSpy>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>
#include <functional>
#include <memory>
#include <type_traits>

namespace greygate::smtptest {

inline const QByteArray kMail = QByteArrayLiteral("MAIL FROM:<alice@sender.example>\r\n");

// One client connection, driven from the test's event loop (the server runs in it too).
class Client
{
public:
    // `from`: a loopback address of its own (127.0.0.2 ...), as a different client.
    bool connectTo(quint16 port, const QHostAddress &from = {})
    {
        if (!from.isNull() && !socket.bind(from))
            return false;
        socket.connectToHost(QHostAddress::LocalHost, port);
        QSignalSpy connected(&socket, &QTcpSocket::connected);
        return socket.state() == QAbstractSocket::ConnectedState || connected.wait(5000);
    }
    void send(const QByteArray &bytes) { socket.write(bytes); }

    // The next n complete replies (multi-line replies whole), or fewer on timeout.
    QList<QByteArray> replies(int n, int timeoutMs = 5000)
    {
        QList<QByteArray> out;
        const QDeadlineTimer deadline(timeoutMs);
        while (out.size() < n && !deadline.hasExpired()) {
            if (takeReply(&out))
                continue;
            if (!socket.waitForReadyRead(0))
                QTest::qWait(5);
            buffer.append(socket.readAll());
        }
        return out;
    }
    QByteArray reply(int timeoutMs = 5000) { return replies(1, timeoutMs).value(0); }
    bool waitClosed(int timeoutMs = 5000)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (socket.state() != QAbstractSocket::UnconnectedState && !deadline.hasExpired()) {
            QTest::qWait(5);
            buffer.append(socket.readAll());
        }
        return socket.state() == QAbstractSocket::UnconnectedState;
    }

    QSslSocket socket;
    QByteArray buffer;

private:
    bool takeReply(QList<QByteArray> *out)
    {
        qsizetype pos = 0;
        while (true) {
            const qsizetype lf = buffer.indexOf("\r\n", pos);
            if (lf < 0)
                return false;
            const QByteArray line = buffer.mid(pos, lf - pos);
            pos = lf + 2;
            if (line.size() <= 3 || line[3] == ' ') {
                out->append(buffer.left(pos));
                buffer.remove(0, pos);
                return true;
            }
        }
    }
};

inline int code(const QByteArray &reply)
{
    return reply.left(3).toInt();
}

// The daemon's recorder over the handler. Its constructor lost the engine parameter while
// the recorder learnt the handler's own outcome: either form is accepted here.
inline std::unique_ptr<DecisionRecorder> makeRecorder(GreylistPolicyHandler &handler,
                                                      GreylistEngine &engine, EventLog &events,
                                                      const Clock &clock)
{
    if constexpr (std::is_constructible_v<DecisionRecorder, GreylistPolicyHandler &, EventLog &,
                                          const Clock &>)
        return std::make_unique<DecisionRecorder>(handler, events, clock);
    else
        return std::make_unique<DecisionRecorder>(handler, engine, events, clock);
}

// The proxy over the real engine (a fresh SQLite store, a manual clock) and a TestBackend.
struct Proxy
{
    QTemporaryDir dir;
    ManualClock clock{1'800'000'000};
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<GreylistEngine> engine;
    std::unique_ptr<GreylistPolicyHandler> handler;
    EventLog events;
    std::unique_ptr<DecisionRecorder> recorder;
    std::unique_ptr<PolicyHandlerDecider> decider;
    std::unique_ptr<SmtpServer> server;
    TestBackend backend;
    SmtpProxyOptions options;

    // Starts the proxy over a fresh store; `tweak` adjusts the options first.
    bool start(const std::function<void(SmtpProxyOptions &)> &tweak = {},
               const QByteArray &policies = {});
    // Connects (from `from` when given), reads the banner and says EHLO.
    bool greet(Client &c, const QHostAddress &from = {})
    {
        if (!c.connectTo(server->serverPort(), from) || code(c.reply()) != 220)
            return false;
        c.send("EHLO client.example\r\n");
        return code(c.reply()) == 250;
    }
};

inline bool Proxy::start(const std::function<void(SmtpProxyOptions &)> &tweak,
                         const QByteArray &policies)
{
    Proxy &p = *this;
    if (!p.backend.listen())
        return false;
    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = p.dir.path();
    p.store = std::make_unique<SqliteStore>(storeOptions);
    QString error;
    if (!p.store->open(&error))
        return false;
    p.engine = std::make_unique<GreylistEngine>(GreylistConfig{}, p.clock);
    GreylistPolicyOptions policy;
    policy.hostname = "mx.proxy.test";
    p.handler = std::make_unique<GreylistPolicyHandler>(*p.engine, *p.store, p.clock, policy);
    if (!policies.isEmpty()) {
        const std::optional<PolicyDocument> doc = PolicyJson::parse(policies, &error);
        if (!doc || !p.handler
                         ->changePolicies([&](PolicySet &set) {
                             return set.importDocument(*doc, QStringLiteral("test"), p.clock.now());
                         })
                         .ok())
            return false;
    }
    // As the daemon wires it: decisions through the recorder into the event log.
    p.recorder = makeRecorder(*p.handler, *p.engine, p.events, p.clock);
    p.decider = std::make_unique<PolicyHandlerDecider>(*p.recorder, *p.handler, *p.engine, p.clock);
    p.decider->setEventLog(&p.events);
    p.options.listenAddress = QHostAddress(QHostAddress::LocalHost);
    p.options.listenPort = 0;
    p.options.backendAddress = QHostAddress(QHostAddress::LocalHost);
    p.options.backendPort = p.backend.port();
    p.options.hostname = "mx.proxy.test";
    // GREYGATE_TEST_SMTP_THREADS=N: the same tests against sessions on N I/O threads.
    p.options.threads = qEnvironmentVariableIntValue("GREYGATE_TEST_SMTP_THREADS");
    if (tweak)
        tweak(p.options);
    p.server = std::make_unique<SmtpServer>(p.options, *p.decider);
    p.server->setEventLog(&p.events, &p.clock);
    if (!p.server->listen(&error)) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    return true;
}

} // namespace greygate::smtptest
