// SPDX-License-Identifier: GPL-3.0-or-later
#include "ScriptedSmtpBackend.h"

#include <QHostAddress>
#include <QMutexLocker>
#include <QTcpServer>
#include <QTcpSocket>
#include <memory>
#include <utility>

namespace greygate::test {

namespace {

// A message larger than this, or a command line longer, ends the session: the backend is
// a test peer, but the proxy under test must not be able to make it grow without bound.
constexpr qsizetype MaxBuffered = 64 * 1024 * 1024;

struct SessionState
{
    QByteArray input;
    bool inData = false;
    bool stalled = false;
    bool hasMail = false;
    ScriptedSmtpBackend::Message message;
};

QByteArray verbOf(const QByteArray &line)
{
    const qsizetype space = line.indexOf(' ');
    return (space < 0 ? line : line.left(space)).toUpper();
}

QByteArray addressOf(const QByteArray &line)
{
    const qsizetype open = line.indexOf('<');
    const qsizetype close = line.indexOf('>', open + 1);
    return open >= 0 && close > open ? line.mid(open + 1, close - open - 1) : QByteArray();
}

} // namespace

ScriptedSmtpBackend::ScriptedSmtpBackend() = default;

ScriptedSmtpBackend::~ScriptedSmtpBackend()
{
    stopListening();
}

bool ScriptedSmtpBackend::startListening(QString *error)
{
    start();
    // The thread says when it listens (or failed to); bounded so a hung start fails the test.
    if (!m_ready.tryAcquire(1, 10'000)) {
        *error = QStringLiteral("scripted backend did not start");
        return false;
    }
    if (m_port == 0) {
        *error = m_error;
        return false;
    }
    return true;
}

void ScriptedSmtpBackend::stopListening()
{
    if (isRunning()) {
        quit();
        wait(10'000);
    }
}

void ScriptedSmtpBackend::setFault(Stage stage, Fault fault, const QByteArray &reply)
{
    const QMutexLocker locker(&m_lock);
    m_script = Script{stage, fault, reply};
}

void ScriptedSmtpBackend::dropSessions()
{
    QTcpServer *server = m_server;
    if (!server)
        return;
    QMetaObject::invokeMethod(
        server,
        [server] {
            for (QTcpSocket *socket : server->findChildren<QTcpSocket *>())
                socket->abort();
        },
        Qt::BlockingQueuedConnection);
}

ScriptedSmtpBackend::Script ScriptedSmtpBackend::script() const
{
    const QMutexLocker locker(&m_lock);
    return m_script;
}

QList<ScriptedSmtpBackend::Message> ScriptedSmtpBackend::messages() const
{
    const QMutexLocker locker(&m_lock);
    return m_messages;
}

qsizetype ScriptedSmtpBackend::messageCount() const
{
    const QMutexLocker locker(&m_lock);
    return m_messages.size();
}

void ScriptedSmtpBackend::run()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0)) {
        m_error = QStringLiteral("scripted backend cannot listen: ") + server.errorString();
        m_ready.release();
        return;
    }
    QObject::connect(&server, &QTcpServer::newConnection, &server, [this, &server] {
        while (QTcpSocket *socket = server.nextPendingConnection())
            serve(socket);
    });
    m_port = server.serverPort();
    m_server = &server;
    m_ready.release();
    exec();
    m_server = nullptr;
    // Sessions still open are the server's children: closed and deleted with it.
    m_open = 0;
}

void ScriptedSmtpBackend::serve(QTcpSocket *socket)
{
    ++m_open;
    ++m_seen;
    auto state = std::make_shared<SessionState>();
    // The script as it is now: a session the proxy keeps open meets a fault set later.
    const auto faultAt = [this, socket, state](Stage stage) {
        const Script plan = script();
        if (plan.stage != stage || plan.fault == Fault::None)
            return false;
        switch (plan.fault) {
        case Fault::Reply:
            socket->write(plan.reply + "\r\n");
            if (plan.reply.startsWith("421"))
                socket->disconnectFromHost();
            return true;
        case Fault::Disconnect:
            socket->abort();
            return true;
        case Fault::Stall:
            state->stalled = true;
            return true;
        case Fault::None:
            break;
        }
        return false;
    };
    QObject::connect(socket, &QTcpSocket::disconnected, socket, [this, socket] {
        --m_open;
        socket->deleteLater();
    });
    QObject::connect(socket, &QTcpSocket::readyRead, socket, [this, socket, state, faultAt] {
        state->input += socket->readAll();
        if (state->stalled) {
            state->input.clear(); // a stalled peer reads and never answers
            return;
        }
        if (state->input.size() > MaxBuffered) {
            socket->abort();
            return;
        }
        qsizetype end;
        while (!state->stalled && socket->state() == QAbstractSocket::ConnectedState &&
               (end = state->input.indexOf("\r\n")) >= 0) {
            const QByteArray line = state->input.left(end);
            state->input.remove(0, end + 2);
            if (state->inData) {
                if (line == ".") {
                    state->inData = false;
                    if (faultAt(Stage::Dot))
                        continue;
                    socket->write("250 2.0.0 Ok: queued\r\n");
                    state->hasMail = false;
                    const QMutexLocker locker(&m_lock);
                    m_messages.append(std::exchange(state->message, {}));
                } else {
                    state->message.content += (line.startsWith('.') ? line.mid(1) : line) + "\r\n";
                }
                continue;
            }
            const QByteArray verb = verbOf(line);
            if (verb == "EHLO") {
                if (!faultAt(Stage::Ehlo))
                    socket->write("250-backend.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n"
                                  "250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
            } else if (verb == "HELO") {
                if (!faultAt(Stage::Ehlo))
                    socket->write("250 backend.test\r\n");
            } else if (verb == "MAIL") {
                if (!faultAt(Stage::Mail)) {
                    state->hasMail = true;
                    state->message = Message{addressOf(line), {}, {}};
                    socket->write("250 2.1.0 Ok\r\n");
                }
            } else if (verb == "RCPT") {
                // As an MTA does: the order of the transaction's commands is kept.
                if (!state->hasMail) {
                    socket->write("503 5.5.1 Error: need MAIL command\r\n");
                } else if (!faultAt(Stage::Rcpt)) {
                    state->message.recipients.append(addressOf(line));
                    socket->write("250 2.1.5 Ok\r\n");
                }
            } else if (verb == "DATA") {
                if (state->message.recipients.isEmpty()) {
                    socket->write("554 5.5.1 Error: no valid recipients\r\n");
                } else if (!faultAt(Stage::Data)) {
                    state->inData = true;
                    socket->write("354 End data with <CR><LF>.<CR><LF>\r\n");
                }
            } else if (verb == "RSET") {
                state->message = {};
                state->hasMail = false;
                socket->write("250 2.0.0 Ok\r\n");
            } else if (verb == "NOOP") {
                socket->write("250 2.0.0 Ok\r\n");
            } else if (verb == "QUIT") {
                socket->write("221 2.0.0 Bye\r\n");
                socket->disconnectFromHost();
            } else {
                socket->write("502 5.5.2 Command not recognized\r\n");
            }
        }
    });
    if (!faultAt(Stage::Greeting))
        socket->write("220 backend.test ESMTP scripted\r\n");
}

} // namespace greygate::test
