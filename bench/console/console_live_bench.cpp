// SPDX-License-Identifier: GPL-3.0-or-later
// console_live_bench: the Live attempts view under a stream of attempt events (DESIGN.md §7:
// 20,000 a second with the GUI thread under 50 % busy). A proxy on another thread (the real
// ControlServer, BenchEventSource) pushes the events; the GUI thread runs what the console
// runs for the Live page: ProxyConnection (WebSocket, JSON decoding) -> ProxyRegistry ->
// LiveAttemptsModel -> LiveAttemptsFilter -> a visible QTableView that follows the tail.
// Measured on the GUI thread: its CPU time over wall time (busy fraction), and the lateness
// of a 5 ms timer (event-loop latency). Bounded by --seconds. One RESULT line on stdout.

#include "BenchEventSource.h"
#include "client/ProxyRegistry.h"
#include "models/LiveAttemptsFilter.h"
#include "models/LiveAttemptsModel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QScrollBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

using namespace greygate;

namespace {

double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Live attempts view benchmark"));
    parser.addHelpOption();
    const QCommandLineOption rateOption(QStringLiteral("rate"),
                                        QStringLiteral("events per second (20000)"),
                                        QStringLiteral("N"), QStringLiteral("20000"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("measured seconds (10, at most 120)"),
                                           QStringLiteral("S"), QStringLiteral("10"));
    const QCommandLineOption filterOption(QStringLiteral("filter"),
                                          QStringLiteral("a text filter on the view (none)"),
                                          QStringLiteral("TEXT"));
    const QCommandLineOption capacityOption(QStringLiteral("capacity"),
                                            QStringLiteral("rows kept (50000)"),
                                            QStringLiteral("N"), QStringLiteral("50000"));
    parser.addOptions({rateOption, secondsOption, filterOption, capacityOption});
    parser.process(app);
    const int rate = std::clamp(parser.value(rateOption).toInt(), 1, 1'000'000);
    const double seconds = std::clamp(parser.value(secondsOption).toDouble(), 1.0, 120.0);
    const int capacity = std::clamp(parser.value(capacityOption).toInt(), 100, 1'000'000);
    const double warmup = 1.0;

    QTemporaryDir dir;
    BenchEventSource source(rate, seconds + warmup, dir.path());
    bool sourceOk = false;
    QEventLoop waitReady;
    QObject::connect(&source, &BenchEventSource::ready, &waitReady, [&](bool ok) {
        sourceOk = ok;
        waitReady.quit();
    });
    source.start();
    QTimer::singleShot(30'000, &waitReady, &QEventLoop::quit);
    waitReady.exec();
    if (!sourceOk) {
        std::fprintf(stderr, "the proxy thread did not start: %s\n", qPrintable(source.error()));
        source.finish();
        source.wait(10'000);
        return 1;
    }

    ProxyRegistry registry;
    LiveAttemptsModel model(registry, capacity);
    LiveAttemptsFilter filter;
    filter.setSourceModel(&model);
    filter.setText(parser.value(filterOption));
    QTableView view;
    view.setModel(&filter);
    view.setSortingEnabled(false); // arrival order, as the page shows it by default
    view.verticalHeader()->setDefaultSectionSize(22);
    view.verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view.horizontalHeader()->setStretchLastSection(true);
    view.resize(1400, 900);
    view.show();
    // Follow the tail when the view is at the bottom (Wireshark's rule), once per flush.
    QObject::connect(&model, &LiveAttemptsModel::rowsFlushed, &view, [&view] {
        QScrollBar *bar = view.verticalScrollBar();
        if (bar->value() >= bar->maximum() - 2)
            view.scrollToBottom();
    });

    quint64 received = 0;
    int resyncs = 0;
    QObject::connect(
        &registry, &ProxyRegistry::eventsReceived, &app,
        [&](const QString &, const QJsonArray &events) { received += quint64(events.size()); });
    QObject::connect(&registry, &ProxyRegistry::resyncNeeded, &app, [&] { ++resyncs; });

    ProxyEndpoint endpoint;
    endpoint.name = QStringLiteral("bench");
    endpoint.url = QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(source.port()));
    endpoint.token = source.token();
    const QString id = registry.add(endpoint);
    QEventLoop waitSubscribed;
    QObject::connect(registry.connection(id), &ProxyConnection::subscribed, &waitSubscribed,
                     &QEventLoop::quit);
    QTimer::singleShot(30'000, &waitSubscribed, &QEventLoop::quit);
    waitSubscribed.exec();
    if (registry.connection(id)->state() != ProxyConnection::State::Connected) {
        std::fprintf(stderr, "cannot connect: %s\n",
                     qPrintable(registry.connection(id)->lastError()));
        source.finish();
        source.wait(10'000);
        return 1;
    }
    source.go();

    // Event-loop latency: how late a 5 ms timer fires.
    std::vector<double> lateness;
    lateness.reserve(size_t(seconds * 250));
    QElapsedTimer probeClock;
    probeClock.start();
    qint64 lastProbe = -1;
    bool measuring = false;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    QObject::connect(&probe, &QTimer::timeout, &app, [&] {
        const qint64 now = probeClock.nsecsElapsed();
        if (measuring && lastProbe >= 0)
            lateness.push_back(std::max(0.0, double(now - lastProbe) / 1e6 - 5.0));
        lastProbe = now;
    });
    probe.start();

    double cpu0 = 0, cpuBusy = 0, wall = 0;
    quint64 received0 = 0, receivedIn = 0;
    QElapsedTimer wallClock;
    QTimer::singleShot(int(warmup * 1000), &app, [&] {
        measuring = true;
        cpu0 = threadCpuSeconds();
        received0 = received;
        wallClock.start();
    });
    QTimer::singleShot(int((warmup + seconds) * 1000), &app, [&] {
        cpuBusy = threadCpuSeconds() - cpu0;
        wall = double(wallClock.nsecsElapsed()) / 1e9;
        receivedIn = received - received0;
        measuring = false;
        app.quit();
    });
    app.exec();
    source.finish();
    source.wait(10'000);
    model.flush();

    const double busy = wall > 0 ? cpuBusy / wall : 0;
    // On a shared machine a thread gets at most its share of the cores, so the busy fraction
    // is capped by the load; the CPU cost per event is the steadier figure, and the busy
    // fraction it implies at the target rate is what a quiet machine would show.
    const double usPerEvent = receivedIn > 0 ? cpuBusy / double(receivedIn) * 1e6 : 0;
    std::printf(
        "RESULT bench=live rate_target=%d seconds=%.2f events_received=%llu "
        "events_per_s=%.0f gui_cpu_s=%.3f gui_busy=%.3f loop_late_p50_ms=%.2f "
        "loop_late_p99_ms=%.2f loop_late_max_ms=%.2f rows=%d filtered_rows=%d "
        "appended=%llu resyncs=%d dropped_before_shown=%lld gui_us_per_event=%.2f "
        "busy_at_target=%.3f source_thread_cpu_s=%.2f filter=%s\n",
        rate, wall, static_cast<unsigned long long>(receivedIn),
        wall > 0 ? double(receivedIn) / wall : 0.0, cpuBusy, busy, percentile(lateness, 0.5),
        percentile(lateness, 0.99),
        lateness.empty() ? 0.0 : *std::max_element(lateness.begin(), lateness.end()),
        model.rowCount(), filter.rowCount(), static_cast<unsigned long long>(source.appended()),
        resyncs, static_cast<long long>(model.droppedBeforeShown()), usPerEvent,
        usPerEvent * rate / 1e6, source.cpuSeconds(),
        parser.value(filterOption).isEmpty() ? "none" : qPrintable(parser.value(filterOption)));
    return 0;
}
