// SPDX-License-Identifier: GPL-3.0-or-later
// trivial_responder: greygated's own policy server (engine/policyd PolicyServer) with a
// handler that answers DUNNO without deciding. The gap between it and greygated is the cost
// of greylisting itself; the gap between it and raw_dunno_responder is the cost of the
// server code (Qt sockets, the parser).
#include "DunnoPolicyHandler.h"
#include "policyd/PolicyServer.h"
#include "util/EpollEventDispatcherFactory.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QHostAddress>
#include <QTimer>
#include <csignal>
#include <cstdio>

using namespace greygate;

namespace {

volatile std::sig_atomic_t g_stop = 0;

void requestStop(int)
{
    g_stop = 1;
}

} // namespace

int main(int argc, char **argv)
{
    // The protocol path's limit runs greygated's server code on greygated's event loop:
    // the same --event-dispatcher option, with the same default.
    const auto kind = EpollEventDispatcherFactory::fromArguments(argc, argv);
    if (!kind) {
        std::fputs("trivial_responder: --event-dispatcher must be epoll or qt\n", stderr);
        return 2;
    }
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB")) // as greygated
        qputenv("QT_NO_GLIB", "1");
    EpollEventDispatcherFactory::setForEngineThreads(*kind);
    if (QAbstractEventDispatcher *dispatcher = EpollEventDispatcherFactory::create(*kind))
        QCoreApplication::setEventDispatcher(dispatcher);
    QCoreApplication app(argc, argv);
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 0;
    const QStringList args = app.arguments().mid(1);
    for (const QString &arg : args) {
        if (arg.startsWith(u"--event-dispatcher="))
            continue; // read above
        const qsizetype colon = arg.lastIndexOf(u':');
        bool ok = false;
        if (arg.startsWith(u"--listen=") && colon > 9) {
            host = arg.mid(9, colon - 9);
            port = arg.mid(colon + 1).toUShort(&ok);
        }
        if (!ok) {
            std::fputs("usage: trivial_responder --listen=HOST:PORT (port 0: any) "
                       "[--event-dispatcher=epoll|qt]\n",
                       stderr);
            return 2;
        }
    }
    QHostAddress address;
    if (!address.setAddress(host)) {
        std::fprintf(stderr, "trivial_responder: not an address: %s\n", qPrintable(host));
        return 2;
    }

    DunnoPolicyHandler handler;
    PolicyServer server(handler, PolicyServerOptions{});
    QString error;
    if (!server.listen(address, port, &error)) {
        std::fprintf(stderr, "trivial_responder: %s\n", qPrintable(error));
        return 1;
    }
    std::printf("listening on %s:%u\n", qPrintable(server.serverAddress().toString()),
                unsigned(server.serverPort()));
    std::fflush(stdout);

    // SIGTERM/SIGINT only set a flag (nothing else is async-signal-safe); a coarse timer
    // turns it into the server's graceful shutdown.
    std::signal(SIGTERM, requestStop);
    std::signal(SIGINT, requestStop);
    std::signal(SIGPIPE, SIG_IGN);
    QTimer stopPoll;
    QObject::connect(&stopPoll, &QTimer::timeout, &server, [&server, &stopPoll] {
        if (g_stop) {
            stopPoll.stop();
            server.shutdown();
        }
    });
    QObject::connect(&server, &PolicyServer::shutdownFinished, &app, &QCoreApplication::quit);
    stopPoll.start(100);
    return app.exec();
}
