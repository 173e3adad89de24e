// SPDX-License-Identifier: GPL-3.0-or-later
// SmtpSocket, the SMTP proxy's plain-descriptor connection, against a raw TCP peer on
// loopback: a write the kernel does not take at once is held and sent in order as the peer
// reads (drained() then); reads take what is there and end with the peer's half-close or a
// reset told apart; a write to a peer that reset fails the socket (failed(), queued); a
// non-blocking connect to a closed port fails; accept4's descriptor comes from SmtpListener;
// the last reply and the FIN leave in one segment (writeAndClose()), and reach a peer whose
// input was left unread too.

#include "smtp/SmtpListener.h"
#include "smtp/SmtpSocket.h"

#include <QSignalSpy>
#include <QTest>
#include <cerrno>
#include <linux/tcp.h> // struct tcp_info with tcpi_segs_in (glibc's is older)
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace greygate;

namespace {

QByteArray pattern(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char('a' + (i * 7 + i / 251) % 26);
    return bytes;
}

// One accepted connection: `socket` over the descriptor SmtpListener's accept4() gave,
// `peer` the raw, blocking other end the test drives.
struct Pair
{
    SmtpListener listener;
    SmtpSocket socket;
    int peer = -1;

    ~Pair()
    {
        if (peer >= 0)
            ::close(peer);
    }

    bool open(int peerReceiveBuffer = 0)
    {
        QString error;
        int accepted = -1;
        QHostAddress from;
        quint16 fromPort = 0;
        listener.setHandler([&](int fd, const QHostAddress &address, quint16 port) {
            accepted = fd;
            from = address;
            fromPort = port;
        });
        if (!listener.listen(QHostAddress::LocalHost, 0, 16, &error))
            return false;
        peer = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (peerReceiveBuffer > 0)
            ::setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &peerReceiveBuffer, sizeof peerReceiveBuffer);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(listener.serverPort());
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(peer, reinterpret_cast<const sockaddr *>(&to), sizeof to) != 0)
            return false;
        if (!QTest::qWaitFor([&] { return accepted >= 0; }, 5000))
            return false;
        socket.adopt(accepted, from, fromPort);
        return from == QHostAddress(QHostAddress::LocalHost) && fromPort != 0;
    }

    // Reads from the peer what arrives within timeoutMs, at most `max` bytes.
    QByteArray peerRead(qsizetype max, int timeoutMs = 2000)
    {
        QByteArray got;
        QDeadlineTimer deadline(timeoutMs);
        while (got.size() < max && !deadline.hasExpired()) {
            pollfd p{peer, POLLIN, 0};
            if (::poll(&p, 1, 10) <= 0) {
                QCoreApplication::processEvents(); // the socket sends what it holds
                continue;
            }
            char chunk[65536];
            const ssize_t n =
                ::recv(peer, chunk, qMin<qsizetype>(sizeof chunk, max - got.size()), MSG_DONTWAIT);
            if (n <= 0)
                break;
            got.append(chunk, n);
            QCoreApplication::processEvents();
        }
        return got;
    }

    // Writes more than a peer with a tiny receive buffer can take (16 MiB): what was sent.
    QByteArray writeMoreThanFits()
    {
        const QByteArray sent = pattern(16 << 20);
        QByteArray out = sent;
        socket.write(out);
        return out.isEmpty() ? sent : QByteArray(); // taken, whether sent or held
    }

    // Segments the peer has received so far (Linux TCP_INFO), -1 when not known.
    qint64 peerSegmentsIn() const
    {
        tcp_info info{};
        socklen_t length = sizeof info;
        if (::getsockopt(peer, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
            length < offsetof(tcp_info, tcpi_segs_in) + sizeof info.tcpi_segs_in)
            return -1;
        return info.tcpi_segs_in;
    }

    void resetPeer()
    {
        const linger hard{1, 0}; // close with RST
        ::setsockopt(peer, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(peer);
        peer = -1;
    }
};

// Reads through `socket` until `want` bytes or the end (-1), bounded in time.
qsizetype readAll(SmtpSocket &socket, QByteArray &into, qsizetype want, int timeoutMs = 5000)
{
    QDeadlineTimer deadline(timeoutMs);
    while (into.size() < want && !deadline.hasExpired()) {
        const qsizetype got = socket.read(into, want);
        if (got < 0)
            return -1;
        if (got == 0)
            QTest::qWait(5);
    }
    return into.size();
}

// The peer says `said` and `pair.socket` reads all of it.
bool peerSaysAndIsRead(Pair &pair, const QByteArray &said)
{
    if (::send(pair.peer, said.constData(), size_t(said.size()), 0) != ssize_t(said.size()))
        return false;
    QByteArray in;
    return readAll(pair.socket, in, said.size()) == said.size() && in == said;
}

} // namespace

class TestSmtpSocket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void a_write_the_peer_does_not_take_is_held_and_sent_in_order_as_it_reads();
    void reads_take_what_arrived_and_a_half_close_ends_the_input_cleanly();
    void a_reset_peer_fails_the_read_and_is_not_a_clean_end();
    void a_write_to_a_peer_that_reset_fails_the_socket_once_queued();
    void disconnect_after_a_held_write_closes_once_it_is_out();
    void a_connect_to_a_closed_port_fails_and_a_listening_one_connects();
    void the_last_reply_and_the_close_leave_in_one_segment();
    void the_last_reply_reaches_a_peer_whose_input_was_left_unread();
};

void TestSmtpSocket::a_write_the_peer_does_not_take_is_held_and_sent_in_order_as_it_reads()
{
    Pair pair;
    QVERIFY(pair.open(4096));
    QSignalSpy drained(&pair.socket, &SmtpSocket::drained);
    const QByteArray sent = pair.writeMoreThanFits();
    QVERIFY(!sent.isEmpty());
    // 16 MiB cannot fit a peer that reads nothing: the rest is held, not lost or blocking.
    QVERIFY(pair.socket.bytesToWrite() > 0);
    QCOMPARE(drained.size(), 0);
    const QByteArray received = pair.peerRead(sent.size(), 20'000);
    QCOMPARE(received.size(), sent.size());
    QVERIFY(received == sent);
    QTRY_COMPARE(pair.socket.bytesToWrite(), 0);
    QCOMPARE(drained.size(), 1);
}

void TestSmtpSocket::reads_take_what_arrived_and_a_half_close_ends_the_input_cleanly()
{
    Pair pair;
    QVERIFY(pair.open());
    QSignalSpy readable(&pair.socket, &SmtpSocket::readyRead);
    QByteArray in;
    QCOMPARE(pair.socket.read(in, 1024), 0); // nothing yet, no signal yet
    const QByteArray said = QByteArrayLiteral("EHLO a\r\nMAIL FROM:<>\r\nQUIT\r\n");
    QCOMPARE(::send(pair.peer, said.constData(), size_t(said.size()), 0), ssize_t(said.size()));
    ::shutdown(pair.peer, SHUT_WR);
    QVERIFY(readable.wait(5000));
    QCOMPARE(readAll(pair.socket, in, 1024), -1);
    QCOMPARE(in, said); // everything said before the half-close is read
    QVERIFY(pair.socket.atEnd());
    QVERIFY(!pair.socket.hasFailed());
    // The write side is still open: a reply reaches the half-closed peer.
    QByteArray reply = QByteArrayLiteral("221 2.0.0 Bye\r\n");
    pair.socket.write(reply);
    QCOMPARE(pair.peerRead(15), QByteArrayLiteral("221 2.0.0 Bye\r\n"));
}

void TestSmtpSocket::a_reset_peer_fails_the_read_and_is_not_a_clean_end()
{
    Pair pair;
    QVERIFY(pair.open());
    QSignalSpy failed(&pair.socket, &SmtpSocket::failed);
    const QByteArray part = QByteArrayLiteral("Subject: cut off\r\n\r\nhalf a mess");
    ::send(pair.peer, part.constData(), size_t(part.size()), 0);
    pair.resetPeer();
    QByteArray in;
    QCOMPARE(readAll(pair.socket, in, 1 << 16), -1);
    QVERIFY(pair.socket.hasFailed());
    QVERIFY(!pair.socket.atEnd());
    QVERIFY2(pair.socket.errorString().contains("reset"), pair.socket.errorString().constData());
    QVERIFY(failed.wait(2000));
    QVERIFY(!pair.socket.isOpen());
}

void TestSmtpSocket::a_write_to_a_peer_that_reset_fails_the_socket_once_queued()
{
    Pair pair;
    QVERIFY(pair.open());
    QSignalSpy failed(&pair.socket, &SmtpSocket::failed);
    pair.resetPeer();
    QTest::qWait(20); // the RST arrives
    // The reset is in: the next send fails with EPIPE or ECONNRESET. Bounded: a few writes
    // at most, without running the event loop between them.
    for (int i = 0; i < 10 && !pair.socket.hasFailed(); ++i) {
        QByteArray reply = QByteArrayLiteral("250 2.0.0 Ok\r\n");
        pair.socket.write(reply);
    }
    QVERIFY(pair.socket.hasFailed());
    QCOMPARE(failed.size(), 0); // queued: never from inside the caller's write()
    QVERIFY(failed.wait(2000));
    QTest::qWait(20);
    QCOMPARE(failed.size(), 1);
}

void TestSmtpSocket::disconnect_after_a_held_write_closes_once_it_is_out()
{
    Pair pair;
    QVERIFY(pair.open(4096));
    QSignalSpy disconnected(&pair.socket, &SmtpSocket::disconnected);
    const QByteArray sent = pair.writeMoreThanFits();
    QVERIFY(!sent.isEmpty());
    QVERIFY(pair.socket.bytesToWrite() > 0);
    pair.socket.disconnectFromHost();
    QCOMPARE(disconnected.size(), 0); // not before the held output is out
    QVERIFY(pair.socket.isOpen());
    const QByteArray received = pair.peerRead(sent.size() + 1, 20'000); // then its end
    QVERIFY(received == sent);
    QTRY_COMPARE(disconnected.size(), 1);
    QVERIFY(!pair.socket.isOpen());
}

void TestSmtpSocket::a_connect_to_a_closed_port_fails_and_a_listening_one_connects()
{
    SmtpListener listener;
    QString error;
    QVERIFY2(listener.listen(QHostAddress::LocalHost, 0, 16, &error), qPrintable(error));
    const quint16 port = listener.serverPort();
    int accepted = -1;
    listener.setHandler([&](int fd, const QHostAddress &, quint16) { accepted = fd; });

    SmtpSocket good;
    QSignalSpy connected(&good, &SmtpSocket::connected);
    good.connectTo(QHostAddress::LocalHost, port);
    QCOMPARE(connected.size(), 0); // never from inside connectTo()
    QVERIFY(connected.wait(5000));
    QTRY_VERIFY(accepted >= 0);
    ::close(accepted);

    listener.close();
    SmtpSocket bad;
    QSignalSpy failed(&bad, &SmtpSocket::failed);
    bad.connectTo(QHostAddress::LocalHost, port);
    QVERIFY(failed.wait(5000));
    QVERIFY2(bad.errorString().startsWith("connect: "), bad.errorString().constData());
}

void TestSmtpSocket::the_last_reply_and_the_close_leave_in_one_segment()
{
    Pair pair;
    QVERIFY(pair.open());
    QSignalSpy disconnected(&pair.socket, &SmtpSocket::disconnected);
    QVERIFY(peerSaysAndIsRead(pair, QByteArrayLiteral("QUIT\r\n")));
    // Past the longest delayed-ACK timer (200 ms): an ACK of QUIT still pending would
    // otherwise reach the peer as a segment of its own during the measure.
    QTest::qWait(250);
    const qint64 before = pair.peerSegmentsIn();
    if (before < 0)
        QSKIP("TCP_INFO has no tcpi_segs_in here");
    QByteArray bye = QByteArrayLiteral("221 2.0.0 Bye\r\n");
    pair.socket.writeAndClose(bye);
    QVERIFY(bye.isEmpty());
    QCOMPARE(disconnected.size(), 1); // all out at once: closed within the call
    QVERIFY(!pair.socket.isOpen());
    QCOMPARE(pair.peerRead(64), QByteArrayLiteral("221 2.0.0 Bye\r\n"));
    char byte = 0;
    QCOMPARE(::recv(pair.peer, &byte, 1, MSG_DONTWAIT), ssize_t(0)); // the end came with it
    // The reply and the FIN in one segment (on loopback the sender pays for the delivery of
    // each): a separate FIN would make it two.
    QCOMPARE(pair.peerSegmentsIn() - before, 1);
}

void TestSmtpSocket::the_last_reply_reaches_a_peer_whose_input_was_left_unread()
{
    Pair pair;
    QVERIFY(pair.open());
    QSignalSpy disconnected(&pair.socket, &SmtpSocket::disconnected);
    QVERIFY(peerSaysAndIsRead(pair, QByteArrayLiteral("QUIT\r\n")));
    // Said after QUIT and never read: the close resets the connection, after the reply.
    const QByteArray more = QByteArrayLiteral("NOOP\r\n");
    ::send(pair.peer, more.constData(), size_t(more.size()), 0);
    QByteArray bye = QByteArrayLiteral("221 2.0.0 Bye\r\n");
    pair.socket.writeAndClose(bye);
    QCOMPARE(disconnected.size(), 1);
    QCOMPARE(pair.peerRead(64), QByteArrayLiteral("221 2.0.0 Bye\r\n"));
}

QTEST_GUILESS_MAIN(TestSmtpSocket)
#include "tst_smtp_socket.moc"
