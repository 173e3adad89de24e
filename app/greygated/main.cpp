// SPDX-License-Identifier: GPL-3.0-or-later
// greygated: the Postfix policy delegation daemon (a drop-in for postgrey). Composition
// root only: options, logging, signals, and the Greygated object that wires the engine.

#include "SignalWatcher.h"
#include "config/DaemonOptions.h"
#include "daemon/ExitCode.h"
#include "daemon/Greygated.h"
#include "util/Logger.h"
#include "util/Version.h"

#include <QCoreApplication>
#include <cstdio>

using namespace greygate;

namespace {

void print(FILE *stream, const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
}

} // namespace

int main(int argc, char **argv)
{
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
        print(stdout, QString::fromLatin1(versionString()) + u'\n');
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

    Greygated daemon(options);
    const int started = daemon.start();
    if (started != ExitOk)
        return started;

    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &daemon,
                     &Greygated::shutdown);
    QObject::connect(&daemon, &Greygated::stopped, &app, &QCoreApplication::quit,
                     Qt::QueuedConnection);
    return app.exec() == 0 ? ExitOk : ExitRuntimeError;
}
