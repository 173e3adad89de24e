// SPDX-License-Identifier: GPL-3.0-or-later
// One control-API event subscriber for bench/run-events-bench.sh: connects with the console's
// own client (ProxyConnection), subscribes to the event stream, and counts the events pushed
// to it for a bounded time. Prints "READY" once subscribed, then one RESULT line:
//   RESULT label=L events=N seconds=S events_per_second=X resyncs=R messages=M
#include "client/ProxyConnection.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTimer>
#include <cstdio>

using namespace greygate;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption url(QStringLiteral("url"), QStringLiteral("ws://HOST:PORT"),
                                 QStringLiteral("URL"));
    const QCommandLineOption tokenFile(QStringLiteral("token-file"),
                                       QStringLiteral("the read-only token's file"),
                                       QStringLiteral("FILE"));
    const QCommandLineOption duration(QStringLiteral("duration"),
                                      QStringLiteral("seconds to count after subscribing"),
                                      QStringLiteral("S"), QStringLiteral("10"));
    const QCommandLineOption label(QStringLiteral("label"), QStringLiteral("echoed in RESULT"),
                                   QStringLiteral("TEXT"), QStringLiteral("sub"));
    parser.addOptions({url, tokenFile, duration, label});
    parser.process(app);

    QFile file(parser.value(tokenFile));
    const int seconds = parser.value(duration).toInt();
    if (!parser.isSet(url) || !file.open(QIODevice::ReadOnly) || seconds <= 0 || seconds > 3600) {
        std::fprintf(stderr, "events_subscriber: --url, a readable --token-file and --duration "
                             "1..3600 are needed\n");
        return 2;
    }
    ProxyConnection::Options options;
    options.url = QUrl(parser.value(url));
    options.token = file.readLine(1024).trimmed();
    options.reconnect = false;
    ProxyConnection connection(options);

    quint64 events = 0, messages = 0, resyncs = 0;
    QElapsedTimer clock;
    QObject::connect(&connection, &ProxyConnection::eventsReceived, &app,
                     [&](const QJsonArray &batch) {
                         events += quint64(batch.size());
                         ++messages;
                     });
    QObject::connect(&connection, &ProxyConnection::resyncNeeded, &app, [&] { ++resyncs; });
    const auto finish = [&](int code) {
        const double s = clock.isValid() ? double(clock.elapsed()) / 1000.0 : 0.0;
        std::printf("RESULT label=%s events=%llu seconds=%.3f events_per_second=%.0f "
                    "resyncs=%llu messages=%llu\n",
                    qPrintable(parser.value(label)), static_cast<unsigned long long>(events), s,
                    s > 0 ? double(events) / s : 0.0, static_cast<unsigned long long>(resyncs),
                    static_cast<unsigned long long>(messages));
        std::fflush(stdout);
        app.exit(code);
    };
    QObject::connect(&connection, &ProxyConnection::subscribed, &app, [&] {
        std::printf("READY\n");
        std::fflush(stdout);
        clock.start();
        QTimer::singleShot(seconds * 1000, &app, [&] { finish(0); });
    });
    QObject::connect(&connection, &ProxyConnection::ready, &app, [&] { connection.subscribe(); });
    QObject::connect(
        &connection, &ProxyConnection::stateChanged, &app, [&](ProxyConnection::State state) {
            if (state == ProxyConnection::State::Refused ||
                state == ProxyConnection::State::Disconnected) {
                std::fprintf(stderr, "events_subscriber: %s\n", qPrintable(connection.lastError()));
                finish(1);
            }
        });
    // Bounded even if the proxy never answers.
    QTimer::singleShot((seconds + 30) * 1000, &app, [&] { finish(1); });
    connection.open();
    return app.exec();
}
