// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "protocol/Hello.h"
#include "protocol/ProtocolError.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QSslCertificate>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <functional>
#include <map>
#include <optional>

namespace greygate {

// One proxy's control API, for the console and greygatectl, the bundled engine's as a remote
// one's (DESIGN.md §2): connect, authenticate, "hello", then requests matched to answers by
// id with a timeout each, and the event stream with its cursor. When the connection drops
// it reconnects with exponential backoff, subscribes again from the last event id it saw,
// and says so with resyncNeeded() when the server could not replay what was missed.
// A refused authentication (a wrong token, a ban, a refused Host/Origin) is final: state
// Refused, no retries that would only extend a ban.
//
// wss:// (docs/api.md, "TLS"): the proxy's certificate is trusted through its SHA-256
// fingerprint only, never through a CA, like an SSH host key. The socket is given no CA
// certificates, so every handshake reports its certificate errors; only when each of them is
// about the certificate that matches the pin (self-signed, host name mismatch, expired...)
// does that handshake go on; anything else fails it before the token is sent. A certificate that
// differs from the pin is final: state Refused, lastError() naming both fingerprints. With no pin,
// certificateSeen() reports what the proxy showed, and trustOnFirstUse says whether to go on.
class ProxyConnection : public QObject
{
    Q_OBJECT

public:
    enum class State
    {
        Disconnected,
        Connecting,     // opening the WebSocket
        Authenticating, // sent the token, waiting for hello
        Connected,
        Reconnecting, // lost; waiting for the next attempt
        Refused,      // authentication refused: not retried
    };
    Q_ENUM(State)

    struct Options
    {
        QUrl url; // ws://127.0.0.1:PORT
        QByteArray token;
        int requestTimeoutMs = 30'000;
        int connectTimeoutMs = 10'000;
        bool reconnect = true;
        int minBackoffMs = 250;
        int maxBackoffMs = 30'000;
        qint64 maxMessageBytes = 256 << 20; // answers can be large (a policy export)
        // Send the token in the upgrade's Authorization header instead of a first message.
        bool authorizationHeader = false;
        // wss: the expected SHA-256 of the proxy's certificate (hex, colons allowed).
        QString pinnedSha256;
        // wss without a pin: accept the certificate seen (the caller pins what
        // certificateSeen() reports), or refuse it (greygatectl's default).
        bool trustOnFirstUse = true;
    };

    struct Reply
    {
        bool ok = false;
        QJsonValue result;
        protocol::ProtocolError error; // when !ok; code Internal for a lost connection/timeout
    };
    using Callback = std::function<void(const Reply &)>;

    explicit ProxyConnection(Options options, QObject *parent = nullptr);
    ~ProxyConnection() override;

    void open();
    void close();
    State state() const { return m_state; }
    static QString stateName(State state);
    const protocol::Hello &hello() const { return m_hello; }
    QString lastError() const { return m_lastError; }
    // The fingerprint of the certificate the proxy showed last (wss), lower-case hex.
    QString certificateSha256() const { return m_seenSha256; }
    // Refused because the proxy's certificate is not the pinned one ("certificate changed").
    bool certificateMismatch() const { return m_certificateMismatch; }

    // Sends a request now (Connected only; otherwise the callback gets an error at once,
    // from the event loop). Returns the request id.
    qint64 call(const QString &method, const QJsonObject &params, Callback callback);

    // Follow the event stream from the event after `since` (nullopt: from now on); kept
    // across reconnects, resumed from lastEventId().
    void subscribe(std::optional<quint64> since = std::nullopt);
    quint64 lastEventId() const { return m_lastEventId; }
    int reconnects() const { return m_reconnects; }

Q_SIGNALS:
    void stateChanged(greygate::ProxyConnection::State state);
    void ready(); // authenticated and hello received
    void eventsReceived(const QJsonArray &events);
    // What happened while not listening is lost: fetch the full state again.
    void resyncNeeded();
    void subscribed(quint64 lastId);
    // wss: the proxy's certificate, before anything is sent to it; `pinned` says whether it
    // matched the pin (false when there is none: trust on first use, the caller decides).
    void certificateSeen(const QString &sha256, bool pinned);

private:
    struct Pending
    {
        Callback callback;
        qint64 deadline;
    };

    void setState(State state);
    void connectSocket();
    void onConnected();
    void onDisconnected();
    void onMessage(const QByteArray &message);
    void emitEvents(const QJsonArray &events, quint64 lastId);
    void send(qint64 id, const QString &method, const QJsonObject &params, Callback callback);
    void sendSubscribe();
    void failAll(const QString &why);
    void expire();
    void refuse(const QString &why, bool abortSocket = true);
    // Compares the proxy's certificate with the pin; false (and Refused) when it must not be
    // used. Emits certificateSeen().
    bool checkCertificate(const QSslCertificate &certificate);
    void scheduleReconnect();
    void onSslErrors(const QList<QSslError> &errors);

    Options m_options;
    QWebSocket m_socket;
    State m_state = State::Disconnected;
    protocol::Hello m_hello;
    QString m_lastError;
    qint64 m_nextId = 1;
    std::map<qint64, Pending> m_pending;
    QElapsedTimer m_clock;
    QTimer m_timeouts;
    QTimer m_reconnectTimer;
    QTimer m_connectTimer;
    int m_backoffMs = 0;
    int m_reconnects = 0;
    bool m_wantOpen = false;
    bool m_wantEvents = false;
    bool m_haveCursor = false;
    bool m_binaryCodec = true;   // until a proxy refuses it
    bool m_compactEvents = true; // until a proxy refuses it
    quint64 m_lastEventId = 0;
    QString m_epoch;
    QString m_pin;
    QString m_seenSha256;
    bool m_certificateMismatch = false;
    bool m_certificateChecked = false;
};

} // namespace greygate
