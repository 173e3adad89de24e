// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <memory>

class QSocketNotifier;
class QSslConfiguration;
class QSslSocket;

namespace greygate {

// One TCP connection of the SMTP proxy (a client's or the backend's) on a plain non-blocking
// descriptor, as PolicySocket does for the policy server: QSocketNotifiers for readiness,
// recv() straight into the caller's buffer, send() of what is written, the rest kept and
// sent when the kernel takes more. No QTcpSocket: its read path asks the kernel how much
// there is before every read (ioctl FIONREAD), copies through its own buffer, and its
// setSocketDescriptor costs five calls per accepted connection (bench/README.md "SMTP
// proxy"). A client that says STARTTLS moves to a QSslSocket over the same descriptor
// (startServerEncryption()); from then on this class forwards to it.
//
// Reading: readyRead() says the descriptor became readable; read() then takes what the
// caller has room for. The read notifier is off between readyRead() and the read() that
// drains the kernel's buffer, so a caller that does not read now (it waits for a decision)
// is not woken again and again, and loses nothing: its next read() reads. A read that
// returns less than the room asked for is taken as having drained it (the notifier says
// when more comes), so a command costs one recv(), not a second one for EAGAIN.
//
// End of input: read() returns -1 once the peer has closed (atEnd()) or the connection
// failed (hasFailed(), errorString()). A failed write says it through failed(), queued.
class SmtpSocket final : public QObject
{
    Q_OBJECT

public:
    explicit SmtpSocket(QObject *parent = nullptr);
    ~SmtpSocket() override; // closes the descriptor (an abort if output was left)

    // A connected descriptor, non-blocking and close-on-exec (accept4), now owned; `peer`
    // and `peerPort` as accept4 gave them.
    void adopt(int fd, const QHostAddress &peer, quint16 peerPort);
    // A non-blocking connect: connected() or failed().
    void connectTo(const QHostAddress &address, quint16 port);

    // Appends what the kernel has, so that `buffer` holds at most `limit` bytes; returns the
    // bytes appended, 0 when none now, -1 at the end of input (atEnd() or hasFailed()).
    qsizetype read(QByteArray &buffer, qsizetype limit);
    // Reads and drops what has arrived (plaintext after STARTTLS, input while closing).
    void discardInput();
    // Sends `bytes` (emptied, its capacity kept when it could be): what the kernel does not
    // take now is kept and sent as it does (drained() when all is out).
    void write(QByteArray &bytes);
    void write(QByteArrayView bytes);
    qint64 bytesToWrite() const;
    // Closes once everything written is out (disconnected() then); abort() at once.
    void disconnectFromHost();
    // write(bytes), the connection's last, then disconnectFromHost(), with the FIN in the
    // same segment as the bytes when the kernel takes them at once (MSG_MORE holds them
    // until the shutdown adds the FIN): one packet less per connection, whose delivery on
    // loopback the sender pays for (bench/README.md "SMTP proxy").
    void writeAndClose(QByteArray &bytes);
    void abort();

    // STARTTLS: the connection moves to a QSslSocket over this descriptor, which starts the
    // server handshake (encrypted() when done). Only with nothing left to write.
    bool startServerEncryption(const QSslConfiguration &tls);
    bool isEncrypted() const { return m_tls != nullptr; }

    bool isOpen() const { return m_fd >= 0 || m_tls; }
    bool atEnd() const { return m_eof; }
    // Readable and not read yet (a pooled backend connection with its goodbye waiting).
    bool hasUnreadInput() const { return m_mayRead && !m_eof && m_fd >= 0; }
    bool hasFailed() const { return !m_error.isEmpty(); }
    QByteArray errorString() const { return m_error; }
    const QHostAddress &peerAddress() const { return m_peer; }
    quint16 peerPort() const { return m_peerPort; }
    // getsockname(), asked only when needed (the PROXY protocol's header).
    QHostAddress localAddress(quint16 *port) const;

    // Output held for a peer that does not read, at most: the session and the backend stop
    // producing long before (their own high-water marks), so beyond this is a bug's bound.
    static constexpr qint64 kMaxHeldOutput = 4 << 20;

    // The owner told of what happens by direct calls instead of signals: a session connected
    // four signals to its socket and its socket's reader was a fifth, ~5k instructions per
    // connection to make and unmake (bench/README.md "SMTP proxy"). With a listener set no
    // signal is emitted; without one (tests, other users) the signals below are. Like a
    // connection it is cut by setListener(nullptr), and the listener must outlive the socket
    // or cut it first.
    class Listener
    {
    public:
        virtual void socketReadable() = 0;
        virtual void socketDrained() {}
        virtual void socketConnected() {}
        virtual void socketFailed() {}
        virtual void socketDisconnected() {}
        virtual void socketEncrypted() {}

    protected:
        ~Listener() = default;
    };
    void setListener(Listener *listener) { m_listener = listener; }

Q_SIGNALS:
    void readyRead();    // readable
    void drained();      // everything written is out (after output had been held)
    void connected();    // connectTo() succeeded
    void failed();       // the connection failed (errorString()); queued after the call
    void disconnected(); // closed: disconnectFromHost() completed, or the TLS peer left
    void encrypted();    // the STARTTLS handshake completed

private:
    void onReadable();
    void onWritable();
    // Tells the listener when there is one, else emits the signal.
    template <void (Listener::*Call)(), void (SmtpSocket::*Signal)()> void notify()
    {
        if (m_listener)
            (m_listener->*Call)();
        else
            (this->*Signal)();
    }
    void sendHeld();
    void fail(const QByteArray &why);
    void closeDescriptor();
    void setWriteWatch(bool on);

    Listener *m_listener = nullptr;
    int m_fd = -1;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier; // made on the first partial write
    QSslSocket *m_tls = nullptr;                      // a child, after STARTTLS
    QByteArray m_held;                                // output the kernel did not take yet
    qsizetype m_heldPos = 0;
    QHostAddress m_peer;
    quint16 m_peerPort = 0;
    QByteArray m_error;
    bool m_mayRead = true; // readable since the last read that drained the kernel
    bool m_eof = false;
    bool m_connecting = false;
    bool m_closing = false; // disconnectFromHost(): close when the output is out
    bool m_failSignalled = false;
};

} // namespace greygate
