// SPDX-License-Identifier: GPL-3.0-or-later
// greygate: the desktop console. Composition root only: options, settings, the proxy
// registry (with the saved proxies and the bundled engine), and the main window's pages.

#include "ConsoleOptions.h"
#include "LocalEngine.h"
#include "client/ProxyRegistry.h"
#include "settings/ProxyBook.h"
#include "settings/Settings.h"
#include "settings/TokenVault.h"
#include "widgets/ConsolePages.h"
#include "widgets/MainWindow.h"
#include "widgets/Resources.h"

#include <QApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QLibraryInfo>
#include <QLocale>
#include <QMessageBox>
#include <QThread>
#include <QTranslator>
#include <cstdio>
#include <memory>

using namespace greygate;

namespace {

void print(FILE *stream, const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
}

// Translations: Qt's own, then the console's (greygate_<locale>.qm beside the binary's
// share folder) when present. None ship yet; the hook is here so adding one is a file.
void installTranslations(QApplication &app)
{
    auto *qt = new QTranslator(&app);
    if (qt->load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(qt);
    auto *own = new QTranslator(&app);
    if (own->load(QLocale(), QStringLiteral("greygate"), QStringLiteral("_"),
                  QApplication::applicationDirPath() +
                      QStringLiteral("/../share/greygate/translations")))
        QApplication::installTranslator(own);
}

// Waits (bounded) for every proxy to connect or give up, so screenshots show data.
void waitForProxies(const ProxyRegistry &registry, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        bool settled = true;
        for (const QString &id : registry.ids()) {
            const ProxyConnection::State s = registry.connection(id)->state();
            settled &=
                s == ProxyConnection::State::Connected || s == ProxyConnection::State::Refused;
        }
        if (settled && registry.count() > 0)
            return;
        QApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(10);
    }
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Greygate"));
    QApplication::setOrganizationDomain(QStringLiteral("greygate.org"));
    QApplication::setApplicationName(QStringLiteral("greygate"));
    QApplication::setApplicationDisplayName(QStringLiteral("Greygate"));
    QApplication::setApplicationVersion(QStringLiteral(GREYGATE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.greygate.Greygate"));
    initConsoleResources();
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/greygate.png")));
    installTranslations(app);

    ConsoleOptions options;
    QString error;
    bool help = false;
    if (!options.parse(QApplication::arguments(), &error, &help)) {
        print(stderr, QStringLiteral("greygate: ") + error + u'\n');
        return 2;
    }
    if (help) {
        print(stdout, error);
        return 0;
    }

    Settings settings(options.settingsFile.isEmpty() ? Settings::defaultPath()
                                                     : options.settingsFile);
    QStringList problems;
    if (!settings.load(&error))
        problems.append(error);
    TokenVault vault(TokenVault::besideSettings(settings.path()));
    if (!vault.load(&error))
        problems.append(error);

    ProxyRegistry registry;
    std::unique_ptr<LocalEngine> engine;
    if (options.localEngine) {
        LocalEngine::Options engineOptions;
        engineOptions.dbDir = options.dbDir;
        engineOptions.policyHost = options.engineHost;
        engineOptions.policyPort = options.enginePort;
        engine = std::make_unique<LocalEngine>(registry, engineOptions);
    }
    ProxyBook book(registry, settings, vault);
    book.restore(&problems);
    for (qsizetype i = 0; i < options.proxies.size(); ++i) {
        const QUrl &url = options.proxies.at(i);
        bool known = false;
        for (const QString &id : registry.ids())
            known |= registry.endpoint(id)->url == url;
        if (known)
            continue;
        ProxyEndpoint e;
        e.name = url.host() + u':' + QString::number(url.port());
        e.url = url;
        const QString tokenFile = options.proxyTokenFiles.value(i);
        if (!tokenFile.isEmpty()) {
            if (const auto token = ProxyBook::readTokenFile(tokenFile, &error))
                e.token = *token;
            else
                problems.append(error);
        }
        const QString id = registry.add(e);
        if (!tokenFile.isEmpty())
            book.setTokenFile(id, tokenFile);
    }

    MainWindow window(registry, settings);
    ConsolePages::addAll(window, registry, settings, &book, engine.get());
    window.restoreState();
    if (!options.page.isEmpty() && !window.showPage(options.page))
        problems.append(QStringLiteral("--page: no page \"%1\"; the pages are %2")
                            .arg(options.page, window.pageKeys().join(QStringLiteral(", "))));
    window.show();
    if (engine && settings.value(Settings::Key::LocalEngineEnabled).toBool())
        engine->start();

    if (!options.screenshotDir.isEmpty()) {
        for (const QString &p : std::as_const(problems))
            print(stderr, QStringLiteral("greygate: ") + p + u'\n');
        waitForProxies(registry, 15'000);
        if (!window.grabPages(options.screenshotDir, options.screenshotDelayMs, &error)) {
            print(stderr, QStringLiteral("greygate: ") + error + u'\n');
            return 1;
        }
        print(stdout, QStringLiteral("screenshots in %1: %2\n")
                          .arg(options.screenshotDir, window.pageKeys().join(u' ')));
        return 0;
    }
    if (!problems.isEmpty())
        QMessageBox::warning(&window, QStringLiteral("Greygate"),
                             problems.join(QStringLiteral("\n\n")));
    const int rc = QApplication::exec();
    settings.saveNow();
    return rc;
}
