// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpSocket.h"

#include "ReadinessNotifier.h"

#include <QSocketNotifier>
#include <QSslConfiguration>
#include <QSslSocket>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace greygate {

namespace {

// Bytes one recv() asks for: a pipelined burst or a piece of DATA. The session's own input
// bound (64 KiB) caps it further.
constexpr qsizetype kReadChunk = 16 * 1024;
// Below this much spare room the buffer grows rather than being read into in tiny pieces.
constexpr qsizetype kMinRoom = 1024;
constexpr int kMaxDiscardReads = 16; // then the notifier says when there is more

QByteArray errorText(const char *call, int error)
{
    return QByteArray(call) + ": " + QByteArray(std::strerror(error));
}

ssize_t receive(int fd, char *data, qsizetype size)
{
    ssize_t n;
    do
        n = ::recv(fd, data, size_t(size), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t transmit(int fd, const char *data, qsizetype size, int flags = 0)
{
    ssize_t n;
    do
        n = ::send(fd, data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT | flags);
    while (n < 0 && errno == EINTR);
    return n;
}

bool wouldBlock(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK;
}

} // namespace

SmtpSocket::SmtpSocket(QObject *parent)
    : QObject(parent)
{}

SmtpSocket::~SmtpSocket()
{
    closeDescriptor();
}

void SmtpSocket::adopt(int fd, const QHostAddress &peer, quint16 peerPort)
{
    m_fd = fd;
    m_peer = peer;
    m_peerPort = peerPort;
    m_mayRead = false; // told by the notifier: an early talker is seen that way too
    m_readNotifier = std::make_unique<ReadinessNotifier<SmtpSocket>>(
        qintptr(fd), QSocketNotifier::Read, this, &SmtpSocket::onReadable);
}

void SmtpSocket::connectTo(const QHostAddress &address, quint16 port)
{
    sockaddr_storage storage{};
    socklen_t length = 0;
    bool v4 = false;
    const quint32 ipv4 = address.toIPv4Address(&v4);
    if (v4) {
        auto &in = reinterpret_cast<sockaddr_in &>(storage);
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        in.sin_addr.s_addr = htonl(ipv4);
        length = sizeof in;
    } else {
        auto &in6 = reinterpret_cast<sockaddr_in6 &>(storage);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        std::memcpy(&in6.sin6_addr, bytes.c, 16);
        in6.sin6_scope_id = address.scopeId().toUInt();
        length = sizeof in6;
    }
    m_peer = address;
    m_peerPort = port;
    m_fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0)
        return fail(errorText("socket", errno));
    const int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(m_fd, reinterpret_cast<const sockaddr *>(&storage), length) != 0 &&
        errno != EINPROGRESS)
        return fail(errorText("connect", errno));
    // Done or in progress: writability says which (SO_ERROR), in the event loop, so that
    // connected() never comes from inside this call.
    m_connecting = true;
    setWriteWatch(true);
}

void SmtpSocket::onReadable()
{
    m_mayRead = true;
    notify<&Listener::socketReadable, &SmtpSocket::readyRead>();
    // Not drained (the reader waits for something else): off until a read() drains it, so
    // that the level-triggered notifier does not wake the loop again and again. A reader
    // that drained it leaves it on: no toggling per command.
    if (m_mayRead && m_readNotifier && m_fd >= 0)
        m_readNotifier->setEnabled(false);
}

qsizetype SmtpSocket::read(QByteArray &buffer, qsizetype limit)
{
    if (m_tls) {
        const qint64 want = qMin<qint64>(m_tls->bytesAvailable(), limit - buffer.size());
        if (want <= 0)
            return m_tls->state() == QAbstractSocket::ConnectedState ? 0 : -1;
        const qsizetype had = buffer.size();
        buffer.resize(had + want);
        const qint64 got = m_tls->read(buffer.data() + had, want);
        buffer.resize(had + qMax<qint64>(got, 0));
        return buffer.size() - had;
    }
    if (m_eof || m_fd < 0 || hasFailed())
        return -1;
    const qsizetype room = qMin(limit - buffer.size(), kReadChunk);
    if (!m_mayRead || room <= 0 || m_connecting)
        return 0;
    const qsizetype had = buffer.size();
    // Into the buffer's spare capacity when it has some (a session's input buffer keeps
    // its capacity from one command to the next), else the buffer grows by what is asked.
    qsizetype ask = qMin(room, buffer.capacity() - had);
    if (ask < kMinRoom)
        ask = qMin(room, qMax<qsizetype>(kMinRoom, had));
    buffer.resize(had + ask);
    const ssize_t got = receive(m_fd, buffer.data() + had, ask);
    buffer.resize(had + qMax<ssize_t>(got, 0));
    if (got > 0) {
        if (got < ask) { // drained: the notifier says when more comes
            m_mayRead = false;
            m_readNotifier->setEnabled(true);
        }
        return got;
    }
    if (got == 0) {
        m_eof = true;
        m_readNotifier->setEnabled(false);
        return -1;
    }
    const int error = errno;
    if (wouldBlock(error)) {
        m_mayRead = false;
        m_readNotifier->setEnabled(true);
        return 0;
    }
    fail(errorText("recv", error));
    return -1;
}

void SmtpSocket::discardInput()
{
    if (m_tls) {
        m_tls->skip(m_tls->bytesAvailable());
        return;
    }
    if (m_fd < 0 || m_eof || m_connecting)
        return;
    char scratch[4096];
    for (int i = 0; i < kMaxDiscardReads; ++i) {
        const ssize_t got = receive(m_fd, scratch, sizeof scratch);
        if (got > 0)
            continue;
        if (got == 0) {
            m_eof = true;
            m_readNotifier->setEnabled(false);
            return;
        }
        if (!wouldBlock(errno))
            return fail(errorText("recv", errno));
        break;
    }
    m_mayRead = false;
    m_readNotifier->setEnabled(true);
}

void SmtpSocket::write(QByteArray &bytes)
{
    if (bytes.isEmpty())
        return;
    if (m_tls) {
        m_tls->write(bytes);
        bytes.resize(0);
        return;
    }
    if (m_fd < 0 || hasFailed() || m_closing) {
        bytes.resize(0);
        return;
    }
    if (m_connecting || m_heldPos < m_held.size()) {
        write(QByteArrayView(bytes));
        bytes.resize(0);
        return;
    }
    const ssize_t sent = transmit(m_fd, bytes.constData(), bytes.size());
    if (sent == bytes.size()) {
        bytes.resize(0); // the usual case: one send(), the buffer's capacity kept
        return;
    }
    if (sent < 0 && !wouldBlock(errno)) {
        bytes.resize(0);
        return fail(errorText("send", errno));
    }
    // The kernel took part (or none): the rest waits for writability, without a copy.
    m_held.swap(bytes);
    m_heldPos = qMax<ssize_t>(sent, 0);
    bytes.resize(0);
    setWriteWatch(true);
}

void SmtpSocket::write(QByteArrayView bytes)
{
    if (bytes.isEmpty())
        return;
    if (m_tls) {
        m_tls->write(bytes.data(), bytes.size());
        return;
    }
    if (m_fd < 0 || hasFailed() || m_closing)
        return;
    if (!m_connecting && m_heldPos >= m_held.size()) {
        const ssize_t sent = transmit(m_fd, bytes.data(), bytes.size());
        if (sent == bytes.size())
            return;
        if (sent < 0 && !wouldBlock(errno))
            return fail(errorText("send", errno));
        bytes = bytes.sliced(qMax<ssize_t>(sent, 0));
        m_held.resize(0);
        m_heldPos = 0;
        setWriteWatch(true);
    }
    if (m_held.size() - m_heldPos + bytes.size() > kMaxHeldOutput)
        return fail(QByteArrayLiteral("output overflow: the peer does not read"));
    if (m_heldPos > 0 && m_heldPos == m_held.size()) {
        m_held.resize(0);
        m_heldPos = 0;
    }
    m_held.append(bytes.data(), bytes.size());
}

qint64 SmtpSocket::bytesToWrite() const
{
    if (m_tls)
        return m_tls->bytesToWrite() + m_tls->encryptedBytesToWrite();
    return m_held.size() - m_heldPos;
}

void SmtpSocket::onWritable()
{
    if (m_connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
            error = errno;
        if (error != 0)
            return fail(errorText("connect", error));
        m_connecting = false;
        m_mayRead = false;
        m_readNotifier = std::make_unique<ReadinessNotifier<SmtpSocket>>(
            qintptr(m_fd), QSocketNotifier::Read, this, &SmtpSocket::onReadable);
        if (m_heldPos >= m_held.size())
            setWriteWatch(false);
        notify<&Listener::socketConnected, &SmtpSocket::connected>();
        return; // what connected() wrote is sent on the next writability
    }
    sendHeld();
}

void SmtpSocket::sendHeld()
{
    while (m_heldPos < m_held.size()) {
        const ssize_t sent =
            transmit(m_fd, m_held.constData() + m_heldPos, m_held.size() - m_heldPos);
        if (sent > 0) {
            m_heldPos += sent;
            continue;
        }
        if (sent < 0 && !wouldBlock(errno))
            return fail(errorText("send", errno));
        return; // full again: the write notifier stays on
    }
    // All out. A large buffer (a slow reader's backlog) is given back, a small one kept.
    if (m_held.capacity() > 64 * 1024)
        m_held = QByteArray();
    else
        m_held.resize(0);
    m_heldPos = 0;
    setWriteWatch(false);
    if (m_closing) {
        closeDescriptor();
        notify<&Listener::socketDisconnected, &SmtpSocket::disconnected>();
        return;
    }
    notify<&Listener::socketDrained, &SmtpSocket::drained>();
}

void SmtpSocket::setWriteWatch(bool on)
{
    if (m_fd < 0)
        return;
    if (!m_writeNotifier) {
        if (!on)
            return;
        m_writeNotifier = std::make_unique<ReadinessNotifier<SmtpSocket>>(
            qintptr(m_fd), QSocketNotifier::Write, this, &SmtpSocket::onWritable);
        return;
    }
    m_writeNotifier->setEnabled(on);
}

void SmtpSocket::disconnectFromHost()
{
    if (m_tls) {
        m_tls->disconnectFromHost();
        return;
    }
    if (m_fd < 0)
        return;
    if (m_heldPos < m_held.size() && !hasFailed()) {
        m_closing = true; // closed by sendHeld() once the rest is out
        if (m_readNotifier)
            m_readNotifier->setEnabled(false);
        return;
    }
    closeDescriptor();
    notify<&Listener::socketDisconnected, &SmtpSocket::disconnected>();
}

void SmtpSocket::writeAndClose(QByteArray &bytes)
{
    if (m_tls || m_fd < 0 || hasFailed() || m_closing || m_connecting ||
        m_heldPos < m_held.size() || bytes.isEmpty()) {
        write(bytes);
        return disconnectFromHost();
    }
    const ssize_t sent = transmit(m_fd, bytes.constData(), bytes.size(), MSG_MORE);
    if (sent != bytes.size()) {
        // Part or none taken: the rest is held and sent on writability as write() does
        // (without MSG_MORE, which pushes what was held back too), then the close.
        if (sent < 0 && !wouldBlock(errno)) {
            bytes.resize(0);
            fail(errorText("send", errno));
            return;
        }
        m_held.swap(bytes);
        m_heldPos = qMax<ssize_t>(sent, 0);
        bytes.resize(0);
        setWriteWatch(true);
        return disconnectFromHost();
    }
    bytes.resize(0);
    // The FIN joins the held bytes and both leave now. shutdown() rather than relying on
    // close(): close() with input still unread sends a reset instead, which would drop
    // the held bytes; after the shutdown they have left, as they would have without
    // MSG_MORE (a reset may still follow for the unread input, as before).
    ::shutdown(m_fd, SHUT_WR);
    closeDescriptor();
    notify<&Listener::socketDisconnected, &SmtpSocket::disconnected>();
}

void SmtpSocket::abort()
{
    if (m_tls) {
        m_tls->abort();
        return;
    }
    closeDescriptor();
}

bool SmtpSocket::startServerEncryption(const QSslConfiguration &tls)
{
    if (m_tls || m_fd < 0 || bytesToWrite() > 0)
        return false;
    // The notifiers go first: the QSslSocket watches the same descriptor with its own.
    m_readNotifier.reset();
    m_writeNotifier.reset();
    auto *socket = new QSslSocket(this);
    if (!socket->setSocketDescriptor(m_fd, QAbstractSocket::ConnectedState, QIODevice::ReadWrite)) {
        delete socket;
        fail(QByteArrayLiteral("cannot start TLS on the connection"));
        return false;
    }
    m_fd = -1; // the QSslSocket's now
    m_tls = socket;
    connect(socket, &QSslSocket::readyRead, this,
            &SmtpSocket::notify<&Listener::socketReadable, &SmtpSocket::readyRead>);
    connect(socket, &QSslSocket::encrypted, this,
            &SmtpSocket::notify<&Listener::socketEncrypted, &SmtpSocket::encrypted>);
    connect(socket, &QSslSocket::disconnected, this,
            &SmtpSocket::notify<&Listener::socketDisconnected, &SmtpSocket::disconnected>);
    connect(socket, &QSslSocket::bytesWritten, this, [this] {
        if (bytesToWrite() == 0)
            notify<&Listener::socketDrained, &SmtpSocket::drained>();
    });
    connect(socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e == QAbstractSocket::RemoteHostClosedError)
            return; // disconnected() follows
        if (m_error.isEmpty())
            m_error = m_tls->errorString().toUtf8();
        notify<&Listener::socketFailed, &SmtpSocket::failed>();
    });
    socket->setSslConfiguration(tls);
    socket->startServerEncryption();
    return true;
}

QHostAddress SmtpSocket::localAddress(quint16 *port) const
{
    if (m_tls) {
        *port = m_tls->localPort();
        return m_tls->localAddress();
    }
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    *port = 0;
    if (m_fd < 0 || ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return {};
    if (storage.ss_family == AF_INET)
        *port = ntohs(reinterpret_cast<const sockaddr_in &>(storage).sin_port);
    else if (storage.ss_family == AF_INET6)
        *port = ntohs(reinterpret_cast<const sockaddr_in6 &>(storage).sin6_port);
    return QHostAddress(reinterpret_cast<const sockaddr *>(&storage));
}

void SmtpSocket::fail(const QByteArray &why)
{
    if (m_error.isEmpty())
        m_error = why;
    m_connecting = false;
    closeDescriptor();
    if (std::exchange(m_failSignalled, true))
        return;
    // Queued: the failure is often noticed inside a caller's write() or read().
    QMetaObject::invokeMethod(this,
                              &SmtpSocket::notify<&Listener::socketFailed, &SmtpSocket::failed>,
                              Qt::QueuedConnection);
}

void SmtpSocket::closeDescriptor()
{
    // The notifiers are off before the descriptor goes (a later connection may get its
    // number), and deleted with this object: this often runs inside their own activation.
    if (m_readNotifier)
        m_readNotifier->setEnabled(false);
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(false);
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    m_closing = false;
}

} // namespace greygate
