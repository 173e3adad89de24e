// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QtGlobal>

#ifdef Q_OS_LINUX
#include <cerrno>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#endif

namespace greygate {

// What the control server does on an event subscriber's TCP descriptor beneath its
// QWebSocket (bench/README.md, "Events"): on loopback every write runs the reader's TCP input
// and wakes it, charged to greygated, so the stream is written in few large writes:
//   - a send buffer as large as the backlog a subscriber may have queued, so a flush's
//     frames go to the kernel at once instead of Qt trickling them out on every writability;
//   - how much the kernel still holds unsent, to give a subscriber only what fits;
//   - a flush's frames in one sendmsg(), the WebSocket headers and the shared window's bytes
//     gathered in place (QWebSocket would copy each frame twice), on plain connections only.
// Header-only: used by ControlServer.cpp alone. Elsewhere than Linux every call reports that
// it cannot help, and the server writes through QWebSocket as before.
class ControlServerSocket
{
public:
#ifdef Q_OS_LINUX
    static constexpr bool kDirectWrites = true;
#else
    static constexpr bool kDirectWrites = false;
#endif
    // The most parts one write gathers (a header, the events and a tail per frame).
    static constexpr int kMaxParts = 64;
    // A WebSocket frame header from a server: FIN, the opcode, the length, no mask.
    static constexpr int kMaxHeaderBytes = 10;

    // Asks for a send buffer of `bytes`; the kernel may grant less (net.core.wmem_max).
    // Returns what this server should count as the buffer's room for payload: `bytes`, or
    // less when it was capped, 0 when not known.
    static qint64 setSendBuffer(qintptr fd, qint64 bytes)
    {
#ifdef Q_OS_LINUX
        const int asked = int(qMin<qint64>(bytes, 1 << 30));
        if (fd < 0 || ::setsockopt(int(fd), SOL_SOCKET, SO_SNDBUF, &asked, sizeof asked) != 0)
            return 0;
        // Linux reports twice what it accounts for the payload (the rest is its overhead).
        int granted = 0;
        socklen_t size = sizeof granted;
        if (::getsockopt(int(fd), SOL_SOCKET, SO_SNDBUF, &granted, &size) != 0)
            return 0;
        return qMin<qint64>(asked, granted / 2);
#else
        Q_UNUSED(fd);
        Q_UNUSED(bytes);
        return 0;
#endif
    }

    // Bytes written to the socket the peer has not acknowledged yet (on loopback: not yet in
    // the reader's receive buffer); -1 when not known.
    static qint64 unsent(qintptr fd)
    {
#ifdef Q_OS_LINUX
        int n = 0;
        if (fd >= 0 && ::ioctl(int(fd), SIOCOUTQ, &n) == 0)
            return n;
#else
        Q_UNUSED(fd);
#endif
        return -1;
    }

    // Writes the header of an unmasked frame (RFC 6455 §5.2) of `size` payload bytes into
    // `out`; returns its length.
    static int frameHeader(char (&out)[kMaxHeaderBytes], bool binary, quint64 size)
    {
        out[0] = char(0x80 | (binary ? 0x2 : 0x1));
        if (size < 126) {
            out[1] = char(size);
            return 2;
        }
        if (size <= 0xffff) {
            out[1] = char(126);
            out[2] = char(size >> 8);
            out[3] = char(size);
            return 4;
        }
        out[1] = char(127);
        for (int i = 0; i < 8; ++i)
            out[2 + i] = char(size >> (56 - 8 * i));
        return 10;
    }

    // One non-blocking gathered write of parts[0..n): the bytes the kernel took (0 when its
    // buffer is full), or -1 when the connection failed (Qt notices it on its own).
    static qint64 write(qintptr fd, const QByteArrayView *parts, int n)
    {
#ifdef Q_OS_LINUX
        iovec iov[kMaxParts];
        int count = 0;
        for (int i = 0; i < n && count < kMaxParts; ++i) {
            if (parts[i].isEmpty())
                continue;
            iov[count].iov_base = const_cast<char *>(parts[i].data());
            iov[count].iov_len = size_t(parts[i].size());
            ++count;
        }
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = size_t(count);
        for (int attempt = 0; attempt < 3; ++attempt) {
            const ssize_t written = ::sendmsg(int(fd), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (written >= 0)
                return written;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            if (errno != EINTR)
                return -1;
        }
        return 0;
#else
        Q_UNUSED(fd);
        Q_UNUSED(parts);
        Q_UNUSED(n);
        return -1;
#endif
    }
};

} // namespace greygate
