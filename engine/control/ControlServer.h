// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AuthLimiter.h"
#include "ControlApi.h"
#include "ControlOptions.h"
#include "ControlTokens.h"
#include "events/EventWindow.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
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
    // A TCP connection (plain or TLS) handed to the WebSocket server for its upgrade.
    void upgrade(QTcpSocket *socket);
    void acceptPlain();
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
    // One event frame (docs/api.md, "Events"): the push's own header (BinaryEvents' or
    // {"events":[), the events (a slice of a window, or a batch encoded for a subscriber
    // behind it) and a tail; written in place to plain sockets, joined into `bytes` (and
    // `text`) only when a QWebSocket needs them.
    struct Frame
    {
        QByteArray head;
        QByteArrayView body; // valid until the windows' next update
        QByteArray owned;    // the body when encoded for this frame
        QByteArrayView tail;
        quint64 lastId = 0;
        QByteArray bytes;
        QString text;
        qsizetype size() const { return head.size() + body.size() + tail.size(); }
        const QByteArray &joined();
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
    struct Session
    {
        QWebSocket *socket = nullptr;
        QString peer;
        ControlCaller caller;
        bool closing = false;
        bool subscribed = false;
        bool binaryEvents =
            false; // pushes as binary frames (subscribe "binary", "compact", "codec")
        EventForm form = EventForm::Object;
        quint64 cursor = 0;
        // The TCP socket beneath `socket` (ControlServerSocket); plain: not TLS, so frames may
        // be written to it directly. sendBuffer: the room granted at subscribe, 0 if none.
        QPointer<QTcpSocket> tcp;
        bool plain = false;
        qint64 sendBuffer = 0;
        double tokens = 0;
        qint64 refilledAt = 0;
        int refused = 0;
    };
    // At most this many frames to one subscriber per flush (catching up after a resume).
    static constexpr int kMaxFramesPerFlush = 16;
    // A subscriber's send buffer (at most maxPendingBytes): a flush's frames in one write.
    static constexpr qint64 kSendBufferBytes = 4 << 20;

    static bool following(const Session &s, quint64 last);
    // The frame from `cursor` on, made once per flush; nullptr when the cursor is no longer
    // held by the log (the subscriber must resync).
    Frame *frameFrom(quint64 cursor, EventForm form, FrameCache *made);
    void scheduleFlush();
    void flushEvents();
    // Gives `s` its next frames, as many as fit what its socket can take now; false when it
    // is still behind (or waits for its socket). Appends the frames to `made`.
    bool feed(Session *s, quint64 last, FrameCache *made);
    // Bytes `s`'s connection can take before it holds more than its bound.
    qint64 room(const Session &s) const;
    // Sends frames[0..n) to `s` in order: in one write on a plain socket, else through its
    // QWebSocket.
    void send(Session *s, Frame *const *frames, int n);

    ControlOptions m_options;
    EventLog &m_events;
    ControlApi m_api;
    ControlTokens m_tokens;
    AuthLimiter m_limiter;
    QWebSocketServer m_server;
    // Plain connections are accepted here and handed to m_server, as TLS ones are from
    // m_tls, so that the server holds their TCP sockets (ControlServerSocket).
    QTcpServer m_plain;
    std::unique_ptr<ControlTlsServer> m_tls;
    // Connections handed to m_server, not upgraded yet, by peerKey.
    QHash<QString, QPointer<QTcpSocket>> m_upgrading;
    QString m_fingerprint;
    // By EventForm: EventJson's two forms, EventBinary. Each holds as many events as the log
    // (while a subscriber of its form is that far behind): a backlog waits in the log, not in
    // the subscriber's socket, and a subscriber the log still serves is never encoded for alone.
    EventWindow m_windows[kForms];
    QTimer m_flushTimer;
    QElapsedTimer m_monotonic;
    std::unordered_map<QWebSocket *, std::unique_ptr<Session>> m_sessions;
};

} // namespace greygate
