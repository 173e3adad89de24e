// SPDX-License-Identifier: GPL-3.0-or-later
#include "LoadWorker.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string_view>
#include <sys/epoll.h>
#include <unistd.h>

namespace greygate {

namespace {

constexpr std::string_view ActionPrefix = "action=";

bool startsWith(const char *data, std::size_t length, std::string_view prefix)
{
    return length >= prefix.size() && std::memcmp(data, prefix.data(), prefix.size()) == 0;
}

} // namespace

void LoadStats::merge(const LoadStats &other)
{
    latency.merge(other.latency);
    answered += other.answered;
    firstSights += other.firstSights;
    deferIfPermit += other.deferIfPermit;
    prepend += other.prepend;
    dunno += other.dunno;
    this->other += other.other;
    closedByServer += other.closedByServer;
    timeouts += other.timeouts;
    protocolErrors += other.protocolErrors;
    connectFailures += other.connectFailures;
    if (other.firstSentNs && (!firstSentNs || other.firstSentNs < firstSentNs))
        firstSentNs = other.firstSentNs;
    if (other.lastAnswerNs > lastAnswerNs)
        lastAnswerNs = other.lastAnswerNs;
    if (otherSample.empty())
        otherSample = other.otherSample;
}

std::uint64_t LoadWorker::nowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1000000000ULL + std::uint64_t(ts.tv_nsec);
}

LoadWorker::LoadWorker(PolicyWorkload &workload, const LoadTarget &target, const LoadLimits &limits,
                       int firstConnectionId, int connections, std::uint64_t seed)
    : m_workload(workload)
    , m_target(target)
    , m_limits(limits)
    , m_rng{seed}
    , m_connections(std::size_t(connections))
{
    for (int i = 0; i < connections; ++i) {
        m_connections[std::size_t(i)].id = firstConnectionId + i;
        m_connections[std::size_t(i)].request.reserve(1024);
    }
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
}

LoadWorker::~LoadWorker()
{
    for (Connection &connection : m_connections)
        close(connection);
    if (m_epoll >= 0)
        ::close(m_epoll);
}

bool LoadWorker::open(Connection &connection, std::string *error)
{
    const int fd = socket(m_target.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *error = std::strerror(errno);
        return false;
    }
    // A blocking connect keeps start-up simple; the data path below is non-blocking.
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&m_target.address), m_target.length) !=
        0) {
        *error = std::strerror(errno);
        ::close(fd);
        return false;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = std::uint64_t(&connection - m_connections.data());
    if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
        *error = std::strerror(errno);
        ::close(fd);
        return false;
    }
    connection.fd = fd;
    connection.answerLength = 0;
    connection.outstanding = false;
    return true;
}

void LoadWorker::close(Connection &connection)
{
    if (connection.fd < 0)
        return;
    epoll_ctl(m_epoll, EPOLL_CTL_DEL, connection.fd, nullptr);
    ::close(connection.fd);
    connection.fd = -1;
}

bool LoadWorker::connectAll(std::string *error)
{
    if (m_epoll < 0) {
        *error = "epoll_create1 failed";
        return false;
    }
    int connected = 0;
    for (Connection &connection : m_connections) {
        if (open(connection, error))
            ++connected;
        else
            ++m_stats.connectFailures;
    }
    return connected > 0;
}

bool LoadWorker::mayIssue(std::uint64_t now)
{
    if (m_limits.deadlineNs && now >= m_limits.deadlineNs)
        return false;
    if (m_limits.budget && m_limits.budget->fetch_sub(1, std::memory_order_relaxed) <= 0)
        return false;
    return true;
}

bool LoadWorker::flush(Connection &connection)
{
    while (connection.requestSent < connection.request.size()) {
        const ssize_t n = ::send(connection.fd, connection.request.data() + connection.requestSent,
                                 connection.request.size() - connection.requestSent, MSG_NOSIGNAL);
        if (n > 0) {
            connection.requestSent += std::size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Rare (a request is < 1 KiB): wait for room, then finish the request.
            epoll_event event{};
            event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
            event.data.u64 = std::uint64_t(&connection - m_connections.data());
            epoll_ctl(m_epoll, EPOLL_CTL_MOD, connection.fd, &event);
            return true;
        }
        return false;
    }
    return true;
}

bool LoadWorker::sendNext(Connection &connection, std::uint64_t now)
{
    if (connection.fd < 0 || !mayIssue(now))
        return false;
    bool firstSight = false;
    const std::uint64_t index = m_workload.pick(m_rng, firstSight);
    m_stats.firstSights += firstSight ? 1 : 0;
    connection.request.clear();
    m_workload.appendRequest(connection.request, index, std::uint32_t(connection.id),
                             connection.seq++, m_rng);
    connection.requestSent = 0;
    connection.outstanding = true;
    ++m_active;
    // The timestamp is taken just before the send, as close to the wire as we can.
    connection.sentAtNs = nowNs();
    if (!m_stats.firstSentNs)
        m_stats.firstSentNs = connection.sentAtNs;
    if (!flush(connection)) {
        lost(connection, false);
        return false;
    }
    return true;
}

void LoadWorker::classify(const char *answer, std::size_t length)
{
    const char *action = answer + ActionPrefix.size();
    const std::size_t actionLength = length - ActionPrefix.size();
    if (startsWith(action, actionLength, "DEFER_IF_PERMIT"))
        ++m_stats.deferIfPermit;
    else if (startsWith(action, actionLength, "PREPEND"))
        ++m_stats.prepend;
    else if (startsWith(action, actionLength, "DUNNO") || startsWith(action, actionLength, "dunno"))
        ++m_stats.dunno;
    else {
        ++m_stats.other;
        if (m_stats.otherSample.empty())
            m_stats.otherSample.assign(answer, std::min<std::size_t>(length, 200));
    }
}

void LoadWorker::lost(Connection &connection, bool timeout)
{
    if (connection.outstanding) {
        connection.outstanding = false;
        --m_active;
        ++(timeout ? m_stats.timeouts : m_stats.closedByServer);
    }
    close(connection);
    // Postfix reconnects after its policy server closed the connection; so do we, bounded.
    if (connection.reconnects < m_limits.maxReconnects) {
        ++connection.reconnects;
        std::string error;
        if (open(connection, &error))
            sendNext(connection, nowNs());
        else
            ++m_stats.connectFailures;
    }
}

void LoadWorker::onReadable(Connection &connection)
{
    for (;;) {
        const std::size_t room = sizeof connection.answer - connection.answerLength;
        if (room == 0) {
            ++m_stats.protocolErrors; // an answer longer than any policy server sends
            connection.answerLength = 0;
            lost(connection, false);
            return;
        }
        const ssize_t n =
            ::recv(connection.fd, connection.answer + connection.answerLength, room, 0);
        if (n == 0) {
            lost(connection, false);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            lost(connection, false);
            return;
        }
        connection.answerLength += std::size_t(n);

        // One outstanding request: at most one answer ("action=...\n\n") is expected.
        const void *end = memmem(connection.answer, connection.answerLength, "\n\n", 2);
        if (!end)
            continue;
        const std::uint64_t now = nowNs();
        const auto length = std::size_t(static_cast<const char *>(end) - connection.answer);
        if (!connection.outstanding || !startsWith(connection.answer, length, ActionPrefix)) {
            ++m_stats.protocolErrors;
            connection.answerLength = 0;
            lost(connection, false);
            return;
        }
        m_stats.latency.record(now - connection.sentAtNs);
        classify(connection.answer, length);
        ++m_stats.answered;
        m_stats.lastAnswerNs = now;
        connection.outstanding = false;
        --m_active;
        const std::size_t rest = connection.answerLength - (length + 2);
        if (rest > 0) {
            ++m_stats.protocolErrors; // an answer nobody asked for
            connection.answerLength = 0;
            lost(connection, false);
            return;
        }
        connection.answerLength = 0;
        if (!sendNext(connection, now))
            close(connection);
        return;
    }
}

void LoadWorker::run()
{
    const std::uint64_t start = nowNs();
    for (Connection &connection : m_connections) {
        if (connection.fd >= 0 && !sendNext(connection, start))
            close(connection);
    }
    std::uint64_t lastCheck = start;
    epoll_event events[64];
    while (m_active > 0) {
        const int ready = epoll_wait(m_epoll, events, 64, 100);
        if (ready < 0 && errno != EINTR)
            break;
        for (int i = 0; i < ready; ++i) {
            Connection &connection = m_connections[std::size_t(events[i].data.u64)];
            if (connection.fd < 0)
                continue;
            if (events[i].events & EPOLLOUT) {
                if (!flush(connection)) {
                    lost(connection, false);
                    continue;
                }
                if (connection.requestSent == connection.request.size()) {
                    epoll_event event{};
                    event.events = EPOLLIN | EPOLLRDHUP;
                    event.data.u64 = events[i].data.u64;
                    epoll_ctl(m_epoll, EPOLL_CTL_MOD, connection.fd, &event);
                }
            }
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                onReadable(connection);
        }
        // A stalled server must not stall the benchmark: give up on late answers. Checked
        // every 100 ms, also while other connections keep epoll_wait busy.
        const std::uint64_t now = nowNs();
        if (now - lastCheck > 100000000ULL) {
            lastCheck = now;
            for (Connection &connection : m_connections) {
                if (connection.outstanding &&
                    now - connection.sentAtNs > m_limits.answerTimeoutNs) {
                    connection.reconnects = m_limits.maxReconnects; // no new work after a stall
                    lost(connection, true);
                }
            }
        }
    }
}

} // namespace greygate
