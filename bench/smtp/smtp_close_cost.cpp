// SPDX-License-Identifier: GPL-3.0-or-later
// What ending a loopback TCP connection costs, three ways (bench/README.md, "SMTP proxy",
// "Fewer packets and instructions per message"): the last reply sent and then close(); the
// reply sent with MSG_MORE, shutdown(SHUT_WR) adding the FIN to it, then close() (what
// SmtpSocket::writeAndClose() does); the reply with MSG_MORE and close() alone. Both ends are
// in this process, so every kernel path of both is counted: CPU seconds (getrusage) per
// connection, the variants interleaved in rounds.
//   smtp_close_cost [connections per round, default 20000] [rounds, default 5]
#include <arpa/inet.h>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

double cpuSeconds(bool systemOnly)
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double system = double(usage.ru_stime.tv_sec) + double(usage.ru_stime.tv_usec) / 1e6;
    const double user = double(usage.ru_utime.tv_sec) + double(usage.ru_utime.tv_usec) / 1e6;
    return systemOnly ? system : system + user;
}

} // namespace

int main(int argc, char **argv)
{
    const int connections = argc > 1 ? std::atoi(argv[1]) : 20000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    if (connections <= 0 || connections > 1000000 || rounds <= 0 || rounds > 100) {
        std::fprintf(stderr, "usage: smtp_close_cost [1..1000000 connections] [1..100 rounds]\n");
        return 2;
    }
    const int one = 1;
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); // inherited
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK); // loopback only, a port of the kernel's
    socklen_t length = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
        ::listen(listener, 1024) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        std::perror("listen");
        return 1;
    }
    static const char *const names[] = {"send + close", "MSG_MORE + shutdown + close",
                                        "MSG_MORE + close"};
    double total[3] = {};
    double system[3] = {};
    for (int round = 0; round < rounds; ++round) {
        for (int variant = 0; variant < 3; ++variant) {
            const double cpu0 = cpuSeconds(false);
            const double sys0 = cpuSeconds(true);
            for (int i = 0; i < connections; ++i) {
                const int client = ::socket(AF_INET, SOCK_STREAM, 0);
                ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (::connect(client, reinterpret_cast<sockaddr *>(&address), sizeof address) !=
                    0) {
                    std::perror("connect");
                    return 1;
                }
                const int server = ::accept(listener, nullptr, nullptr);
                char buffer[64];
                ::send(client, "QUIT\r\n", 6, 0); // the connection has carried data both ways
                ::recv(server, buffer, sizeof buffer, 0);
                static const char bye[] = "221 2.0.0 Bye\r\n";
                const int more = variant == 0 ? 0 : MSG_MORE;
                ::send(server, bye, sizeof bye - 1, MSG_NOSIGNAL | more);
                if (variant == 1)
                    ::shutdown(server, SHUT_WR);
                ::close(server);
                while (::recv(client, buffer, sizeof buffer, 0) > 0) {
                }
                ::close(client);
            }
            total[variant] += cpuSeconds(false) - cpu0;
            system[variant] += cpuSeconds(true) - sys0;
        }
    }
    for (int variant = 0; variant < 3; ++variant)
        std::printf("%-28s %6.2f us CPU per connection (system %6.2f)\n", names[variant],
                    total[variant] / rounds / connections * 1e6,
                    system[variant] / rounds / connections * 1e6);
    ::close(listener);
    return 0;
}
