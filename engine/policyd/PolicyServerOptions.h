// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyRequestParser.h"

#include <chrono>

namespace greygate {

struct PolicyServerOptions
{
    PolicyRequestParser::Limits limits;
    // A request must be complete this long after its first byte arrived.
    int requestTimeoutMs = 30'000;
    // A connection with nothing in progress is closed after this long. Above Postfix's own
    // max_idle (300 s), so Postfix normally closes first and reconnects when it wants.
    int idleTimeoutMs = 600'000;
    int maxConnections = 1000;
    // Answers a client has not read yet: a client that pipelines without reading is dropped
    // instead of growing our memory.
    qsizetype maxUnreadOutputBytes = 1024 * 1024;
    // Requests taken from one connection before the others get their turn, so one client
    // with a deep pipeline cannot stall the rest.
    int maxRequestsPerPass = 64;
    // On shutdown, connections get this long to take their last answers.
    int shutdownGraceMs = 5'000;
    // I/O threads (--policy-io-threads): 0 reads, parses and writes on the server's own
    // thread; N > 0 gives the connections to N threads that read and parse there and hand
    // complete requests, in batches, to the server's thread, which decides them.
    int ioThreads = 0;
    // Without I/O threads, on the epoll loop: how long the server's thread waits for the
    // next request without sleeping, while requests keep coming that quickly
    // (EpollEventDispatcher::setBusyPoll). One connection's throughput is its round trip,
    // and a sleep adds a wake-up and cold caches to it. 0: always sleep.
    std::chrono::microseconds busyPoll{0};
};

} // namespace greygate
