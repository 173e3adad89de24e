// SPDX-License-Identifier: GPL-3.0-or-later
// policy_loadgen: a Postfix policy delegation load generator (see bench/README.md).
#include "LoadWorker.h"
#include "PolicyWorkload.h"

#include <atomic>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <netdb.h>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <thread>
#include <vector>

using namespace greygate;

namespace {

struct Options
{
    std::string host = "127.0.0.1";
    std::string port = "10023";
    int connections = 4;
    int threads = 1;
    std::uint64_t triplets = 10000;
    double newRatio = 0.25;
    std::uint64_t firstUnseen = 0;
    std::int64_t count = 0; // 0: no bound by count
    double duration = 0;    // seconds; 0: no bound by time
    double answerTimeout = 10;
    int maxReconnects = 3;
    std::uint64_t seed = 1;
    std::string label;
};

void usage()
{
    std::fputs(
        "usage: policy_loadgen --connect=HOST:PORT [options]\n"
        "  --connections=N     parallel connections, one request outstanding each (4)\n"
        "  --threads=N         epoll threads driving them (1)\n"
        "  --triplets=N        distinct triplets in the workload (10000; max 1e10)\n"
        "  --new-ratio=F       share of requests that are first sights while unseen\n"
        "                      triplets remain; the rest retry seen ones (0.25; 1 = prefill)\n"
        "  --first-unseen=K    triplets [0,K) were sent by an earlier run (0)\n"
        "  --count=N           stop after N requests\n"
        "  --duration=S        stop issuing after S seconds (at least one bound is needed)\n"
        "  --timeout=S         an answer later than S seconds is a failure (10)\n"
        "  --reconnects=N      reconnects per connection after the server closed it (3)\n"
        "  --seed=N            workload seed (1)\n"
        "  --label=TEXT        echoed in the RESULT line\n",
        stderr);
}

bool parse(int argc, char **argv, Options &options)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        const std::string value(eq == std::string_view::npos ? std::string_view()
                                                             : arg.substr(eq + 1));
        char *end = nullptr;
        auto number = [&] {
            return std::strtoull(value.c_str(), &end, 10);
        };
        auto real = [&] {
            return std::strtod(value.c_str(), &end);
        };
        if (name == "--connect") {
            const auto colon = value.rfind(':');
            if (colon == std::string::npos)
                return false;
            options.host = value.substr(0, colon);
            options.port = value.substr(colon + 1);
            if (options.host.size() > 2 && options.host.front() == '[')
                options.host = options.host.substr(1, options.host.size() - 2);
            continue;
        }
        if (name == "--label") {
            options.label = value;
            continue;
        }
        if (name == "--connections")
            options.connections = int(number());
        else if (name == "--threads")
            options.threads = int(number());
        else if (name == "--triplets")
            options.triplets = number();
        else if (name == "--new-ratio")
            options.newRatio = real();
        else if (name == "--first-unseen")
            options.firstUnseen = number();
        else if (name == "--count")
            options.count = std::int64_t(number());
        else if (name == "--duration")
            options.duration = real();
        else if (name == "--timeout")
            options.answerTimeout = real();
        else if (name == "--reconnects")
            options.maxReconnects = int(number());
        else if (name == "--seed")
            options.seed = number();
        else
            return false;
        if (value.empty() || !end || *end != '\0')
            return false;
    }
    return options.connections >= 1 && options.connections <= 4096 && options.threads >= 1 &&
           options.threads <= 64 && options.triplets >= 1 &&
           options.triplets <= PolicyWorkload::MaxTriplets && options.newRatio >= 0 &&
           options.newRatio <= 1 && options.answerTimeout > 0 && options.maxReconnects >= 0 &&
           (options.count > 0 || options.duration > 0) && options.duration <= 86400;
}

double cpuSeconds(const timeval &tv)
{
    return double(tv.tv_sec) + double(tv.tv_usec) / 1e6;
}

double micros(std::uint64_t ns)
{
    return double(ns) / 1000.0;
}

double percent(std::uint64_t part, std::uint64_t whole)
{
    return whole ? 100.0 * double(part) / double(whole) : 0.0;
}

} // namespace

int main(int argc, char **argv)
{
    Options options;
    if (!parse(argc, argv, options)) {
        usage();
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    options.threads = std::min(options.threads, options.connections);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *resolved = nullptr;
    if (getaddrinfo(options.host.c_str(), options.port.c_str(), &hints, &resolved) != 0 ||
        !resolved) {
        std::fprintf(stderr, "policy_loadgen: cannot resolve %s:%s\n", options.host.c_str(),
                     options.port.c_str());
        return 2;
    }
    LoadTarget target;
    std::memcpy(&target.address, resolved->ai_addr, resolved->ai_addrlen);
    target.length = resolved->ai_addrlen;
    freeaddrinfo(resolved);

    PolicyWorkload workload(options.triplets, options.newRatio, options.firstUnseen);
    std::atomic<std::int64_t> budget(options.count);
    LoadLimits limits;
    limits.budget = options.count > 0 ? &budget : nullptr;
    limits.answerTimeoutNs = std::uint64_t(options.answerTimeout * 1e9);
    limits.maxReconnects = options.maxReconnects;

    std::vector<std::unique_ptr<LoadWorker>> workers;
    int nextId = 0;
    for (int t = 0; t < options.threads; ++t) {
        const int share = options.connections / options.threads +
                          (t < options.connections % options.threads ? 1 : 0);
        workers.push_back(std::make_unique<LoadWorker>(workload, target, limits, nextId, share,
                                                       options.seed * 1000003 + std::uint64_t(t)));
        nextId += share;
    }
    for (auto &worker : workers) {
        std::string error;
        if (!worker->connectAll(&error)) {
            std::fprintf(stderr, "policy_loadgen: cannot connect to %s:%s: %s\n",
                         options.host.c_str(), options.port.c_str(), error.c_str());
            return 1;
        }
    }

    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const std::uint64_t started = LoadWorker::nowNs();
    if (options.duration > 0)
        limits.deadlineNs = started + std::uint64_t(options.duration * 1e9);
    std::vector<std::thread> threads;
    for (auto &worker : workers)
        threads.emplace_back([&worker] { worker->run(); });
    for (auto &thread : threads)
        thread.join();
    rusage after{};
    getrusage(RUSAGE_SELF, &after);

    LoadStats total;
    for (auto &worker : workers)
        total.merge(worker->stats());
    const double seconds = total.lastAnswerNs > total.firstSentNs
                               ? double(total.lastAnswerNs - total.firstSentNs) / 1e9
                               : 0.0;
    const double rate = seconds > 0 ? double(total.answered) / seconds : 0.0;
    const double userCpu = cpuSeconds(after.ru_utime) - cpuSeconds(before.ru_utime);
    const double systemCpu = cpuSeconds(after.ru_stime) - cpuSeconds(before.ru_stime);
    const double wall = double(LoadWorker::nowNs() - started) / 1e9;
    const double cores = wall > 0 ? (userCpu + systemCpu) / wall : 0.0;
    const LatencyHistogram &h = total.latency;
    const std::uint64_t errors =
        total.closedByServer + total.timeouts + total.protocolErrors + total.connectFailures;

    std::printf("policy_loadgen: %s:%s, %d connection(s) on %d thread(s), %" PRIu64
                " triplets (new ratio %.2f, first unseen %" PRIu64 ")\n",
                options.host.c_str(), options.port.c_str(), options.connections, options.threads,
                options.triplets, options.newRatio, options.firstUnseen);
    std::printf("answered %" PRIu64 " in %.3f s: %.0f decisions/s\n", total.answered, seconds,
                rate);
    std::printf("latency (us): min %.1f p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f mean %.1f\n",
                micros(h.min()), micros(h.quantile(0.5)), micros(h.quantile(0.9)),
                micros(h.quantile(0.99)), micros(h.quantile(0.999)), micros(h.max()),
                h.mean() / 1000.0);
    std::printf("answers: DEFER_IF_PERMIT %" PRIu64 " (%.1f%%), PREPEND %" PRIu64
                " (%.1f%%), DUNNO %" PRIu64 " (%.1f%%), other %" PRIu64 " (%.1f%%)\n",
                total.deferIfPermit, percent(total.deferIfPermit, total.answered), total.prepend,
                percent(total.prepend, total.answered), total.dunno,
                percent(total.dunno, total.answered), total.other,
                percent(total.other, total.answered));
    if (!total.otherSample.empty())
        std::printf("first other answer: %s\n", total.otherSample.c_str());
    std::printf("errors: closed by server %" PRIu64 ", timeouts %" PRIu64 ", protocol %" PRIu64
                ", connect %" PRIu64 "\n",
                total.closedByServer, total.timeouts, total.protocolErrors, total.connectFailures);
    std::printf("first sights %" PRIu64 ", next unseen triplet %" PRIu64 "\n", total.firstSights,
                workload.nextUnseen());
    std::printf("load generator CPU: %.2f cores (user %.2f s, system %.2f s over %.2f s)\n", cores,
                userCpu, systemCpu, wall);
    std::printf("RESULT label=%s conns=%d threads=%d triplets=%" PRIu64 " answered=%" PRIu64
                " seconds=%.3f rate=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f defer=%" PRIu64
                " prepend=%" PRIu64 " dunno=%" PRIu64 " other=%" PRIu64 " errors=%" PRIu64
                " first_sights=%" PRIu64 " next_unseen=%" PRIu64 " loadgen_cores=%.2f\n",
                options.label.empty() ? "-" : options.label.c_str(), options.connections,
                options.threads, options.triplets, total.answered, seconds, rate,
                micros(h.quantile(0.5)), micros(h.quantile(0.99)), micros(h.max()),
                total.deferIfPermit, total.prepend, total.dunno, total.other, errors,
                total.firstSights, workload.nextUnseen(), cores);
    return total.answered > 0 ? 0 : 1;
}
