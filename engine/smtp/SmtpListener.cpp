// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpListener.h"

#include "ReadinessNotifier.h"
#include "SmtpLog.h"
#include "util/LogLine.h"

#include <QSocketNotifier>
#include <QTimer>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace greygate {

namespace {

constexpr int kMaxAcceptsPerPass = 64; // then sessions already open get their turn
constexpr int kFdLimitPauseMs = 100;   // out of descriptors: accepting pauses this long

QHostAddress peerOf(const sockaddr_storage &storage, quint16 *port)
{
    if (storage.ss_family == AF_INET) {
        const auto &in = reinterpret_cast<const sockaddr_in &>(storage);
        *port = ntohs(in.sin_port);
        return QHostAddress(ntohl(in.sin_addr.s_addr));
    }
    const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(storage);
    *port = ntohs(in6.sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
        quint32 v4 = 0;
        std::memcpy(&v4, in6.sin6_addr.s6_addr + 12, 4);
        return QHostAddress(ntohl(v4));
    }
    return QHostAddress(reinterpret_cast<const sockaddr *>(&storage));
}

} // namespace

SmtpListener::SmtpListener(QObject *parent)
    : QObject(parent)
{}

SmtpListener::~SmtpListener()
{
    close();
}

bool SmtpListener::listen(const QHostAddress &address, quint16 port, int backlog, QString *error)
{
    close();
    sockaddr_storage storage{};
    socklen_t length = 0;
    bool v4 = false;
    const quint32 ipv4 = address.toIPv4Address(&v4);
    const bool any = address == QHostAddress(QHostAddress::Any);
    const auto asV4 = [&](quint32 host) {
        auto &in = reinterpret_cast<sockaddr_in &>(storage);
        in = sockaddr_in{};
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        in.sin_addr.s_addr = htonl(host);
        length = sizeof in;
    };
    if (v4 && !any) {
        asV4(ipv4);
    } else {
        auto &in6 = reinterpret_cast<sockaddr_in6 &>(storage);
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(port);
        const Q_IPV6ADDR bytes = any ? Q_IPV6ADDR{} : address.toIPv6Address();
        std::memcpy(&in6.sin6_addr, bytes.c, 16);
        in6.sin6_scope_id = address.scopeId().toUInt();
        length = sizeof in6;
    }
    int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && any && errno == EAFNOSUPPORT) { // no IPv6 here: Any is IPv4's
        asV4(INADDR_ANY);
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    const auto failWith = [&](const char *call) {
        *error = QString::fromLatin1(call) + u": " + QString::fromLocal8Bit(std::strerror(errno));
        if (fd >= 0)
            ::close(fd);
        return false;
    };
    if (fd < 0)
        return failWith("socket");
    const int one = 1;
    const int zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Accepted connections inherit it: replies are small and each is waited for.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (storage.ss_family == AF_INET6) {
        const bool v6Only = address == QHostAddress(QHostAddress::AnyIPv6);
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6Only ? &one : &zero, sizeof one);
    }
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&storage), length) != 0)
        return failWith("bind");
    if (::listen(fd, backlog) != 0)
        return failWith("listen");
    sockaddr_storage bound{};
    socklen_t boundLength = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &boundLength) != 0)
        return failWith("getsockname");
    m_fd = fd;
    m_address = address;
    peerOf(bound, &m_port);
    m_notifier = std::make_unique<ReadinessNotifier<SmtpListener>>(
        qintptr(fd), QSocketNotifier::Read, this, &SmtpListener::acceptPending);
    return true;
}

void SmtpListener::close()
{
    m_notifier.reset();
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

void SmtpListener::acceptPending()
{
    for (int i = 0; i < kMaxAcceptsPerPass && m_fd >= 0; ++i) {
        sockaddr_storage storage{};
        socklen_t length = sizeof storage;
        const int fd = ::accept4(m_fd, reinterpret_cast<sockaddr *>(&storage), &length,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            const int error = errno;
            if (error == EINTR || error == ECONNABORTED)
                continue;
            if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
                // Level-triggered: retrying at once would spin. Connections wait in the
                // backlog until descriptors are free again.
                if (!std::exchange(m_fdLimitLogged, true))
                    qCWarning(lcSmtp).noquote()
                        << LogLine("smtp accept failed: out of descriptors or memory; raise "
                                   "the limit (LimitNOFILE) or lower --smtp-max-connections")
                               .add("error", QByteArray(std::strerror(error)))
                               .text();
                m_notifier->setEnabled(false);
                QTimer::singleShot(kFdLimitPauseMs, this, [this] {
                    if (m_notifier)
                        m_notifier->setEnabled(true);
                });
            }
            return;
        }
        m_fdLimitLogged = false;
        quint16 port = 0;
        const QHostAddress peer = peerOf(storage, &port);
        if (m_handler)
            m_handler(fd, peer, port);
        else
            ::close(fd);
    }
}

} // namespace greygate
