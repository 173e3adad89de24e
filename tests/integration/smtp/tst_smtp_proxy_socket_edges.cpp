// SPDX-License-Identifier: GPL-3.0-or-later
// What greygated's SMTP proxy does at the edges of its plain-descriptor connections
// (engine/smtp/SmtpSocket), with a raw client on loopback and smtp-sink as the backend:
// a client that half-closes after its last command gets every reply, then the close (and a
// message it finished is delivered, one it did not is not); a client that resets the
// connection in the middle of DATA delivers nothing; a client that pipelines commands and
// never reads its replies stops being read once its replies reach the proxy's bound, and the
// command timeout closes it. After each, the daemon serves a normal session and the sink
// holds exactly what it should.

#include "SmtpProxyFixture.h"
#include "SmtpTestKit.h"

#include <QDeadlineTimer>
#include <QTest>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {

constexpr int CommandTimeoutSeconds = 2;

// A blocking TCP client on a raw descriptor: what SmtpClient (a QSslSocket) cannot do,
// half-close, reset, and a tiny receive buffer.
class RawClient
{
public:
    ~RawClient()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    bool connectTo(quint16 port, int receiveBuffer = 0)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (receiveBuffer > 0)
            ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return ::connect(m_fd, reinterpret_cast<const sockaddr *>(&to), sizeof to) == 0;
    }

    bool send(const QByteArray &bytes)
    {
        return ::send(m_fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL) ==
               ssize_t(bytes.size());
    }

    // Sends without blocking: the bytes the kernel took (0 when its buffers are full).
    qsizetype trySend(const QByteArray &bytes)
    {
        const ssize_t n =
            ::send(m_fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        return n > 0 ? n : 0;
    }

    void halfClose() { ::shutdown(m_fd, SHUT_WR); }

    void reset()
    {
        const linger hard{1, 0}; // close with RST
        ::setsockopt(m_fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(m_fd);
        m_fd = -1;
    }

    // Reads until the peer closes or timeoutMs passes: what came, and whether it closed.
    QByteArray readToEnd(int timeoutMs, bool *closed)
    {
        QByteArray got;
        *closed = false;
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, int(qMin<qint64>(deadline.remainingTime(), 100))) <= 0)
                continue;
            char chunk[16384];
            const ssize_t n = ::recv(m_fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                *closed = true;
                break;
            }
            got.append(chunk, n);
        }
        return got;
    }

    // The first complete line (a banner), within timeoutMs.
    QByteArray readLine(int timeoutMs = 5000)
    {
        QDeadlineTimer deadline(timeoutMs);
        while (!m_buffer.contains("\r\n") && !deadline.hasExpired()) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0)
                continue;
            char chunk[4096];
            const ssize_t n = ::recv(m_fd, chunk, sizeof chunk, 0);
            if (n <= 0)
                break;
            m_buffer.append(chunk, n);
        }
        const qsizetype end = m_buffer.indexOf("\r\n");
        if (end < 0)
            return {};
        const QByteArray line = m_buffer.left(end);
        m_buffer.remove(0, end + 2);
        return line;
    }

private:
    int m_fd = -1;
    QByteArray m_buffer;
};

// The reply codes in `bytes`, one per final reply line ("250 ", not "250-").
QList<int> replyCodes(const QByteArray &bytes)
{
    QList<int> codes;
    for (const QByteArray &line : bytes.split('\n')) {
        if (line.size() >= 4 && line[3] == ' ')
            codes.append(line.left(3).toInt());
    }
    return codes;
}

const QByteArray kEnvelope = "EHLO client.test\r\nMAIL FROM:<" + PartnerSender.toUtf8() +
                             ">\r\nRCPT TO:<" + Recipient.toUtf8() + ">\r\n";

} // namespace

class SmtpProxySocketEdgesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void a_client_that_half_closes_gets_every_reply_then_the_close_data();
    void a_client_that_half_closes_gets_every_reply_then_the_close();
    void a_client_reset_in_the_middle_of_data_delivers_nothing();
    void a_client_that_never_reads_is_bounded_and_closed_by_the_command_timeout();

private:
    SmtpProxyFixture m_fixture;
};

void SmtpProxySocketEdgesTest::initTestCase()
{
    QString error;
    QVERIFY2(m_fixture.start(
                 {QStringLiteral("--smtp-command-timeout=%1").arg(CommandTimeoutSeconds)}, &error),
             qPrintable(error));
}

void SmtpProxySocketEdgesTest::init()
{
    m_fixture.mark();
}

void SmtpProxySocketEdgesTest::cleanup()
{
    if (QTest::currentTestFailed())
        return;
    QString error;
    QVERIFY2(m_fixture.servesNormalSession(&error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
}

void SmtpProxySocketEdgesTest::a_client_that_half_closes_gets_every_reply_then_the_close_data()
{
    QTest::addColumn<QByteArray>("said");
    QTest::addColumn<QList<int>>("codes");
    QTest::addColumn<int>("delivered");
    // The whole transaction in one write and the write side shut: PIPELINING lets DATA end
    // a group, the content follows the 354.
    QTest::newRow("a whole message, then QUIT")
        << QByteArray(kEnvelope + "DATA\r\nSubject: half-closed\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        << QList<int>{250, 250, 250, 354, 250, 221} << 1;
    QTest::newRow("a message without QUIT")
        << QByteArray(kEnvelope + "DATA\r\nSubject: no quit\r\n\r\nbody\r\n.\r\n")
        << QList<int>{250, 250, 250, 354, 250} << 1;
    QTest::newRow("an envelope without DATA") << kEnvelope << QList<int>{250, 250, 250} << 0;
    QTest::newRow("a message without its dot")
        << QByteArray(kEnvelope + "DATA\r\nSubject: cut\r\n\r\nno end\r\n")
        << QList<int>{250, 250, 250, 354} << 0;
}

void SmtpProxySocketEdgesTest::a_client_that_half_closes_gets_every_reply_then_the_close()
{
    QFETCH(QByteArray, said);
    QFETCH(QList<int>, codes);
    QFETCH(int, delivered);
    RawClient client;
    QVERIFY(client.connectTo(m_fixture.port()));
    QVERIFY(client.readLine().startsWith("220 "));
    QVERIFY(client.send(said));
    client.halfClose();
    bool closed = false;
    const QByteArray replies = client.readToEnd(10'000, &closed);
    QVERIFY2(closed, replies.constData()); // the proxy closes once it has answered
    QCOMPARE(replyCodes(replies), codes);
    QTRY_COMPARE_WITH_TIMEOUT(m_fixture.delivered(), delivered, 5000);
    m_fixture.expectDelivered(delivered);
}

void SmtpProxySocketEdgesTest::a_client_reset_in_the_middle_of_data_delivers_nothing()
{
    RawClient client;
    QVERIFY(client.connectTo(m_fixture.port()));
    QVERIFY(client.readLine().startsWith("220 "));
    QVERIFY(client.send(kEnvelope + "DATA\r\n"));
    // EHLO's reply is several lines; the 354 is the fifth final reply line.
    for (int finals = 0; finals < 4;) {
        const QByteArray line = client.readLine();
        QVERIFY2(!line.isEmpty(), "no reply");
        if (line.size() >= 4 && line[3] == ' ')
            ++finals;
        if (finals == 4)
            QVERIFY2(line.startsWith("354 "), line.constData());
    }
    QVERIFY(client.send("Subject: reset\r\n\r\nhalf of a message\r\n"));
    QTest::qWait(100); // the content reaches the backend before the reset
    client.reset();
    // The session ends with the reset (the backend never gets the dot), and nothing is
    // delivered: cleanup() checks the sink after a normal session.
    QTRY_VERIFY_WITH_TIMEOUT(
        m_fixture.proxy().log().contains(QStringLiteral("Connection reset")) ||
            m_fixture.proxy().log().contains(QStringLiteral("end=\"client closed in DATA\"")),
        5000);
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxySocketEdgesTest::
    a_client_that_never_reads_is_bounded_and_closed_by_the_command_timeout()
{
    RawClient client;
    QVERIFY(client.connectTo(m_fixture.port(), 4096));
    QVERIFY(client.readLine().startsWith("220 "));
    // NOOPs, pipelined, their replies never read: the proxy answers until its output bound
    // (256 KiB held), then stops reading, so the client's sends stop being taken. Bounded:
    // at most 32 MiB, or 1.5 s without a byte taken.
    QByteArray noops;
    for (int i = 0; i < 1024; ++i)
        noops.append("NOOP\r\n");
    qint64 taken = 0;
    QDeadlineTimer stuck(1500);
    while (taken < (32 << 20) && !stuck.hasExpired()) {
        const qsizetype n = client.trySend(noops);
        taken += n;
        if (n > 0)
            stuck.setRemainingTime(1500);
        else
            QTest::qWait(10);
    }
    QVERIFY2(taken < (32 << 20), "the proxy kept reading a client that does not read");
    // The command timeout (2 s) ends it; the replies it could not send are dropped with it.
    QTRY_VERIFY_WITH_TIMEOUT(
        m_fixture.proxy().log().contains(QStringLiteral("end=\"command timeout\"")), 15'000);
    bool closed = false;
    client.readToEnd(20'000, &closed); // what was sent, then the close (or a reset)
    QVERIFY(closed);
}

QTEST_GUILESS_MAIN(SmtpProxySocketEdgesTest)
#include "tst_smtp_proxy_socket_edges.moc"
