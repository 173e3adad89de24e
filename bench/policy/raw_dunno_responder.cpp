// SPDX-License-Identifier: GPL-3.0-or-later
// raw_dunno_responder: the smallest policy server that is still correct: one epoll thread,
// reads requests up to their empty line and answers "action=DUNNO" to each. No parsing, no
// Qt. It is the ceiling of the load generator on this machine: whatever rate policy_loadgen
// reaches against it, it cannot measure anything faster.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

namespace {

constexpr std::size_t MaxRequest = 64 * 1024; // Postfix's requests are ~1 KiB
constexpr std::size_t MaxPendingOutput = 64 * 1024;
constexpr std::string_view Answer = "action=DUNNO\n\n";

volatile std::sig_atomic_t g_stop = 0;

struct Client
{
    int fd = -1;
    std::string in;
    std::size_t scanned = 0; // bytes of `in` already searched for the empty line
    std::string out;
    std::size_t outSent = 0;
};

bool flush(Client &client)
{
    while (client.outSent < client.out.size()) {
        const ssize_t n = send(client.fd, client.out.data() + client.outSent,
                               client.out.size() - client.outSent, MSG_NOSIGNAL);
        if (n > 0) {
            client.outSent += std::size_t(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }
    client.out.clear();
    client.outSent = 0;
    return true;
}

// Answers every complete request in the input; false to drop a hostile client.
bool answer(Client &client)
{
    std::size_t start = 0;
    for (;;) {
        const std::size_t from = std::max(client.scanned, start + 1) - 1;
        const std::size_t end = client.in.find("\n\n", from);
        if (end == std::string::npos)
            break;
        client.out.append(Answer);
        start = end + 2;
        client.scanned = start;
    }
    client.in.erase(0, start);
    client.scanned = client.in.empty() ? 0 : client.in.size();
    return client.in.size() <= MaxRequest && client.out.size() <= MaxPendingOutput;
}

} // namespace

int main(int argc, char **argv)
{
    std::string host = "127.0.0.1", port = "0";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.starts_with("--listen=") && arg.rfind(':') > 9) {
            const auto colon = arg.rfind(':');
            host = std::string(arg.substr(9, colon - 9));
            port = std::string(arg.substr(colon + 1));
        } else {
            std::fputs("usage: raw_dunno_responder --listen=HOST:PORT (port 0: any)\n", stderr);
            return 2;
        }
    }
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGTERM, [](int) { g_stop = 1; });
    std::signal(SIGINT, [](int) { g_stop = 1; });

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo *resolved = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &resolved) != 0 || !resolved) {
        std::fprintf(stderr, "raw_dunno_responder: cannot resolve %s\n", host.c_str());
        return 1;
    }
    const int listener = socket(resolved->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listener < 0 || bind(listener, resolved->ai_addr, resolved->ai_addrlen) != 0 ||
        listen(listener, 1024) != 0) {
        std::fprintf(stderr, "raw_dunno_responder: cannot listen on %s:%s: %s\n", host.c_str(),
                     port.c_str(), std::strerror(errno));
        return 1;
    }
    freeaddrinfo(resolved);
    sockaddr_storage bound{};
    socklen_t boundLength = sizeof bound;
    getsockname(listener, reinterpret_cast<sockaddr *>(&bound), &boundLength);
    char boundHost[NI_MAXHOST], boundPort[NI_MAXSERV];
    getnameinfo(reinterpret_cast<sockaddr *>(&bound), boundLength, boundHost, sizeof boundHost,
                boundPort, sizeof boundPort, NI_NUMERICHOST | NI_NUMERICSERV);
    std::printf("listening on %s:%s\n", boundHost, boundPort);
    std::fflush(stdout);

    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listener;
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    std::unordered_map<int, std::unique_ptr<Client>> clients;
    char buffer[16384];
    epoll_event events[64];

    auto drop = [&](int fd) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        clients.erase(fd);
    };

    while (!g_stop) {
        const int ready = epoll_wait(epoll, events, 64, 200);
        for (int i = 0; i < ready; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listener) {
                for (;;) {
                    const int accepted =
                        accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (accepted < 0)
                        break;
                    setsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    auto client = std::make_unique<Client>();
                    client->fd = accepted;
                    epoll_event clientEvent{};
                    clientEvent.events = EPOLLIN | EPOLLRDHUP;
                    clientEvent.data.fd = accepted;
                    epoll_ctl(epoll, EPOLL_CTL_ADD, accepted, &clientEvent);
                    clients.emplace(accepted, std::move(client));
                }
                continue;
            }
            const auto found = clients.find(fd);
            if (found == clients.end())
                continue;
            Client &client = *found->second;
            bool keep = true;
            if (events[i].events & EPOLLIN) {
                const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
                if (n > 0) {
                    client.in.append(buffer, std::size_t(n));
                    keep = answer(client) && flush(client);
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    keep = false;
                }
            } else if (events[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
                keep = false;
            }
            if (keep && (events[i].events & EPOLLOUT))
                keep = flush(client);
            if (!keep) {
                drop(fd);
                continue;
            }
            epoll_event clientEvent{};
            clientEvent.events = EPOLLIN | EPOLLRDHUP | (client.out.empty() ? 0u : EPOLLOUT);
            clientEvent.data.fd = fd;
            if (!client.out.empty() || (events[i].events & EPOLLOUT))
                epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &clientEvent);
        }
    }
    for (auto &entry : clients)
        close(entry.first);
    close(listener);
    close(epoll);
    return 0;
}
