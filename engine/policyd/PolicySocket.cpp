// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicySocket.h"

#include "PolicydLog.h"
#include "util/LogLine.h"

#include <QHostAddress>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace greygate {

void PolicySocket::adopt(int fd)
{
    // QTcpServer accepts with SOCK_CLOEXEC but leaves the descriptor blocking.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

QByteArray PolicySocket::peer(int fd)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return QByteArrayLiteral("?");
    const QHostAddress address(reinterpret_cast<const sockaddr *>(&storage));
    quint16 port = 0;
    if (storage.ss_family == AF_INET)
        port = ntohs(reinterpret_cast<const sockaddr_in &>(storage).sin_port);
    else if (storage.ss_family == AF_INET6)
        port = ntohs(reinterpret_cast<const sockaddr_in6 &>(storage).sin6_port);
    return address.toString().toLatin1() + ':' + QByteArray::number(port);
}

ssize_t PolicySocket::receive(int fd, char *data, qsizetype size)
{
    ssize_t n;
    do
        n = ::recv(fd, data, size_t(size), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t PolicySocket::send(int fd, const char *data, qsizetype size)
{
    ssize_t n;
    do
        n = ::send(fd, data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n;
}

bool PolicySocket::sendFrom(int fd, const QByteArray &bytes, qsizetype *pos)
{
    while (*pos < bytes.size()) {
        const ssize_t n = send(fd, bytes.constData() + *pos, bytes.size() - *pos);
        if (n > 0) {
            *pos += n;
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
}

QByteArray PolicySocket::errorText(const char *call, int error)
{
    return QByteArray(call) + ": " + QByteArray(std::strerror(error));
}

PolicySocket::Fill PolicySocket::fill(int fd, QByteArray &in, qsizetype *inPos, bool *more,
                                      QByteArray *error)
{
    if (*inPos < in.size())
        return Fill::Pending;
    if (!*more)
        return Fill::Empty;
    *inPos = 0;
    in.resize(kReadChunk);
    const ssize_t got = receive(fd, in.data(), kReadChunk);
    if (got > 0) {
        in.resize(got);
        *more = got == kReadChunk;
        return Fill::Fresh;
    }
    const int code = errno;
    in.resize(0);
    if (got < 0 && (code == EAGAIN || code == EWOULDBLOCK))
        return Fill::Empty;
    *error = got == 0 ? QByteArray() : errorText("recv", code);
    return Fill::Closed;
}

bool PolicySocket::sendOrKeep(int fd, QByteArray &out, QByteArray &unsent, qsizetype *unsentPos)
{
    if (*unsentPos < unsent.size()) {
        unsent.append(out); // after the earlier answers still waiting
        out.resize(0);
        return true;
    }
    // The usual case: the answers of one pass fit the socket buffer, one send().
    qsizetype sent = 0;
    if (!sendFrom(fd, out, &sent))
        return false;
    if (sent < out.size()) {
        unsent.swap(out); // no copy: what was sent is skipped by unsentPos
        *unsentPos = sent;
    } else {
        unsent.resize(0);
        *unsentPos = 0;
    }
    out.resize(0); // keeps the capacity
    return true;
}

void PolicySocket::logClose(quint64 id, const QByteArray &peer, CloseReason reason,
                            const QByteArray &detail, qint64 unanswered, qint64 outstanding)
{
    static const char *const names[] = {"peer closed",     "protocol error", "internal error",
                                        "request timeout", "idle timeout",   "output overflow",
                                        "shutdown"};
    LogLine line(reason == CloseReason::ProtocolError ? "policy protocol error"
                                                      : "connection closed");
    line.add("conn", qint64(id))
        .add("peer", peer)
        .add("reason", QLatin1StringView(names[int(reason)]));
    if (!detail.isEmpty())
        line.add("error", detail);
    if (unanswered > 0)
        line.add("unanswered", unanswered);
    if (outstanding > 0)
        line.add("outstanding", outstanding);
    switch (reason) {
    case CloseReason::ProtocolError:
    case CloseReason::RequestTimeout:
    case CloseReason::OutputOverflow:
        qCWarning(lcPolicyd).noquote() << line.text();
        break;
    case CloseReason::InternalError:
        qCCritical(lcPolicyd).noquote() << line.text();
        break;
    case CloseReason::IdleTimeout:
        qCInfo(lcPolicyd).noquote() << line.text();
        break;
    case CloseReason::PeerClosed:
    case CloseReason::Shutdown:
        qCDebug(lcPolicyd).noquote() << line.text();
        break;
    }
}

} // namespace greygate
