// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <sys/types.h>

namespace greygate {

// The few system calls a policy connection needs, on a plain descriptor (PolicyServer and
// its I/O threads): no QTcpSocket, whose read path asks the kernel how much there is before
// every read and copies through its own buffer.
struct PolicySocket
{
    enum class CloseReason : quint8
    {
        PeerClosed,
        ProtocolError,
        InternalError,
        RequestTimeout,
        IdleTimeout,
        OutputOverflow,
        Shutdown,
    };

    // Makes an accepted descriptor non-blocking, without Nagle (answers are small and the
    // client waits for each).
    static void adopt(int fd);
    // "192.0.2.1:40000", for the logs.
    static QByteArray peer(int fd);
    // recv()/send() retried on EINTR; -1 with errno set on failure. send never raises SIGPIPE.
    static ssize_t receive(int fd, char *data, qsizetype size);
    static ssize_t send(int fd, const char *data, qsizetype size);
    // Sends from `pos` until done or the kernel's buffer is full (pos advanced). False on a
    // real error (errno set); EAGAIN is not one.
    static bool sendFrom(int fd, const QByteArray &bytes, qsizetype *pos);
    static QByteArray errorText(const char *call, int error);
    // What a connection's read loop has to parse next (fill()).
    enum class Fill : quint8
    {
        Pending, // `in` still holds unparsed bytes from *inPos on
        Fresh,   // a new chunk was read into `in` (*inPos = 0)
        Empty,   // nothing more to read now
        Closed,  // the connection is gone (`error` says why; empty for an orderly close)
    };
    // Once everything in `in` was parsed and the last read filled its chunk (*more), reads
    // the next chunk into `in` (its old content dropped, its capacity kept; *more says
    // whether this one filled it in turn).
    static Fill fill(int fd, QByteArray &in, qsizetype *inPos, bool *more, QByteArray *error);
    // Sends `out` (then empty) after whatever `unsent` still holds from `unsentPos`; what the
    // kernel does not take is kept in `unsent`. False on a real error (errno set).
    static bool sendOrKeep(int fd, QByteArray &out, QByteArray &unsent, qsizetype *unsentPos);
    // One line per closed connection, at the level its reason deserves.
    static void logClose(quint64 id, const QByteArray &peer, CloseReason reason,
                         const QByteArray &detail, qint64 unanswered, qint64 outstanding);
    // The read chunk: a few dozen of Postfix's ~700-byte requests; a full read is followed by
    // another. Bounded so that a backlogged client is stopped by TCP flow control.
    static constexpr qsizetype kReadChunk = 16 * 1024;
};

} // namespace greygate
