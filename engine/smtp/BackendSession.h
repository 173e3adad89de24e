// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "BackendCapabilities.h"
#include "SmtpProxyOptions.h"
#include "SmtpReply.h"
#include "SmtpReplyParser.h"
#include "SmtpSocket.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <deque>
#include <functional>

namespace greygate {

// One upstream connection to the backend MTA, opened only for a session with an accepted
// recipient. open() connects, sends the PROXY header when configured, reads the greeting,
// says EHLO and, when passing the client by XCLIENT, sends XCLIENT and EHLO again.
// openIdle() stops after the first EHLO, for the BackendPool; introduce() passes a client on
// over a connection that is already greeted (a pooled one): XCLIENT and EHLO in one write
// when the backend pipelines, nothing at all when the backend already has exactly these
// XCLIENT attributes (Postfix keeps them across transactions) or takes no XCLIENT. Then
// command() sends one command and hands its reply on; sendData() streams message content
// (complete CRLF lines, re-stuffed here), endData() sends the final dot and waits up to the
// final timeout.
//
// Without PIPELINING one command is outstanding at a time (lock-step). When the backend
// advertises PIPELINING (RFC 2920), command() may be called again before the reply: the
// commands queue up, go out in one write (the socket flushes once per event-loop pass) and
// their replies are matched in order. Writes go out at once unless the caller corks them
// (cork()/uncork(): MAIL and RCPT, a piece of content and the dot), and all that the
// handling of one read of replies writes goes out in one send(). startData() sends DATA without
// waiting for its 354: content given before the 354 is held here (never written before it, so a
// refused DATA can never turn message lines into commands), and a refused DATA becomes endData()'s
// reply. The round trips saved are the proxy's whole cost on a fast backend (bench/README.md).
//
// A backend that cannot be reached, that is too slow, that closes or that answers garbage
// fails the outstanding callback with a reply made here: 451 4.4.1 before the message,
// 451 4.4.2 after its dot (the client retries; nothing was said to be accepted).
class BackendSession : public QObject, private SmtpSocket::Listener
{
    Q_OBJECT

public:
    using ReplyCallback = std::function<void(const SmtpReply &)>;

    // Who holds the connection (the pool while it is idle, then a session) and is told by a
    // direct call, not a signal: a connection made and cut per message was ~1k
    // instructions each for the pool's and the session's. setOwner(nullptr) cuts it; an
    // owner must cut it before it goes.
    class Owner
    {
    public:
        // Buffered output went below the high-water mark (a session held back may go on).
        virtual void backendDrained(BackendSession *) {}
        // Failed or closed by the backend (also while idle in the pool).
        virtual void backendLost(BackendSession *) {}

    protected:
        ~Owner() = default;
    };
    void setOwner(Owner *owner) { m_owner = owner; }

    struct Client
    {
        QHostAddress address;
        quint16 port = 0;
        QHostAddress localAddress;
        quint16 localPort = 0;
        QByteArray helo;
        QByteArray protocol = QByteArrayLiteral("ESMTP");
    };

    BackendSession(const SmtpProxyOptions &options, QObject *parent = nullptr);
    ~BackendSession() override;

    // `ready` gets 250 once the backend can take MAIL, or the failure reply.
    void open(const Client &client, ReplyCallback ready);
    // Greeting and EHLO only (the pool's connections); introduce() names the client later.
    void openIdle(ReplyCallback ready);
    // On a ready connection: passes `client` on (see above); `ready` as for open(). May
    // answer before it returns when nothing needs to be said.
    void introduce(const Client &client, ReplyCallback ready);
    // RSET: ends the backend's transaction (relayed from the client, or before pooling).
    void reset(ReplyCallback done);
    void command(const QByteArray &line, ReplyCallback done);
    // PIPELINING only: DATA without waiting for the 354 (see above). isReady() must hold.
    void startData();
    void sendData(QByteArrayView content);
    void endData(ReplyCallback done);
    // Writes are held from cork() until the matching uncork(), then sent in one send().
    void cork() { ++m_corks; }
    void uncork();
    void quit();  // QUIT (when ready) and close
    void abort(); // close at once: a message without its dot is not delivered

    bool isReady() const { return m_state == State::Ready && m_pending.empty(); }
    bool canPipeline() const { return m_caps.pipelining; }
    bool isOpen() const { return m_state != State::Closed && m_state != State::Failed; }
    // MAIL was sent and neither the final dot's reply nor an RSET's ended it.
    bool transactionOpen() const { return m_transactionOpen; }
    // Clean enough for another client session: ready, no transaction, under the use limit.
    bool isReusable() const;
    int uses() const { return m_uses; } // clients introduced over this connection
    qint64 pendingOutput() const { return m_socket.bytesToWrite() + m_held.size() + m_out.size(); }
    const BackendCapabilities &capabilities() const { return m_caps; }
    // "xclient", "proxy-v1", "proxy-v2" or "none": how the client was passed on.
    QByteArray passedAs() const { return m_passedAs; }

    // The PROXY protocol headers and the content's re-stuffing (public for tests).
    static QByteArray proxyV1(const Client &client);
    static QByteArray proxyV2(const Client &client);
    static QByteArray xtext(QByteArrayView value);
    // Appends `content` (complete CRLF lines) to `out`, a leading dot doubled on each line.
    static void stuffInto(QByteArray &out, QByteArrayView content);

private:
    enum class State : quint8
    {
        Closed,
        Connecting,
        Greeting,
        Ehlo,
        Xclient,
        Ready,       // commands may be outstanding in m_pending
        DataPending, // DATA sent without waiting, content held until its 354
        Data,
        DataRefused, // DATA refused: content dropped, the refusal answers the dot
        Final,
        Failed,
    };

    // SmtpSocket::Listener
    void socketReadable() override { onReadyRead(); }
    void socketConnected() override { onConnected(); }
    void socketFailed() override;
    void socketDrained() override;

    void onConnected();
    void notifyDrainedLater(); // queued: not inside the reply's own parsing
    void arm(int ms);          // the reply (or connection) is awaited for at most ms from now
    void disarm();
    void onTimeout();
    void onReadyRead();
    void detachSocket(); // cuts the link from m_socket to this
    void onReply(const SmtpReply &reply, const QList<QByteArray> &lines);
    void fail(const QByteArray &why);
    void finish(const SmtpReply &reply); // hands the reply to the outstanding callback
    void send(const QByteArray &line, State next, int timeoutMs);
    void onDataReply(const SmtpReply &reply);
    void put(QByteArrayView line); // line + CRLF, sent now unless corked
    void flushOut();
    QByteArray xclientLine() const; // empty: the client is not passed by XCLIENT
    // The XCLIENT attribute's bit in m_xclientTakes (0: one the proxy does not send).
    static int bit(QByteArrayView attribute);
    // a and b give the backend the same XCLIENT line (equal in what it takes).
    bool sameForXclient(const Client &a, const Client &b) const;

    SmtpProxyOptions m_options;
    SmtpSocket m_socket;
    Owner *m_owner = nullptr;
    QByteArray m_out; // written while corked
    int m_corks = 0;
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_deadline = 0; // m_clock time the awaited reply is late (arm())
    qint64 m_timerDue = 0; // m_clock time m_timer fires
    bool m_armed = false;
    SmtpReplyParser m_parser;
    QByteArray m_in;
    State m_state = State::Closed;
    Client m_client;
    ReplyCallback m_done;                // open() and endData()
    std::deque<ReplyCallback> m_pending; // command()s sent, in order, awaiting replies
    QByteArray m_held;                   // content given before DATA's 354 (State::DataPending)
    bool m_dotHeld = false;              // endData() came before DATA's 354
    SmtpReply m_dataRefusal;             // State::DataRefused: the backend's reply to DATA
    BackendCapabilities m_caps;
    bool m_introducing = false;   // open(): introduce() once the EHLO reply is in
    bool m_ehloPipelined = false; // EHLO went out with XCLIENT; its reply follows XCLIENT's
    bool m_transactionOpen = false;
    int m_uses = 0;
    QByteArray m_lastXclient; // the attributes the backend holds now (m_client's)
    int m_xclientTakes = 0;   // bit() of each attribute the backend's XCLIENT takes
    QByteArray m_passedAs = QByteArrayLiteral("none");
};

} // namespace greygate
