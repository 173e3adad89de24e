// SPDX-License-Identifier: GPL-3.0-or-later
#include "ConsoleOptions.h"

#include <QCommandLineParser>

namespace greygate {

bool ConsoleOptions::parse(const QStringList &arguments, QString *error, bool *help)
{
    *help = false;
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Greygate console: watch and manage greylisting proxies, with a bundled "
                       "local engine."));
    const QCommandLineOption helpOption = p.addHelpOption();
    const QCommandLineOption versionOption = p.addVersionOption();
    const QCommandLineOption noEngine(QStringLiteral("no-local-engine"),
                                      QStringLiteral("Do not start the bundled engine."));
    const QCommandLineOption dbdir(QStringLiteral("dbdir"),
                                   QStringLiteral("The bundled engine's database directory."),
                                   QStringLiteral("DIR"));
    const QCommandLineOption inet(QStringLiteral("engine-inet"),
                                  QStringLiteral("The bundled engine's policy address for "
                                                 "Postfix (default 127.0.0.1:10023)."),
                                  QStringLiteral("HOST:PORT"));
    const QCommandLineOption proxy(QStringLiteral("proxy"),
                                   QStringLiteral("A proxy's control API to add at start "
                                                  "(repeatable)."),
                                   QStringLiteral("URL"));
    const QCommandLineOption tokenFile(QStringLiteral("proxy-token-file"),
                                       QStringLiteral("The admin token file of the --proxy at "
                                                      "the same position."),
                                       QStringLiteral("FILE"));
    const QCommandLineOption page(QStringLiteral("page"), QStringLiteral("The page shown first."),
                                  QStringLiteral("NAME"));
    const QCommandLineOption settings(QStringLiteral("settings"),
                                      QStringLiteral("The settings file to use."),
                                      QStringLiteral("FILE"));
    const QCommandLineOption shots(QStringLiteral("screenshot-dir"),
                                   QStringLiteral("Grab every page into DIR/<page>.png and quit."),
                                   QStringLiteral("DIR"));
    const QCommandLineOption delay(QStringLiteral("screenshot-delay"),
                                   QStringLiteral("Milliseconds each page gets for its data "
                                                  "before it is grabbed (default 1500)."),
                                   QStringLiteral("MS"));
    p.addOptions({noEngine, dbdir, inet, proxy, tokenFile, page, settings, shots, delay});
    if (!p.parse(arguments)) {
        *error = p.errorText();
        return false;
    }
    if (p.isSet(helpOption)) {
        *help = true;
        *error = p.helpText();
        return true;
    }
    if (p.isSet(versionOption)) {
        *help = true;
        *error = QStringLiteral("greygate %1\n").arg(QStringLiteral(GREYGATE_VERSION));
        return true;
    }
    if (!p.positionalArguments().isEmpty()) {
        *error = QStringLiteral("unexpected argument \"%1\"").arg(p.positionalArguments().first());
        return false;
    }
    localEngine = !p.isSet(noEngine);
    dbDir = p.value(dbdir);
    if (p.isSet(inet)) {
        const QString v = p.value(inet);
        const qsizetype colon = v.lastIndexOf(u':');
        bool ok = false;
        const uint port = colon > 0 ? v.mid(colon + 1).toUInt(&ok) : 0;
        if (!ok || port > 65535) {
            *error = QStringLiteral("--engine-inet: \"%1\" is not HOST:PORT (port 0 picks a "
                                    "free one)")
                         .arg(v);
            return false;
        }
        engineHost = v.left(colon);
        enginePort = quint16(port);
    }
    for (const QString &u : p.values(proxy)) {
        const QUrl url(u, QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != u"ws" && url.scheme() != u"wss") ||
            url.host().isEmpty() || url.port() <= 0) {
            *error =
                QStringLiteral("--proxy: \"%1\" is not ws://HOST:PORT or wss://HOST:PORT").arg(u);
            return false;
        }
        proxies.append(url);
    }
    proxyTokenFiles = p.values(tokenFile);
    if (proxyTokenFiles.size() > proxies.size()) {
        *error = QStringLiteral("--proxy-token-file given more often than --proxy");
        return false;
    }
    this->page = p.value(page);
    settingsFile = p.value(settings);
    screenshotDir = p.value(shots);
    if (p.isSet(delay)) {
        bool ok = false;
        screenshotDelayMs = p.value(delay).toInt(&ok);
        if (!ok || screenshotDelayMs < 0 || screenshotDelayMs > 60'000) {
            *error = QStringLiteral("--screenshot-delay: milliseconds from 0 to 60000");
            return false;
        }
    }
    return true;
}

} // namespace greygate
