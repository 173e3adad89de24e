// SPDX-License-Identifier: GPL-3.0-or-later
// console_queue_bench: the Greylist queue view browsing a big queue page by page (DESIGN.md
// §7: the queue browses 1M entries). QueueModel talks to a running greygated (the script
// fills it with policy_loadgen) and fetches pages with fetchMore, as a QTableView does when
// the admin scrolls; every page's time (request to rows inserted) is recorded. Then the
// same for a filtered query and a sort on another key, which the proxy evaluates over the
// whole queue. Bounded by --pages and --seconds. One RESULT line per phase on stdout.

#include "client/ProxyRegistry.h"
#include "models/QueueModel.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <vector>

using namespace greygate;

namespace {

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

long rssKb()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLong();
    }
    return -1;
}

struct Phase
{
    std::vector<double> pageMs;
    double firstMs = 0;
    qint64 lastOffset = 0; // of the last page fetched: deeper pages cost the proxy more
    qint64 total = 0;
    int rows = 0;
    bool failed = false;
    QString error;
};

// Loads the first page and then up to `pages` - 1 more, bounded by `seconds`.
Phase browse(QueueModel &model, int pages, double seconds, const std::function<void()> &setup)
{
    Phase phase;
    QElapsedTimer all;
    all.start();
    QElapsedTimer page;
    QEventLoop loop;
    const auto next = [&] {
        if (phase.failed || int(phase.pageMs.size()) + 1 >= pages ||
            all.nsecsElapsed() / 1e9 >= seconds || !model.canFetchMore({})) {
            loop.quit();
            return;
        }
        page.start();
        model.fetchMore({});
    };
    QObject::connect(&model, &QueueModel::pageLoaded, &loop, [&](qint64 offset, int) {
        const double ms = double(page.nsecsElapsed()) / 1e6;
        if (offset == 0)
            phase.firstMs = ms;
        else
            phase.pageMs.push_back(ms);
        phase.lastOffset = offset;
        QTimer::singleShot(0, &loop, next);
    });
    QObject::connect(&model, &QueueModel::loadFailed, &loop, [&](const QString &why) {
        phase.failed = true;
        phase.error = why;
        loop.quit();
    });
    QTimer::singleShot(int(seconds * 1000) + 60'000, &loop, &QEventLoop::quit); // a stall
    page.start();
    setup();
    loop.exec();
    QObject::disconnect(&model, nullptr, &loop, nullptr);
    phase.total = model.total();
    phase.rows = model.rowCount();
    return phase;
}

void report(const char *name, const Phase &p, int pageSize)
{
    if (p.failed) {
        std::printf("RESULT bench=queue phase=%s failed=\"%s\"\n", name, qPrintable(p.error));
        return;
    }
    std::printf("RESULT bench=queue phase=%s page_size=%d total=%lld rows_loaded=%d pages=%zu "
                "first_page_ms=%.1f page_p50_ms=%.1f page_p99_ms=%.1f page_max_ms=%.1f "
                "last_offset=%lld last_page_ms=%.1f rss_kb=%ld\n",
                name, pageSize, static_cast<long long>(p.total), p.rows, p.pageMs.size() + 1,
                p.firstMs, percentile(p.pageMs, 0.5), percentile(p.pageMs, 0.99),
                p.pageMs.empty() ? 0.0 : *std::max_element(p.pageMs.begin(), p.pageMs.end()),
                static_cast<long long>(p.lastOffset),
                p.pageMs.empty() ? p.firstMs : p.pageMs.back(), rssKb());
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Greylist queue paging benchmark"));
    parser.addHelpOption();
    const QCommandLineOption urlOption(QStringLiteral("url"),
                                       QStringLiteral("the proxy's control API (ws://...)"),
                                       QStringLiteral("URL"));
    const QCommandLineOption tokenOption(QStringLiteral("token-file"),
                                         QStringLiteral("the admin token file"),
                                         QStringLiteral("FILE"));
    const QCommandLineOption pagesOption(QStringLiteral("pages"),
                                         QStringLiteral("pages to fetch at most (1000)"),
                                         QStringLiteral("N"), QStringLiteral("1000"));
    const QCommandLineOption pageSizeOption(QStringLiteral("page-size"),
                                            QStringLiteral("entries per page (1000)"),
                                            QStringLiteral("N"), QStringLiteral("1000"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("time bound per phase (120)"),
                                           QStringLiteral("S"), QStringLiteral("120"));
    parser.addOptions({urlOption, tokenOption, pagesOption, pageSizeOption, secondsOption});
    parser.process(app);
    QFile tokenFile(parser.value(tokenOption));
    if (!parser.isSet(urlOption) || !tokenFile.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "need --url and a readable --token-file\n");
        return 2;
    }
    const int pages = std::clamp(parser.value(pagesOption).toInt(), 1, 100'000);
    const int pageSize = std::clamp(parser.value(pageSizeOption).toInt(), 1, 1000);
    const double seconds = std::clamp(parser.value(secondsOption).toDouble(), 1.0, 3600.0);

    ProxyRegistry registry;
    ProxyEndpoint endpoint;
    endpoint.url = QUrl(parser.value(urlOption));
    endpoint.token = tokenFile.readAll().trimmed();
    QEventLoop waitReady;
    QObject::connect(&registry, &ProxyRegistry::ready, &waitReady, &QEventLoop::quit);
    QTimer::singleShot(30'000, &waitReady, &QEventLoop::quit);
    const QString id = registry.add(endpoint);
    waitReady.exec();
    if (registry.connection(id)->state() != ProxyConnection::State::Connected) {
        std::fprintf(stderr, "cannot connect: %s\n",
                     qPrintable(registry.connection(id)->lastError()));
        return 3;
    }

    {
        // Scrolling down the whole queue, newest first (the page's default).
        QueueModel model(registry);
        model.setPageSize(pageSize);
        report("scroll", browse(model, pages, seconds, [&] { model.setProxyId(id); }), pageSize);
    }
    {
        // A sender filter: the proxy walks every entry for each page.
        QueueModel model(registry);
        model.setPageSize(pageSize);
        report(
            "filtered",
            browse(
                model, std::min(pages, 20), seconds,
                [&] {
                    model.setFilter({QStringLiteral("any"), {}, QStringLiteral("@mail.b"), {}, {}});
                    model.setProxyId(id);
                }),
            pageSize);
    }
    {
        // Sorted by sender: another order over the whole queue.
        QueueModel model(registry);
        model.setPageSize(pageSize);
        report("sorted",
               browse(model, std::min(pages, 20), seconds,
                      [&] {
                          model.sort(QueueModel::Sender, Qt::AscendingOrder);
                          model.setProxyId(id);
                      }),
               pageSize);
    }
    return 0;
}
