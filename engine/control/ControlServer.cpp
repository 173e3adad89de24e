// SPDX-License-Identifier: GPL-3.0-or-later
#include "ControlServer.h"

#include "ControlTlsServer.h"
#include "EventBinary.h"
#include "EventJson.h"
#include "events/EventLog.h"
#include "protocol/Envelope.h"
#include "protocol/JsonFields.h"
#include "protocol/Methods.h"
#include "util/LogLine.h"

#include <QLoggingCategory>
#include <QNetworkRequest>
#include <QPointer>
#include <QSslSocket>
#include <QWebSocket>
#include <QWebSocketCorsAuthenticator>
#include <cstdio>

Q_LOGGING_CATEGORY(lcControl, "greygate.control")

namespace greygate {

using namespace protocol;

namespace {

// A method answered later (the queue in the shared Redis store) gets an error after this
// long: the store's own bounds (a listing's 10 s) normally answer first.
constexpr int kAnswerLaterTimeoutMs = 15'000;

} // namespace

ControlServer::ControlServer(GreylistEngine &engine, Store &store, GreylistPolicyHandler &handler,
                             EventLog &events, const Clock &clock, ControlOptions options,
                             QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_events(events)
    , m_api(engine, store, handler, events, clock, m_options)
    , m_limiter(m_options.banAfterFailures, qint64(m_options.failureWindowSeconds) * 1000,
                qint64(m_options.banSeconds) * 1000)
    , m_server(QStringLiteral("greygate"), QWebSocketServer::NonSecureMode)
    , m_windows{EventWindow(&EventJson::appendJson, events.capacity()),
                EventWindow(&EventJson::appendCompact, events.capacity()),
                EventWindow(&EventBinary::append, events.capacity(), EventWindow::Separator::None)}
{
    m_monotonic.start();
    m_api.setConnectionCount([this] { return connectionCount(); });
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(m_options.flushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &ControlServer::flushEvents);
    connect(&m_server, &QWebSocketServer::newConnection, this, &ControlServer::acceptConnections);
    connect(&m_plain, &QTcpServer::newConnection, this, &ControlServer::acceptPlain);
    connect(&m_server, &QWebSocketServer::originAuthenticationRequired, this,
            &ControlServer::checkOrigin);
    m_events.setWakeup([this] { scheduleFlush(); });
}

ControlServer::~ControlServer()
{
    m_events.setWakeup({});
    stop();
}

bool ControlServer::start(QString *error)
{
    const bool certificateGiven =
        !m_options.tlsCertFile.isEmpty() || !m_options.tlsKeyFile.isEmpty();
    const std::optional<bool> tls =
        ControlCertificate::useTls(m_options.address, m_options.tlsMode, certificateGiven, error);
    if (!tls)
        return false;
    if (!m_tokens.load(m_options.tokenDir, error))
        return false;
    m_server.setMaxPendingConnections(m_options.maxConnections);
    m_server.setHandshakeTimeout(std::chrono::milliseconds(m_options.handshakeTimeoutMs));
    if (*tls) {
        if (!startTls(error))
            return false;
    } else if (!m_plain.listen(m_options.address, m_options.port)) {
        *error = QStringLiteral("cannot listen on %1 port %2: %3")
                     .arg(m_options.address.toString())
                     .arg(m_options.port)
                     .arg(m_plain.errorString());
        return false;
    }
    qCInfo(lcControl).noquote() << LogLine("control API listening")
                                       .add("address", serverAddress().toString())
                                       .add("port", qint64(serverPort()))
                                       .add("tls", m_tls ? "yes" : "no")
                                       .text();
    return true;
}

bool ControlServer::startTls(QString *error)
{
    bool generated = false;
    const std::optional<ControlCertificate> identity =
        ControlCertificate::load(m_options.tlsCertFile, m_options.tlsKeyFile, m_options.tokenDir,
                                 m_options.proxyName, &generated, error);
    if (!identity)
        return false;
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setLocalCertificate(identity->certificate);
    config.setPrivateKey(identity->key);
    config.setProtocol(QSsl::TlsV1_2OrLater);
    config.setPeerVerifyMode(QSslSocket::VerifyNone); // clients prove themselves with a token
    // At most maxConnections at once, handshakes included: stalled clients cannot hold them.
    m_tls = std::make_unique<ControlTlsServer>([this](int inHandshake) {
        if (inHandshake + int(m_upgrading.size() + m_sessions.size()) < m_options.maxConnections)
            return true;
        qCWarning(lcControl).noquote()
            << LogLine("control connection refused: too many, handshakes included")
                   .add("in_handshake", qint64(inHandshake))
                   .text();
        return false;
    });
    m_tls->setSslConfiguration(config);
    m_tls->setHandshakeTimeout(m_options.handshakeTimeoutMs);
    m_tls->setMaxPendingConnections(m_options.maxConnections);
    // Qt 6.4's QSslServer announces a connection whose handshake is done with
    // pendingConnectionAvailable; newConnection comes at the TCP accept, with nothing pending.
    connect(m_tls.get(), &QTcpServer::pendingConnectionAvailable, this,
            &ControlServer::acceptEncrypted);
    connect(m_tls.get(), &QSslServer::errorOccurred, this,
            [](QSslSocket *socket, QAbstractSocket::SocketError) {
                qCDebug(lcControl).noquote() << LogLine("control TLS handshake failed")
                                                    .add("peer", socket->peerAddress().toString())
                                                    .add("error", socket->errorString())
                                                    .text();
            });
    if (!m_tls->listen(m_options.address, m_options.port)) {
        *error = QStringLiteral("cannot listen on %1 port %2: %3")
                     .arg(m_options.address.toString())
                     .arg(m_options.port)
                     .arg(m_tls->errorString());
        m_tls.reset();
        return false;
    }
    m_fingerprint = identity->fingerprint();
    const QString certFile = m_options.tlsCertFile.isEmpty()
                                 ? ControlCertificate::generatedCertFile(m_options.tokenDir)
                                 : m_options.tlsCertFile;
    qCInfo(lcControl).noquote() << LogLine("control API certificate")
                                       .add("sha256", m_fingerprint)
                                       .add("file", certFile)
                                       .add("generated", generated ? "yes" : "no")
                                       .text();
    // On stderr too, whatever the log level, for the admin who pins it in a console.
    const QByteArray line =
        "greygated: control API certificate SHA-256 fingerprint " + m_fingerprint.toLatin1() + '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
    return true;
}

QString ControlServer::peerKey(const QHostAddress &address, quint16 port)
{
    return address.toString() + u'|' + QString::number(port);
}

int ControlServer::handshakesInProgress() const
{
    return m_tls ? m_tls->handshakesInProgress() : 0;
}

quint16 ControlServer::serverPort() const
{
    return m_tls ? m_tls->serverPort() : m_plain.serverPort();
}

QHostAddress ControlServer::serverAddress() const
{
    return m_tls ? m_tls->serverAddress() : m_plain.serverAddress();
}

void ControlServer::upgrade(QTcpSocket *socket)
{
    // The WebSocket server reads the upgrade (from the decrypted stream for TLS) and hands
    // the QWebSocket to acceptConnections(). It applies no timeout to a connection handed
    // to it, so one that never sends its upgrade is aborted here.
    const QString peer = peerKey(socket->peerAddress(), socket->peerPort());
    QPointer<QTcpSocket> guard(socket);
    m_upgrading.insert(peer, guard);
    QTimer::singleShot(m_options.handshakeTimeoutMs, this, [this, guard, peer] {
        if (!m_upgrading.remove(peer) || !guard)
            return;
        qCDebug(lcControl).noquote() << LogLine("control connection dropped: no WebSocket "
                                                "upgrade in time")
                                            .add("peer", guard->peerAddress().toString())
                                            .text();
        guard->abort();
    });
    m_server.handleConnection(socket);
}

void ControlServer::acceptPlain()
{
    while (QTcpSocket *socket = m_plain.nextPendingConnection()) {
        // Connections still in their upgrade are bounded as TLS handshakes are.
        if (int(m_upgrading.size()) >= m_options.maxConnections) {
            qCWarning(lcControl).noquote()
                << LogLine("control connection refused: too many in their WebSocket upgrade")
                       .add("peer", socket->peerAddress().toString())
                       .text();
            socket->abort();
            socket->deleteLater();
            continue;
        }
        upgrade(socket);
    }
}

void ControlServer::acceptEncrypted()
{
    while (QTcpSocket *socket = m_tls->nextPendingConnection())
        upgrade(socket);
}

void ControlServer::stop()
{
    if (m_tls)
        m_tls->close();
    m_plain.close();
    m_server.close();
    std::vector<QWebSocket *> sockets;
    for (const auto &[socket, session] : m_sessions)
        sockets.push_back(socket);
    for (QWebSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
        dropSession(socket);
    }
}

int ControlServer::subscriberCount() const
{
    int n = 0;
    for (const auto &[socket, session] : m_sessions)
        n += session->subscribed ? 1 : 0;
    return n;
}

bool ControlServer::isLoopbackHost(QStringView host)
{
    // "localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080": the name, without port.
    QStringView name = host;
    if (name.startsWith(u'[')) {
        const qsizetype end = name.indexOf(u']');
        if (end < 0)
            return false;
        name = name.sliced(1, end - 1);
    } else if (name.count(u':') == 1) {
        name = name.first(name.indexOf(u':'));
    }
    if (name.compare(u"localhost", Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(name.toString());
    return !address.isNull() && address.isLoopback();
}

void ControlServer::checkOrigin(QWebSocketCorsAuthenticator *authenticator)
{
    // Programs (greygatectl, the console) send no Origin; a browser always does.
    const QString origin = authenticator->origin();
    const bool allowed = origin.isEmpty() || m_options.allowedOrigins.contains(origin);
    authenticator->setAllowed(allowed);
    if (!allowed) {
        qCWarning(lcControl).noquote()
            << LogLine("control connection refused: browser origin").add("origin", origin).text();
    }
}

void ControlServer::acceptConnections()
{
    while (QWebSocket *socket = m_server.nextPendingConnection()) {
        auto session = std::make_unique<Session>();
        Session *s = session.get();
        s->socket = socket;
        s->tcp = m_upgrading.take(peerKey(socket->peerAddress(), socket->peerPort()));
        s->plain = s->tcp && !m_tls;
        s->peer = socket->peerAddress().toString();
        s->tokens = m_options.burst;
        s->refilledAt = m_monotonic.elapsed();
        m_sessions.emplace(socket, std::move(session));
        socket->setMaxAllowedIncomingMessageSize(quint64(m_options.hardMessageBytes));
        socket->setMaxAllowedIncomingFrameSize(quint64(m_options.hardMessageBytes));
        connect(socket, &QWebSocket::textMessageReceived, this,
                [this, s](const QString &message) { onMessage(s, message); });
        connect(socket, &QWebSocket::binaryMessageReceived, this, [this, s] { onBinary(s); });
        connect(socket, &QWebSocket::disconnected, this, [this, socket] { dropSession(socket); });

        if (int(m_sessions.size()) > m_options.maxConnections) {
            close(s, QWebSocketProtocol::CloseCodePolicyViolated,
                  QStringLiteral("too many connections"));
            continue;
        }
        if (m_limiter.banned(s->peer)) {
            close(s, QWebSocketProtocol::CloseCodePolicyViolated,
                  QStringLiteral("banned for repeated authentication failures"));
            continue;
        }
        const QNetworkRequest request = socket->request();
        const QString host = QString::fromLatin1(request.rawHeader("Host"));
        if (m_options.address.isLoopback() && !isLoopbackHost(host)) {
            qCWarning(lcControl).noquote() << LogLine("control connection refused: Host is not "
                                                      "loopback (DNS rebinding?)")
                                                  .add("peer", s->peer)
                                                  .add("host", host.left(256))
                                                  .text();
            close(s, QWebSocketProtocol::CloseCodePolicyViolated,
                  QStringLiteral("Host must name the loopback address"));
            continue;
        }
        const QByteArray authorization = request.rawHeader("Authorization");
        if (!authorization.isEmpty()) {
            constexpr QByteArrayView bearer("Bearer ");
            const ControlRole role =
                authorization.startsWith(bearer)
                    ? m_tokens.check(QByteArrayView(authorization).sliced(bearer.size()))
                    : ControlRole::None;
            if (role == ControlRole::None) {
                authFailed(s, QStringLiteral("wrong token in the Authorization header"));
                continue;
            }
            m_limiter.succeed(s->peer);
            s->caller.role = role;
        }
        s->caller.who = (s->caller.role == ControlRole::Admin ? QStringLiteral("admin@")
                                                              : QStringLiteral("readonly@")) +
                        s->peer;
        if (s->caller.role == ControlRole::None) {
            QPointer<QWebSocket> guard(socket);
            QTimer::singleShot(m_options.authTimeoutMs, this, [this, guard] {
                if (!guard)
                    return;
                const auto it = m_sessions.find(guard.data());
                if (it != m_sessions.end() && it->second->caller.role == ControlRole::None)
                    close(it->second.get(), QWebSocketProtocol::CloseCodePolicyViolated,
                          QStringLiteral("authentication timed out"));
            });
        }
    }
}

void ControlServer::close(Session *s, int code, const QString &reason)
{
    if (s->closing)
        return;
    s->closing = true;
    s->subscribed = false;
    s->socket->close(QWebSocketProtocol::CloseCode(code), reason);
}

void ControlServer::dropSession(QWebSocket *socket)
{
    const auto it = m_sessions.find(socket);
    if (it == m_sessions.end())
        return;
    m_sessions.erase(it);
    socket->deleteLater();
}

void ControlServer::authFailed(Session *s, const QString &why)
{
    const bool banned = m_limiter.fail(s->peer);
    qCWarning(lcControl).noquote() << LogLine("control authentication failed")
                                          .add("peer", s->peer)
                                          .add("reason", why)
                                          .add("banned", banned ? "yes" : "no")
                                          .text();
    s->socket->sendTextMessage(QString::fromUtf8(Envelope::error(
        QJsonValue::Null,
        ProtocolError{ErrorCode::Unauthenticated, QStringLiteral("authentication failed"), {}})));
    close(s, QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("authentication failed"));
}

bool ControlServer::rateLimited(Session *s)
{
    const qint64 now = m_monotonic.elapsed();
    s->tokens =
        std::min<double>(m_options.burst, s->tokens + double(now - s->refilledAt) *
                                                          m_options.requestsPerSecond / 1000.0);
    s->refilledAt = now;
    if (s->tokens >= 1) {
        s->tokens -= 1;
        return false;
    }
    return true;
}

void ControlServer::onBinary(Session *s)
{
    if (s->closing)
        return;
    s->socket->sendTextMessage(QString::fromUtf8(Envelope::error(
        QJsonValue::Null,
        ProtocolError::badRequest(QString(), QStringLiteral("binary messages are not spoken")))));
}

void ControlServer::onMessage(Session *s, const QString &message)
{
    if (s->closing)
        return;
    const auto send = [s](const QByteArray &bytes) {
        s->socket->sendTextMessage(QString::fromUtf8(bytes));
    };
    if (rateLimited(s)) {
        if (++s->refused >= m_options.closeAfterRateLimited) {
            close(s, QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("rate limited"));
            return;
        }
        send(Envelope::error(QJsonValue::Null,
                             ProtocolError{ErrorCode::RateLimited,
                                           QStringLiteral("too many requests: at most %1 per "
                                                          "second")
                                               .arg(m_options.requestsPerSecond),
                                           QString()}));
        return;
    }
    ProtocolError error;
    QJsonValue id;
    const std::optional<Request> request =
        Envelope::decodeRequest(message.toUtf8(), m_options.maxMessageBytes, &error, &id);
    if (!request) {
        send(Envelope::error(id, error));
        if (s->caller.role == ControlRole::None)
            close(s, QWebSocketProtocol::CloseCodePolicyViolated,
                  QStringLiteral("not authenticated"));
        return;
    }
    if (s->caller.role == ControlRole::None) {
        if (request->method != u"auth") {
            send(Envelope::error(id, ProtocolError{ErrorCode::Unauthenticated,
                                                   QStringLiteral("authenticate first: "
                                                                  "{\"method\":\"auth\",\"params\":"
                                                                  "{\"token\":...}}"),
                                                   QString()}));
            close(s, QWebSocketProtocol::CloseCodePolicyViolated,
                  QStringLiteral("not authenticated"));
            return;
        }
        authenticate(s, id, request->params);
        return;
    }
    const Methods::Method *method = Methods::find(request->method);
    if (!method || method->name == u"auth") {
        send(Envelope::error(
            id, ProtocolError::badRequest(QStringLiteral("method"),
                                          method ? QStringLiteral("already authenticated")
                                                 : QStringLiteral("unknown method"))));
        return;
    }
    if (method->access == Access::Write && s->caller.role != ControlRole::Admin) {
        send(Envelope::error(
            id, ProtocolError{ErrorCode::Forbidden,
                              QStringLiteral("the read-only token cannot call ") + request->method,
                              QString()}));
        return;
    }
    if (answerLater(s, id, request->method, request->params))
        return;
    std::optional<QJsonValue> result;
    if (request->method == u"events.subscribe") {
        // subscribe() answers Undefined for refused params: that is an error, not a result.
        if (QJsonValue v = subscribe(s, request->params, &error); !v.isUndefined())
            result = std::move(v);
    } else if (request->method == u"events.unsubscribe") {
        s->subscribed = false;
        result = QJsonObject{{QStringLiteral("lastId"), qint64(s->cursor)}};
    } else {
        result = m_api.call(request->method, request->params, s->caller, &error);
    }
    send(result ? Envelope::result(id, *result) : Envelope::error(id, error));
    if (!result && error.code == ErrorCode::Internal) {
        qCWarning(lcControl).noquote() << LogLine("control request failed")
                                              .add("method", request->method)
                                              .add("error", error.message)
                                              .text();
    }
}

bool ControlServer::answerLater(Session *s, const QJsonValue &id, const QString &method,
                                const QJsonObject &params)
{
    // The reply comes from the shared store; the session may be gone by then, and a store
    // that never answers is bounded here: the client hears a clear error, and a late answer
    // is dropped.
    struct Pending
    {
        bool answered = false;
    };
    auto pending = std::make_shared<Pending>();
    const QPointer<QWebSocket> socket = s->socket;
    const auto answer = [self = QPointer<ControlServer>(this), socket, method,
                         pending](const QByteArray &bytes, const QString &failure) {
        if (pending->answered || !self)
            return;
        pending->answered = true;
        const auto it = socket ? self->m_sessions.find(socket.data()) : self->m_sessions.end();
        if (it == self->m_sessions.end() || it->second->closing)
            return;
        socket->sendTextMessage(QString::fromUtf8(bytes));
        if (!failure.isEmpty()) {
            qCWarning(lcControl).noquote() << LogLine("control request failed")
                                                  .add("method", method)
                                                  .add("error", failure)
                                                  .text();
        }
    };
    const bool taken = m_api.callAsync(
        method, params, s->caller,
        [answer, id](std::optional<QJsonValue> result, const ProtocolError &error) {
            answer(result ? Envelope::result(id, *result) : Envelope::error(id, error),
                   !result && error.code == ErrorCode::Internal ? error.message : QString());
        });
    if (taken && !pending->answered) {
        QTimer::singleShot(kAnswerLaterTimeoutMs, s->socket, [answer, id] {
            const ProtocolError late{ErrorCode::Internal,
                                     QStringLiteral("the shared store did not answer within %1 s: "
                                                    "try again, or narrow the query")
                                         .arg(kAnswerLaterTimeoutMs / 1000),
                                     QString()};
            answer(Envelope::error(id, late), late.message);
        });
    }
    return taken;
}

void ControlServer::authenticate(Session *s, const QJsonValue &id, const QJsonObject &params)
{
    JsonFields f(params, QStringLiteral("params"));
    QString token;
    f.onlyKnown({u"token"});
    if (!f.string(u"token", &token, true, ControlTokens::kMaxTokenBytes)) {
        s->socket->sendTextMessage(QString::fromUtf8(Envelope::error(id, f.error())));
        close(s, QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("not authenticated"));
        return;
    }
    const ControlRole role = m_tokens.check(token.toUtf8());
    if (role == ControlRole::None) {
        authFailed(s, QStringLiteral("wrong token"));
        return;
    }
    m_limiter.succeed(s->peer);
    s->caller.role = role;
    s->caller.who =
        (role == ControlRole::Admin ? QStringLiteral("admin@") : QStringLiteral("readonly@")) +
        s->peer;
    s->socket->sendTextMessage(QString::fromUtf8(
        Envelope::result(id, QJsonObject{{QStringLiteral("role"), role == ControlRole::Admin
                                                                      ? QStringLiteral("admin")
                                                                      : QStringLiteral("readonly")},
                                         {QStringLiteral("apiVersion"), Methods::kApiVersion}})));
}

} // namespace greygate
