// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxyConnection.h"

#include "protocol/BinaryEvents.h"
#include "protocol/Envelope.h"
#include "protocol/Fingerprint.h"
#include "protocol/Methods.h"

#include <QCryptographicHash>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QSslConfiguration>

namespace greygate {

using namespace protocol;

ProxyConnection::ProxyConnection(Options options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_pin(Fingerprint::normalise(m_options.pinnedSha256))
{
    m_clock.start();
    connect(&m_socket, &QWebSocket::sslErrors, this, &ProxyConnection::onSslErrors);
    m_socket.setMaxAllowedIncomingMessageSize(quint64(m_options.maxMessageBytes));
    m_socket.setMaxAllowedIncomingFrameSize(quint64(m_options.maxMessageBytes));
    connect(&m_socket, &QWebSocket::connected, this, &ProxyConnection::onConnected);
    connect(&m_socket, &QWebSocket::disconnected, this, &ProxyConnection::onDisconnected);
    connect(&m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, [this] {
        if (m_state != State::Refused) // keep the refusal's reason
            m_lastError = m_socket.errorString();
        // A failed connect may not emit disconnected(): treat both the same, once.
        if (m_state == State::Connecting)
            onDisconnected();
    });
    connect(&m_socket, &QWebSocket::textMessageReceived, this,
            [this](const QString &message) { onMessage(message.toUtf8()); });
    // Event pushes come as binary frames of UTF-8 JSON (we subscribe with "binary"): no
    // UTF-16 round trip on either side for what is most of the traffic.
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, &ProxyConnection::onMessage);
    m_timeouts.setInterval(250);
    connect(&m_timeouts, &QTimer::timeout, this, &ProxyConnection::expire);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &ProxyConnection::connectSocket);
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        if (m_state == State::Connecting || m_state == State::Authenticating) {
            m_lastError = QStringLiteral("timed out connecting");
            m_socket.abort();
            onDisconnected();
        }
    });
}

ProxyConnection::~ProxyConnection()
{
    m_wantOpen = false;
    m_socket.disconnect(this);
    m_socket.abort();
}

QString ProxyConnection::stateName(State state)
{
    switch (state) {
    case State::Disconnected:
        return QStringLiteral("disconnected");
    case State::Connecting:
        return QStringLiteral("connecting");
    case State::Authenticating:
        return QStringLiteral("authenticating");
    case State::Connected:
        return QStringLiteral("connected");
    case State::Reconnecting:
        return QStringLiteral("reconnecting");
    case State::Refused:
        return QStringLiteral("refused");
    }
    return QString();
}

void ProxyConnection::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void ProxyConnection::open()
{
    m_wantOpen = true;
    m_backoffMs = 0;
    m_certificateMismatch = false;
    if (!m_options.pinnedSha256.trimmed().isEmpty() && m_pin.isEmpty()) {
        refuse(QStringLiteral("the pinned fingerprint \"%1\" is not a SHA-256 (64 hex digits)")
                   .arg(m_options.pinnedSha256.left(128)));
        return;
    }
    if (m_state == State::Disconnected || m_state == State::Refused)
        connectSocket();
}

void ProxyConnection::close()
{
    m_wantOpen = false;
    m_reconnectTimer.stop();
    m_connectTimer.stop();
    failAll(QStringLiteral("connection closed"));
    m_socket.close();
    setState(State::Disconnected);
}

void ProxyConnection::connectSocket()
{
    if (!m_wantOpen)
        return;
    setState(State::Connecting);
    QNetworkRequest request(m_options.url);
    if (m_options.authorizationHeader)
        request.setRawHeader("Authorization", "Bearer " + m_options.token);
    m_connectTimer.start(m_options.connectTimeoutMs);
    m_certificateChecked = false;
    if (m_options.url.scheme() == u"wss") {
        // No CA is trusted: only the pin (or the caller, on first use) vouches for the proxy,
        // and every handshake comes through onSslErrors() where that is checked.
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setCaCertificates({});
        config.setProtocol(QSsl::TlsV1_2OrLater);
        m_socket.setSslConfiguration(config);
    }
    m_socket.open(request);
}

bool ProxyConnection::checkCertificate(const QSslCertificate &certificate)
{
    if (certificate.isNull()) {
        refuse(QStringLiteral("the proxy showed no TLS certificate"), false);
        return false;
    }
    m_seenSha256 = QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex());
    if (!m_pin.isEmpty() && m_seenSha256 != m_pin) {
        m_certificateMismatch = true;
        Q_EMIT certificateSeen(m_seenSha256, false);
        refuse(QStringLiteral("certificate changed: the proxy showed SHA-256 %1 but %2 is "
                              "pinned; if its certificate was replaced on purpose, pin the new "
                              "one, else someone may be in between")
                   .arg(m_seenSha256, m_pin),
               false);
        return false;
    }
    Q_EMIT certificateSeen(m_seenSha256, !m_pin.isEmpty());
    if (m_pin.isEmpty() && !m_options.trustOnFirstUse) {
        refuse(QStringLiteral("the proxy's certificate is not pinned: it showed SHA-256 %1; "
                              "check it against the one greygated printed at start, then pin it")
                   .arg(m_seenSha256),
               false);
        return false;
    }
    m_certificateChecked = true;
    return true;
}

void ProxyConnection::onSslErrors(const QList<QSslError> &errors)
{
    QSslCertificate leaf = m_socket.sslConfiguration().peerCertificate();
    for (qsizetype i = 0; leaf.isNull() && i < errors.size(); ++i)
        leaf = errors[i].certificate();
    if (m_state != State::Connecting || !checkCertificate(leaf))
        return; // not ignored: the handshake fails, nothing was sent
    // Every error must be about the certificate just checked against the pin (self-signed,
    // host name mismatch, expired...): then those errors, and only those, are ignored for
    // this handshake. An error about anything else fails the connection. (QWebSocket takes a
    // list of errors to ignore only before open(), when the certificate is not known yet,
    // so the check is made here and the live socket told to go on.)
    for (const QSslError &e : errors) {
        if (e.certificate() != leaf)
            return;
    }
    m_socket.ignoreSslErrors();
}

void ProxyConnection::onConnected()
{
    // A handshake without errors (never, with no CA trusted; but never rely on it) is
    // checked here, still before the token is sent.
    if (m_options.url.scheme() == u"wss" && !m_certificateChecked &&
        !checkCertificate(m_socket.sslConfiguration().peerCertificate()))
        return;
    setState(State::Authenticating);
    m_timeouts.start();
    const auto sayHello = [this] {
        send(m_nextId++, QStringLiteral("hello"), {}, [this](const Reply &r) {
            if (!r.ok) {
                if (r.error.code == ErrorCode::Unauthenticated)
                    refuse(r.error.message);
                else
                    m_socket.abort(); // retried by onDisconnected()
                return;
            }
            ProtocolError error;
            const std::optional<Hello> hello = Hello::fromJson(r.result.toObject(), &error);
            if (!hello || hello->apiVersion != Methods::kApiVersion) {
                refuse(hello ? QStringLiteral("the proxy speaks API version %1, not %2")
                                   .arg(hello->apiVersion)
                                   .arg(Methods::kApiVersion)
                             : QStringLiteral("malformed hello: ") + error.message);
                return;
            }
            m_hello = *hello;
            m_connectTimer.stop();
            m_backoffMs = 0;
            setState(State::Connected);
            if (m_wantEvents)
                sendSubscribe();
            Q_EMIT ready();
        });
    };
    if (m_options.authorizationHeader) {
        sayHello();
        return;
    }
    send(m_nextId++, QStringLiteral("auth"),
         QJsonObject{{QStringLiteral("token"), QString::fromUtf8(m_options.token)}},
         [this, sayHello](const Reply &r) {
             if (!r.ok) {
                 refuse(r.error.message);
                 return;
             }
             sayHello();
         });
}

void ProxyConnection::refuse(const QString &why, bool abortSocket)
{
    m_lastError = why;
    m_wantOpen = false;
    m_connectTimer.stop();
    failAll(why);
    setState(State::Refused);
    // Inside a TLS handshake the socket drops itself once its errors are not ignored.
    if (abortSocket)
        m_socket.abort();
}

void ProxyConnection::onDisconnected()
{
    m_connectTimer.stop();
    if (m_state == State::Refused || m_state == State::Disconnected ||
        m_state == State::Reconnecting)
        return;
    // The server closes with "policy violated" when it will not have us (a wrong token, a
    // ban, a refused Host): retrying would only prolong a ban.
    if (m_socket.closeCode() == QWebSocketProtocol::CloseCodePolicyViolated &&
        m_state != State::Connected) {
        refuse(m_socket.closeReason().isEmpty() ? QStringLiteral("refused by the proxy")
                                                : m_socket.closeReason());
        return;
    }
    if (m_lastError.isEmpty())
        m_lastError = QStringLiteral("connection lost");
    failAll(m_lastError);
    m_timeouts.stop();
    if (!m_wantOpen || !m_options.reconnect) {
        setState(State::Disconnected);
        return;
    }
    scheduleReconnect();
}

void ProxyConnection::scheduleReconnect()
{
    setState(State::Reconnecting);
    m_backoffMs = m_backoffMs == 0 ? m_options.minBackoffMs
                                   : std::min(m_backoffMs * 2, m_options.maxBackoffMs);
    // Jitter, so that many consoles do not reconnect to a restarted proxy in one burst.
    const int delay =
        m_backoffMs / 2 + int(QRandomGenerator::global()->bounded(m_backoffMs / 2 + 1));
    ++m_reconnects;
    m_reconnectTimer.start(delay);
}

qint64 ProxyConnection::call(const QString &method, const QJsonObject &params, Callback callback)
{
    const qint64 id = m_nextId++;
    if (m_state != State::Connected) {
        QTimer::singleShot(0, this, [callback = std::move(callback), state = m_state] {
            Reply r;
            r.error = ProtocolError{ErrorCode::Internal,
                                    QStringLiteral("not connected (%1)").arg(stateName(state)),
                                    QString()};
            callback(r);
        });
        return id;
    }
    send(id, method, params, std::move(callback));
    return id;
}

void ProxyConnection::send(qint64 id, const QString &method, const QJsonObject &params,
                           Callback callback)
{
    m_pending.emplace(id,
                      Pending{std::move(callback), m_clock.elapsed() + m_options.requestTimeoutMs});
    m_socket.sendTextMessage(QString::fromUtf8(Envelope::request(id, method, params)));
}

void ProxyConnection::subscribe(std::optional<quint64> since)
{
    m_wantEvents = true;
    m_haveCursor = since.has_value();
    m_lastEventId = since.value_or(0);
    if (m_state == State::Connected)
        sendSubscribe();
}

void ProxyConnection::sendSubscribe()
{
    // Binary events (docs/api.md, "Binary events"): records without names or escaping, a
    // fraction of the JSON's bytes and cheap to decode, which is what a busy stream costs
    // the proxy per subscriber and what lets a subscriber keep up. A proxy that does not
    // know "codec" (or this version of it) refuses it by name: asked again with "compact",
    // and one that does not know that either, with neither.
    QJsonObject params{{QStringLiteral("binary"), true}};
    if (m_binaryCodec)
        params.insert(QStringLiteral("codec"), int(protocol::BinaryEvents::kVersion));
    else if (m_compactEvents)
        params.insert(QStringLiteral("compact"), true);
    if (m_haveCursor) {
        params.insert(QStringLiteral("since"), qint64(m_lastEventId));
        if (!m_epoch.isEmpty())
            params.insert(QStringLiteral("epoch"), m_epoch);
    }
    send(m_nextId++, QStringLiteral("events.subscribe"), params, [this](const Reply &r) {
        if (!r.ok) {
            if (m_binaryCodec && r.error.field == u"params.codec") {
                m_binaryCodec = false;
                sendSubscribe();
            } else if (m_compactEvents && r.error.field == u"params.compact") {
                m_compactEvents = false;
                sendSubscribe();
            }
            return;
        }
        const QJsonObject o = r.result.toObject();
        m_epoch = o.value(QStringLiteral("epoch")).toString();
        const auto lastId = quint64(o.value(QStringLiteral("lastId")).toDouble());
        const bool resync = o.value(QStringLiteral("resync")).toBool();
        if (!m_haveCursor || resync) {
            m_lastEventId = lastId;
            m_haveCursor = true;
        }
        Q_EMIT subscribed(lastId);
        if (resync)
            Q_EMIT resyncNeeded();
    });
}

void ProxyConnection::emitEvents(const QJsonArray &events, quint64 lastId)
{
    m_lastEventId = std::max(m_lastEventId, lastId);
    if (!events.isEmpty()) // empty: a frame only of event types this client does not know
        Q_EMIT eventsReceived(events);
}

void ProxyConnection::onMessage(const QByteArray &message)
{
    QString why;
    if (BinaryEvents::isFrame(message)) {
        QJsonArray events;
        quint64 lastId = 0;
        if (!BinaryEvents::decode(message, &events, &why, &lastId)) {
            m_lastError = QStringLiteral("malformed events from the proxy: ") + why;
            return;
        }
        emitEvents(events, lastId);
        return;
    }
    const std::optional<Incoming> in =
        Envelope::decodeIncoming(message, m_options.maxMessageBytes, &why);
    if (!in) {
        m_lastError = QStringLiteral("malformed message from the proxy: ") + why;
        return;
    }
    switch (in->kind) {
    case Incoming::Kind::Events:
        emitEvents(in->events,
                   quint64(in->events.last().toObject().value(QLatin1StringView("id")).toDouble()));
        return;
    case Incoming::Kind::Resync:
        m_lastEventId = in->lastId;
        Q_EMIT resyncNeeded();
        return;
    case Incoming::Kind::Result:
    case Incoming::Kind::Error:
        break;
    }
    if (in->id.isNull()) {
        // An error not tied to a request: before authentication it is the refusal.
        if (in->kind == Incoming::Kind::Error && m_state == State::Authenticating)
            refuse(in->error.message);
        else if (in->kind == Incoming::Kind::Error)
            m_lastError = in->error.message;
        return;
    }
    const auto it = m_pending.find(qint64(in->id.toDouble()));
    if (it == m_pending.end())
        return; // timed out meanwhile
    Callback callback = std::move(it->second.callback);
    m_pending.erase(it);
    Reply r;
    r.ok = in->kind == Incoming::Kind::Result;
    r.result = in->result;
    r.error = in->error;
    callback(r);
}

void ProxyConnection::failAll(const QString &why)
{
    std::map<qint64, Pending> pending;
    pending.swap(m_pending);
    for (auto &[id, p] : pending) {
        Reply r;
        r.error = ProtocolError{ErrorCode::Internal, why, QString()};
        p.callback(r);
    }
}

void ProxyConnection::expire()
{
    const qint64 now = m_clock.elapsed();
    for (auto it = m_pending.begin(); it != m_pending.end();) {
        if (it->second.deadline > now) {
            ++it;
            continue;
        }
        Callback callback = std::move(it->second.callback);
        it = m_pending.erase(it);
        Reply r;
        r.error = ProtocolError{ErrorCode::Internal, QStringLiteral("timed out"), QString()};
        callback(r);
    }
}

} // namespace greygate
