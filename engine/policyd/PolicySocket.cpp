// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicySocket.h"

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

} // namespace greygate
