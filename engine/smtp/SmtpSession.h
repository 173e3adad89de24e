// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "BackendCapabilities.h"
#include "BackendSession.h"
#include "DataReader.h"
#include "SmtpCommand.h"
#include "SmtpCommandParser.h"
#include "SmtpDecision.h"
#include "SmtpProxyOptions.h"
#include "SmtpSocket.h"
#include "SmtpStats.h"

#include <QBasicTimer>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>
#include <functional>
#include <memory>

namespace greygate {

class BackendPool;
class SmtpDecider;
struct Event;

// One client connection: the client-facing ESMTP state machine (docs/smtp.md).
//
// Commands are handled strictly one at a time in the order received, so pipelined replies
// come out in order (RFC 2920); a command that waits (a decision, the backend) holds the
// rest of the input until it is answered. Replies are written when the session stops to
// wait for input or for an answer. Input is read in bounded pieces (the socket's own
// buffer is bounded too), so a client that floods cannot grow memory.
//
// At each RCPT the decider decides; only an accepted recipient opens the backend (MAIL is
// replayed then) and gets the backend's own RCPT reply. DATA streams to the backend as it
// arrives, un-stuffed by the DataReader and re-stuffed by the BackendSession; the final
// reply is the backend's. STARTTLS throws away every buffered plaintext byte and resets the
// session. Closing is always by the session: QUIT, a timeout, a protocol violation, too
// many errors or the server's shutdown.
//
// The socket and the backend connection tell the session what happens by direct calls
// (SmtpSocket::Listener, BackendSession::Owner), and the session tells its owner that it
// ended the same way (setEndHook()): no signal connection is made per connection.
class SmtpSession : public QObject, private SmtpSocket::Listener, private BackendSession::Owner
{
    Q_OBJECT

public:
    // The session owns `socket` (a client connection just accepted).
    SmtpSession(SmtpSocket *socket, quint64 id, const SmtpProxyOptions &options,
                SmtpDecider &decider, const QSslConfiguration *tls,
                const BackendCapabilities *backendProbe, QObject *parent = nullptr);
    ~SmtpSession() override;

    // Takes each message's Message event (its time is set by the taker, on the thread that
    // owns the event log).
    using MessageSink = std::function<void(Event &&)>;
    // Where the session counts (its I/O thread's SmtpStats) and hands its Message events
    // (empty: none); the stats outlive the session.
    void setRecording(SmtpStats *stats, MessageSink messages);
    // Backend connections come from and go back to `pool` (nullptr: each session opens and
    // closes its own). It outlives the session.
    void setBackendPool(BackendPool *pool) { m_pool = pool; }
    void start(); // the banner, after the configured delay
    // Graceful stop: an idle session gets 421 at once; a transaction in progress finishes
    // first (the server's grace period bounds it with forceClose()).
    void shutdown();
    void forceClose();

    quint64 id() const { return m_id; }
    const QHostAddress &clientAddress() const { return m_client; }

    // Called once the connection is gone (the owner deletes the session later, never inside
    // the call). `hook` is the owner's and outlives the session.
    using EndHook = std::function<void(SmtpSession *)>;
    void setEndHook(const EndHook *hook) { m_endHook = hook; }

private:
    enum class Phase : quint8
    {
        BannerDelay,
        Commands,
        Data,
        Handshake,
        Closing,
    };

    struct Transaction
    {
        bool mail = false;
        QByteArray sender;
        SmtpCommand mailCommand;
        int decided = 0;            // recipients decided (accepted or not)
        QList<QByteArray> accepted; // by the engine and the backend
        QList<QByteArray> pending;  // by the backend, the engine waits for the header From
        QByteArray header;          // "X-Greylist: ..." lines to add, with CRLF
        bool backendMail = false;   // MAIL was replayed to the current backend
        bool backendLost = false;   // the backend went away after accepting recipients
        bool retried = false;       // a pooled connection failed: retried on a fresh one
        quint64 number = 0;
    };

    // SmtpSession.cpp: the command phase; SmtpSessionConnection.cpp: STARTTLS, the timeouts,
    // writing, closing and the log line.
    void onReadyRead();
    void process();
    void handleLine(QByteArrayView line);
    void handle(const SmtpCommand &cmd);
    void ehlo(const SmtpCommand &cmd);
    void mail(const SmtpCommand &cmd);
    void rcpt(const SmtpCommand &cmd);
    void onVerdict(const QByteArray &recipient, const SmtpVerdict &verdict);
    // An accepted recipient (m_relay) goes to the backend: a connection (backendReady()),
    // MAIL when this transaction has not sent it yet, RCPT; the client hears the answer.
    void relayRecipient();
    void backendReady(const SmtpReply &r);
    void sendMail();
    void sendRcpt();
    void answerRecipient(const SmtpReply &r);
    // The session log's recipient list: "rcpt=reason", "/code" when the backend refused.
    void logRecipient(QByteArrayView recipient, QByteArrayView prefix, QByteArrayView reason,
                      int code = 0);
    void data();
    void rset();
    void startTls();
    // SmtpSocket::Listener (SmtpSessionConnection.cpp)
    void socketReadable() override { onReadyRead(); }
    void socketDrained() override;
    void socketFailed() override;
    void socketDisconnected() override;
    void socketEncrypted() override;
    // BackendSession::Owner
    void backendDrained(BackendSession *) override;

    void attachSocket();  // the session listens to m_socket
    void upgradeSocket(); // STARTTLS: the connection moves to a QSslSocket, TLS starts
    void inputEnded();    // the client closed (or half-closed) or its connection failed
    void sendBanner();
    void reply(const SmtpReply &r);
    void reply(int code, QByteArrayView status, QByteArrayView text);
    void protocolError(int code, QByteArrayView status, const QByteArray &text);
    void wait();   // a command waits for an answer: input is held
    void resume(); // the answer came: go on with the input
    void resetTransaction();
    void connectBackend(std::function<void(const SmtpReply &)> ready);
    // A pooled connection that failed before anything of the transaction was accepted:
    // true when the recipient (m_relay) is being retried on a fresh connection.
    bool retryOnFreshBackend(const SmtpReply &r);
    void dropBackend();    // closed, never reused (a transaction broken off, a failure)
    void releaseBackend(); // back to the pool when clean (the session is done with it)
    void armTimer();       // the client's timeout starts again (a command, a data block)
    void restartTimer(int ms);
    void onTimeout();
    void timerEvent(QTimerEvent *event) override;
    void close(const QByteArray &why);
    void closeNow();
    void logEnd();
    SmtpRecipientQuery query(const QByteArray &recipient) const;
    const BackendCapabilities &capabilities() const;
    void flush();
    bool blocked() const;

    // SmtpSessionData.cpp: the DATA phase.
    void beginData();
    void processData();
    void deliverContent(QByteArrayView content);
    void decideHeaderFrom();
    void endOfData();
    void finishMessage(const SmtpReply &final);
    // The message's Message event and counters, before the transaction is reset;
    // `summary`: final.summary() when already made.
    void recordMessage(const SmtpReply &final, const QByteArray *summary = nullptr);

    SmtpSocket *m_socket; // over a QSslSocket once STARTTLS moved the connection to one
    const quint64 m_id;
    const SmtpProxyOptions &m_options;
    SmtpDecider &m_decider;
    const QSslConfiguration *m_tls;
    const BackendCapabilities *m_probe;
    QHostAddress m_client;
    QByteArray m_clientText;
    SmtpCommandParser m_parser;
    DataReader m_reader;
    QByteArray m_in;
    QByteArray m_out;
    QByteArray m_content; // DATA: what one read held, un-stuffed (processData())
    // A QBasicTimer: no QObject, connection and signal per session as a QTimer has.
    QBasicTimer m_timer;
    qint64 m_deadline = 0; // m_age time the client's timeout expires (armTimer())
    qint64 m_timerDue = 0; // m_age time m_timer fires
    Phase m_phase = Phase::BannerDelay;
    bool m_waiting = false;
    bool m_processing = false; // inside process(): resume() lets its loop go on
    bool m_esmtp = false;
    bool m_enhanced = false;
    bool m_tlsActive = false;
    bool m_tlsStarted = false; // the connection moved to a QSslSocket (STARTTLS)
    bool m_upgradeQueued = false;
    bool m_shuttingDown = false;
    bool m_finished = false;
    QByteArray m_helo;
    int m_errors = 0;
    Transaction m_tx;
    struct Relay // the recipient being relayed to the backend (one at a time)
    {
        QByteArray recipient;
        SmtpVerdict verdict;
        SmtpReply mailRefusal; // the backend refused MAIL in a pipelined MAIL and RCPT
    };
    Relay m_relay;
    quint64 m_transactions = 0;
    std::unique_ptr<BackendSession> m_backend;
    BackendPool *m_pool = nullptr;
    bool m_backendReused = false; // m_backend came from the pool
    const EndHook *m_endHook = nullptr;
    // DATA
    QByteArray m_headerBuffer; // header-From pending: the header section, held
    bool m_holdingHeaders = false;
    bool m_endAfterDecision = false; // the dot came while the header From was decided
    SmtpReply m_refusal; // code != 0: the message is read to its end and refused with this
    // The session log line
    QByteArray m_sender;
    QByteArray m_rcptText; // logRecipient()
    int m_rcptCount = 0;
    qint64 m_bytes = 0;
    int m_messages = 0;
    QByteArray m_backendReply;
    QByteArray m_endReason;
    QElapsedTimer m_age;
    // Counters and events (setRecording()); a private instance when nobody asked.
    SmtpStats m_ownStats;
    SmtpStats *m_stats = &m_ownStats;
    MessageSink m_messageSink;
};

} // namespace greygate
