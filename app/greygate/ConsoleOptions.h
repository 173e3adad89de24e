// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QStringList>
#include <QUrl>

namespace greygate {

// The console's command line:
//   --no-local-engine          do not start the bundled engine
//   --dbdir DIR                the bundled engine's state (default ~/.local/share/greygate,
//                              or $GREYGATE_DBDIR)
//   --engine-inet HOST:PORT    the bundled engine's Postfix policy address (127.0.0.1:10023)
//   --proxy URL                a proxy to add at start (repeatable); its token from the
//   --proxy-token-file FILE    token file given at the same position (or none)
//   --page NAME                the page to show first (dashboard, live, queue, ...)
//   --settings FILE            the settings file (default in ~/.config/greygate)
//   --screenshot-dir DIR       grab every page into DIR/<page>.png, then quit
//   --screenshot-delay MS      time for each page's data before it is grabbed (1500)
struct ConsoleOptions
{
    bool localEngine = true;
    QString dbDir;
    QString engineHost = QStringLiteral("127.0.0.1");
    quint16 enginePort = 10023;
    QList<QUrl> proxies;
    QStringList proxyTokenFiles;
    QString page;
    QString settingsFile;
    QString screenshotDir;
    int screenshotDelayMs = 1500;

    // arguments: with the program name first (QCoreApplication::arguments()). False with
    // *error when an option is wrong; *help when --help/--version was answered in *error.
    bool parse(const QStringList &arguments, QString *error, bool *help);
};

} // namespace greygate
