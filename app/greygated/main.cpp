// SPDX-License-Identifier: GPL-3.0-or-later
// greygated: the Postfix policy delegation daemon (a drop-in for postgrey). Composition
// root only: options, logging, signals, the privilege drop, and the Greygated object that
// wires the engine.

#include "Allocator.h"
#include "PrivilegeDrop.h"
#include "SignalWatcher.h"
#include "config/DaemonOptions.h"
#include "daemon/ExitCode.h"
#include "daemon/Greygated.h"
#include "util/EpollEventDispatcherFactory.h"
#include "util/LogLine.h"
#include "util/Logger.h"
#include "util/Version.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QLoggingCategory>
#include <cstdio>

using namespace greygate;

Q_LOGGING_CATEGORY(lcMain, "greygate.daemon", QtInfoMsg)

namespace {

void print(FILE *stream, const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
}

} // namespace

int main(int argc, char **argv)
{
    // The daemon has no GUI to share an event loop with: Qt's own UNIX dispatcher costs
    // a tenth less CPU per proxied message than the glib one (bench/README.md, "Per-message
    // cost"). An explicit setting in the environment still wins.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    // epoll by default (--event-dispatcher=qt for Qt's own): a pass costs one epoll_wait
    // that returns only the ready descriptors, instead of a poll() over all of them
    // (bench/README.md, "Event dispatcher"). It must exist before the application, so the
    // option is read from the raw command line; a bad value is reported by parse() below.
    // The I/O threads the engine starts get the same kind.
    if (const auto kind = EpollEventDispatcherFactory::fromArguments(argc, argv)) {
        EpollEventDispatcherFactory::setForEngineThreads(*kind);
        if (QAbstractEventDispatcher *dispatcher = EpollEventDispatcherFactory::create(*kind))
            QCoreApplication::setEventDispatcher(dispatcher);
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("greygated"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GREYGATE_VERSION));

    DaemonOptions options;
    QString error;
    switch (options.parse(app.arguments().mid(1), &error)) {
    case DaemonOptions::ParseResult::ShowHelp:
        print(stdout, DaemonOptions::helpText(QStringLiteral("greygated")));
        return ExitOk;
    case DaemonOptions::ParseResult::ShowVersion:
        print(stdout, QString::fromLatin1(versionString() + QByteArrayLiteral("\nallocator: ") +
                                          allocatorName()) +
                          u'\n');
        return ExitOk;
    case DaemonOptions::ParseResult::Error:
        print(stderr, u"greygated: " + error + u"\n");
        return ExitUsage;
    case DaemonOptions::ParseResult::Run:
        break;
    }

    Logger::install(options.logLevel);

    SignalWatcher signalWatcher;
    if (!signalWatcher.install(&error)) {
        print(stderr, u"greygated: " + error + u"\n");
        return ExitRuntimeError;
    }

    // Before anything is bound: a user that does not exist refuses the start at once.
    PrivilegeDrop privileges;
    if (!privileges.prepare(options.user, options.dbDir, &error)) {
        qCCritical(lcMain).noquote()
            << LogLine("cannot run as an unprivileged user").add("error", error).text();
        return ExitUsage;
    }

    Greygated daemon(options);
    const int started = daemon.start();
    if (started != ExitOk)
        return started;

    // Every socket is bound and the store is open: nothing more needs root.
    if (!privileges.apply(&error)) {
        qCCritical(lcMain).noquote()
            << LogLine("cannot drop root privileges, stopping").add("error", error).text();
        return ExitRuntimeError;
    }
    if (privileges.willDrop())
        qCInfo(lcMain).noquote() << LogLine("privileges dropped")
                                        .add("user", privileges.userName())
                                        .add("uid", qint64(privileges.uid()))
                                        .add("gid", qint64(privileges.gid()))
                                        .text();
    else if (privileges.noUserToDropTo())
        qCWarning(lcMain).noquote()
            << LogLine("running as root: there is no user \"greygate\" to drop to; create it "
                       "(adduser --system --group greygate) or pass --user=NAME")
                   .text();
    else if (privileges.keepsRoot())
        qCWarning(lcMain).noquote()
            << LogLine("running as root (--user=root): a flaw in greygated would be root's").text();

    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &daemon,
                     &Greygated::shutdown);
    QObject::connect(&signalWatcher, &SignalWatcher::reloadRequested, &daemon, &Greygated::reload);
    QObject::connect(&daemon, &Greygated::stopped, &app, &QCoreApplication::quit,
                     Qt::QueuedConnection);
    return app.exec() == 0 ? ExitOk : ExitRuntimeError;
}
