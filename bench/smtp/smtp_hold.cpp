// SPDX-License-Identifier: GPL-3.0-or-later
// smtp_hold: opens N SMTP sessions to a server and holds them all open at once, each one
// mid-transaction (banner read, EHLO answered, MAIL FROM answered), then reports how many the
// server held and, with --pid, the server's resident memory before and while holding them
// (/proc/PID/status). Plain C++ and POSIX (epoll): it must stay cheaper per session than
// what it measures. Every phase is bounded in time.

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <type_traits>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options
{
    int port = 0;
    int sessions = 2000;
    int holdSeconds = 10;
    int timeoutSeconds = 60; // to get every session ready
    int maxConnecting = 200; // connects in flight at once (the server's listen backlog)
    int sources = 16;        // client addresses 127.0.0.1 .. 127.0.0.N
    long pid = 0;
};

enum class State
{
    Connecting,
    Banner,
    Ehlo,
    Mail,
    Ready,
    Failed,
};

struct Session
{
    int fd = -1;
    State state = State::Connecting;
    std::string in;
};

void usage()
{
    std::fprintf(stderr,
                 "usage: smtp_hold --port=N [--sessions=2000] [--hold=10] [--timeout=60]\n"
                 "                 [--max-connecting=200] [--sources=16] [--pid=PID]\n"
                 "Holds N SMTP sessions open on 127.0.0.1:PORT (EHLO and MAIL FROM done) for\n"
                 "--hold seconds and reports the server's VmRSS/VmHWM when --pid is given.\n");
}

bool parse(int argc, char **argv, Options *o)
{
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto value = [&](const char *name, auto *out) {
            const std::string prefix = std::string(name) + '=';
            if (arg.rfind(prefix, 0) != 0)
                return false;
            *out = static_cast<std::remove_pointer_t<decltype(out)>>(
                std::strtol(arg.c_str() + prefix.size(), nullptr, 10));
            return true;
        };
        if (!(value("--port", &o->port) || value("--sessions", &o->sessions) ||
              value("--hold", &o->holdSeconds) || value("--timeout", &o->timeoutSeconds) ||
              value("--max-connecting", &o->maxConnecting) || value("--sources", &o->sources) ||
              value("--pid", &o->pid)))
            return false;
    }
    return o->port > 0 && o->port < 65536 && o->sessions > 0 && o->sessions <= 100'000 &&
           o->sources >= 1 && o->sources <= 250 && o->holdSeconds >= 0 && o->holdSeconds <= 3600 &&
           o->timeoutSeconds > 0 && o->timeoutSeconds <= 3600 && o->maxConnecting > 0;
}

// VmRSS and VmHWM in kB from /proc/PID/status; -1 when unreadable.
std::pair<long, long> memoryKb(long pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    long rss = -1;
    long hwm = -1;
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            rss = std::strtol(line.c_str() + 6, nullptr, 10);
        else if (line.rfind("VmHWM:", 0) == 0)
            hwm = std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return {rss, hwm};
}

// A complete reply (its last line "NNN " ...) at the front of in: its code, else 0.
int takeReply(std::string &in)
{
    size_t start = 0;
    while (true) {
        const size_t lf = in.find('\n', start);
        if (lf == std::string::npos)
            return 0;
        if (lf - start >= 4 && in[start + 3] == ' ') {
            const int code = std::atoi(in.substr(start, 3).c_str());
            in.erase(0, lf + 1);
            return code;
        }
        if (lf - start < 4 || in[start + 3] != '-')
            return -1; // not SMTP
        start = lf + 1;
    }
}

bool sendAll(int fd, const char *text)
{
    const size_t n = std::strlen(text);
    return ::send(fd, text, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n); // short: a tiny write
}

int openSession(const Options &o, int index)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(0x7f000001u + static_cast<unsigned>(index % o.sources));
    if (::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof local) != 0) {
        ::close(fd);
        return -1;
    }
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(static_cast<uint16_t>(o.port));
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&peer), sizeof peer) != 0 &&
        errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    if (!parse(argc, argv, &o)) {
        usage();
        return 2;
    }
    const auto before = o.pid ? memoryKb(o.pid) : std::pair<long, long>{-1, -1};
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Session> sessions(static_cast<size_t>(o.sessions));
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::seconds(o.timeoutSeconds);
    int opened = 0;
    int connecting = 0;
    int ready = 0;
    int failed = 0;
    std::string firstFailure;
    const auto fail = [&](Session &s, const std::string &why) {
        if (firstFailure.empty())
            firstFailure = why;
        if (s.state == State::Connecting)
            --connecting;
        s.state = State::Failed;
        ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
        ::close(s.fd);
        ++failed;
    };

    std::vector<epoll_event> events(1024);
    while (ready + failed < o.sessions && Clock::now() < deadline) {
        while (opened < o.sessions && connecting < o.maxConnecting) {
            Session &s = sessions[static_cast<size_t>(opened)];
            s.fd = openSession(o, opened);
            ++opened;
            if (s.fd < 0) {
                s.state = State::Failed;
                ++failed;
                if (firstFailure.empty())
                    firstFailure = std::string("socket/connect: ") + std::strerror(errno);
                continue;
            }
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
            ev.data.u32 = static_cast<uint32_t>(opened - 1);
            ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
            ++connecting;
        }
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
        for (int i = 0; i < n; ++i) {
            Session &s = sessions[events[static_cast<size_t>(i)].data.u32];
            const uint32_t what = events[static_cast<size_t>(i)].events;
            if (s.state == State::Failed || s.state == State::Ready)
                continue;
            if (s.state == State::Connecting) {
                int err = 0;
                socklen_t len = sizeof err;
                ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    fail(s, std::string("connect: ") + std::strerror(err));
                    continue;
                }
                --connecting;
                s.state = State::Banner;
                epoll_event ev{};
                ev.events = EPOLLIN | EPOLLRDHUP;
                ev.data.u32 = events[static_cast<size_t>(i)].data.u32;
                ::epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
            }
            if (what & EPOLLIN) {
                char buffer[4096];
                const ssize_t got = ::recv(s.fd, buffer, sizeof buffer, 0);
                if (got <= 0) {
                    fail(s, "closed by the server in state " +
                                std::to_string(static_cast<int>(s.state)));
                    continue;
                }
                s.in.append(buffer, static_cast<size_t>(got));
                if (s.in.size() > 64 * 1024) {
                    fail(s, "reply too long");
                    continue;
                }
            } else if (what & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                fail(s, "hang-up");
                continue;
            }
            for (int code; (code = takeReply(s.in)) != 0;) {
                const bool ok = (s.state == State::Banner && code == 220) ||
                                ((s.state == State::Ehlo || s.state == State::Mail) && code == 250);
                if (!ok) {
                    fail(s, "reply " + std::to_string(code) + " in state " +
                                std::to_string(static_cast<int>(s.state)));
                    break;
                }
                if (s.state == State::Banner) {
                    s.state = State::Ehlo;
                    if (!sendAll(s.fd, "EHLO hold.bench.test\r\n"))
                        fail(s, "send EHLO");
                } else if (s.state == State::Ehlo) {
                    s.state = State::Mail;
                    if (!sendAll(s.fd, "MAIL FROM:<hold@bench.test>\r\n"))
                        fail(s, "send MAIL");
                } else {
                    s.state = State::Ready;
                    ++ready;
                }
                if (s.state == State::Failed || s.state == State::Ready)
                    break;
            }
        }
    }
    const double readySeconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("sessions=%d ready=%d failed=%d ready_seconds=%.2f\n", o.sessions, ready, failed,
                readySeconds);
    if (!firstFailure.empty())
        std::printf("first_failure=\"%s\"\n", firstFailure.c_str());
    if (o.pid)
        std::printf("server_rss_before_kb=%ld server_hwm_before_kb=%ld\n", before.first,
                    before.second);
    std::fflush(stdout);

    // Hold: every session stays open and idle; one still open at the end was held.
    const auto holdEnd = Clock::now() + std::chrono::seconds(o.holdSeconds);
    long peakRss = -1;
    while (Clock::now() < holdEnd) {
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
        for (int i = 0; i < n; ++i) {
            Session &s = sessions[events[static_cast<size_t>(i)].data.u32];
            if (s.state != State::Ready)
                continue;
            char buffer[512];
            const ssize_t got = ::recv(s.fd, buffer, sizeof buffer, 0);
            if (got <= 0)
                fail(s, "closed while held");
        }
        if (o.pid)
            peakRss = std::max(peakRss, memoryKb(o.pid).first);
    }
    int held = 0;
    for (const Session &s : sessions)
        held += s.state == State::Ready ? 1 : 0;
    std::printf("held=%d\n", held);
    if (o.pid) {
        const auto during = memoryKb(o.pid);
        std::printf("server_rss_held_kb=%ld server_rss_peak_kb=%ld server_hwm_kb=%ld\n",
                    during.first, peakRss, during.second);
        if (held > 0 && before.first > 0)
            std::printf("server_kb_per_session=%.1f\n", double(during.first - before.first) / held);
    }
    for (Session &s : sessions) {
        if (s.state == State::Ready)
            ::close(s.fd);
    }
    ::close(ep);
    return held == o.sessions ? 0 : 1;
}
