// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "util/EpollEventDispatcher.h"

#include <QCoreApplication>
#include <sys/socket.h>
#include <unistd.h>

namespace greygate {

// The application's dispatcher, for tests whose main() installs an EpollEventDispatcher
// before the application exists (as greygated does).
inline EpollEventDispatcher *dispatcher()
{
    return qobject_cast<EpollEventDispatcher *>(QCoreApplication::eventDispatcher());
}

// A connected pair of stream sockets, closed on destruction.
struct SocketPair
{
    int fd[2] = {-1, -1};
    SocketPair() { ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd); }
    ~SocketPair()
    {
        for (int f : fd) {
            if (f >= 0)
                ::close(f);
        }
    }
    SocketPair(const SocketPair &) = delete;
    SocketPair &operator=(const SocketPair &) = delete;
    bool send(int side = 1) const { return ::write(fd[side], "x", 1) == 1; }
    void drain(int side = 0) const
    {
        char buffer[64];
        while (::read(fd[side], buffer, sizeof buffer) > 0) {
        }
    }
};

} // namespace greygate
