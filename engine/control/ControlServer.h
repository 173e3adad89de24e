// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AuthLimiter.h"
#include "ControlApi.h"
#include "ControlOptions.h"
#include "ControlTokens.h"
#include "events/EventWindow.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QWebSocketServer>
#include <memory>
#include <unordered_map>

class QWebSocket;
class QWebSocketCorsAuthenticator;

namespace greygate {

class Clock;
class ControlTlsServer;
class EventLog;
class GreylistEngine;
class GreylistPolicyHandler;
class Store;

// The control API's WebSocket server (DESIGN.md §5, docs/api.md). Made by the daemon from
// its engine, store, policy handler and event log, on the daemon's one thread: a request is
// answered in the event-loop pass that read it, after its change was committed.
//
// One ControlServer per EventLog: it installs the log's wakeup (and clears it when destroyed).
//
// Security, in the order a connection meets it:
//   - on any address but loopback it speaks only TLS 1.2 or later (wss, ControlCertificate);
//     a QSslServer in front of the WebSocket server (ControlTlsServer) drops a client that
//     has not finished the TLS handshake within handshakeTimeoutMs, the WebSocket server
//     one that has not sent its upgrade within as long again, and connections in their
//     handshake count against maxConnections, so stalled clients cannot hold the slots;
//   - an address banned for repeated authentication failures is closed at once;
//   - the upgrade's Origin must be absent or allowed (a browser page cannot reach the API)
//     and, on a loopback listener, its Host must name loopback (DNS rebinding);
//   - the first message must be {"method":"auth","params":{"token":...}}, unless the
//     upgrade carried "Authorization: Bearer <token>"; a wrong token is logged, counted for
//     the ban, answered "unauthenticated" and the connection closed;
//   - the read-only token may only call reading methods ("forbidden" otherwise);
//   - per connection: a message size limit ("too_large"; far beyond it the WebSocket layer
//     closes) and a request rate limit ("rate_limited"; closed after many).
class ControlServer : public QObject
{
    Q_OBJECT

public:
    ControlServer(GreylistEngine &engine, Store &store, GreylistPolicyHandler &handler,
                  EventLog &events, const Clock &clock, ControlOptions options,
                  QObject *parent = nullptr);
    ~ControlServer() override;

    // Loads (or creates) the tokens and listens. False with *error saying why.
    bool start(QString *error);
    void stop();

    quint16 serverPort() const;
    QHostAddress serverAddress() const;
    bool tls() const { return m_tls != nullptr; }
    // The SHA-256 of the TLS certificate (lower-case hex) clients pin; empty without TLS.
    const QString &fingerprint() const { return m_fingerprint; }
    // Connections accepted by TCP whose TLS handshake is not finished yet.
    int handshakesInProgress() const;
    int connectionCount() const { return int(m_sessions.size()); }
    int subscriberCount() const;
    const ControlOptions &options() const { return m_options; }
    // The queue in the shared Redis store (ControlApi::setSharedQueue).
    void setSharedQueue(SharedQueue queue) { m_api.setSharedQueue(std::move(queue)); }

    static bool isLoopbackHost(QStringView host);

private:
    struct Session;

    bool startTls(QString *error);
    static QString peerKey(const QHostAddress &address, quint16 port);
    void acceptEncrypted();
    void acceptConnections();
    void checkOrigin(QWebSocketCorsAuthenticator *authenticator);
    void onMessage(Session *s, const QString &message);
    void onBinary(Session *s);
    void authenticate(Session *s, const QJsonValue &id, const QJsonObject &params);
    // A method the API answers later (ControlApi::callAsync): true when taken.
    bool answerLater(Session *s, const QJsonValue &id, const QString &method,
                     const QJsonObject &params);
    bool rateLimited(Session *s);
    QJsonValue subscribe(Session *s, const QJsonObject &params, protocol::ProtocolError *error);
    void authFailed(Session *s, const QString &why);
    void close(Session *s, int code, const QString &reason);
    void dropSession(QWebSocket *socket);
    // One event frame (docs/api.md, "Events"): the bytes, their text form when a text
    // subscriber needs it, and the id of its last event.
    struct Frame
    {
        QByteArray bytes;
        QString text;
        quint64 lastId = 0;
    };
    using FrameCache = std::unordered_map<quint64, Frame>; // by the cursor it follows
    // How a subscriber gets events: the object form, compact JSON attempts, binary records.
    enum class EventForm : quint8
    {
        Object,
        Compact,
        Binary,
    };
    static constexpr int kForms = 3;
    // At most this many frames to one subscriber per flush (catching up after a resume).
    static constexpr int kMaxFramesPerFlush = 16;
    // Events kept encoded for the subscribers (about 200 bytes each).
    static constexpr qsizetype kWindowEvents = 50'000;

    static bool following(const Session &s, quint64 last);
    // The frame from `cursor` on, made once per flush; nullptr when the cursor is no longer
    // held by the log (the subscriber must resync).
    Frame *frameFrom(quint64 cursor, EventForm form, FrameCache *made);
    void scheduleFlush();
    void flushEvents();

    ControlOptions m_options;
    EventLog &m_events;
    ControlApi m_api;
    ControlTokens m_tokens;
    AuthLimiter m_limiter;
    QWebSocketServer m_server;
    std::unique_ptr<ControlTlsServer> m_tls;
    // TLS connections handed to m_server, not upgraded yet (peerKey).
    QSet<QString> m_upgrading;
    QString m_fingerprint;
    EventWindow m_windows[kForms]; // by EventForm: EventJson's two forms, EventBinary
    QTimer m_flushTimer;
    QElapsedTimer m_monotonic;
    std::unordered_map<QWebSocket *, std::unique_ptr<Session>> m_sessions;
};

} // namespace greygate
