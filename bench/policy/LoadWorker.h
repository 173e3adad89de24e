// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "LatencyHistogram.h"
#include "PolicyWorkload.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace greygate {

struct LoadTarget
{
    sockaddr_storage address{};
    socklen_t length = 0;
};

struct LoadLimits
{
    std::atomic<std::int64_t> *budget = nullptr; // requests left to issue, shared by workers
    std::uint64_t deadlineNs = 0;                // CLOCK_MONOTONIC; stop issuing after it
    std::uint64_t answerTimeoutNs = 0;           // an answer slower than this is a failure
    int maxReconnects = 0;                       // per connection, after the server closed it
};

// Counters of one worker; merged into the report at the end.
struct LoadStats
{
    LatencyHistogram latency;
    std::uint64_t answered = 0;
    std::uint64_t firstSights = 0;
    std::uint64_t deferIfPermit = 0;
    std::uint64_t prepend = 0;
    std::uint64_t dunno = 0;
    std::uint64_t other = 0;
    std::uint64_t closedByServer = 0; // a request sent, the connection closed before its answer
    std::uint64_t timeouts = 0;
    std::uint64_t protocolErrors = 0; // an answer that is not "action=..." or too long
    std::uint64_t connectFailures = 0;
    std::uint64_t firstSentNs = 0; // when the first request went out: the run's start
    std::uint64_t lastAnswerNs = 0;
    std::string otherSample; // the first unexpected answer, to show it in the report

    void merge(const LoadStats &other);
};

// Drives a set of connections from one thread with epoll, each with one request outstanding
// at a time as Postfix's smtpd does: send, wait for the answer, record, send the next. The
// hot path allocates nothing: every connection reuses its buffers.
class LoadWorker
{
public:
    LoadWorker(PolicyWorkload &workload, const LoadTarget &target, const LoadLimits &limits,
               int firstConnectionId, int connections, std::uint64_t seed);
    ~LoadWorker();
    LoadWorker(const LoadWorker &) = delete;
    LoadWorker &operator=(const LoadWorker &) = delete;

    // Connects every connection; false if none could connect.
    bool connectAll(std::string *error);
    void run(); // returns when the budget or the deadline is spent and answers are in
    const LoadStats &stats() const { return m_stats; }

    static std::uint64_t nowNs();

private:
    struct Connection
    {
        int id = 0;
        int fd = -1;
        std::uint64_t seq = 0;
        std::uint64_t sentAtNs = 0;
        bool outstanding = false;
        int reconnects = 0;
        std::string request;
        std::size_t requestSent = 0;
        char answer[2048];
        std::size_t answerLength = 0;
    };

    bool open(Connection &connection, std::string *error);
    void close(Connection &connection);
    bool sendNext(Connection &connection, std::uint64_t now);
    bool flush(Connection &connection);
    void onReadable(Connection &connection);
    void classify(const char *answer, std::size_t length);
    void lost(Connection &connection, bool timeout);
    bool mayIssue(std::uint64_t now);

    PolicyWorkload &m_workload;
    LoadTarget m_target;
    const LoadLimits &m_limits;
    PolicyWorkload::Rng m_rng;
    std::vector<Connection> m_connections;
    int m_epoll = -1;
    int m_active = 0; // connections with a request outstanding
    LoadStats m_stats;
};

} // namespace greygate
