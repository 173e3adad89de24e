// SPDX-License-Identifier: GPL-3.0-or-later
// scripts/screenshots.sh's grabber for the analysis pages, until the console's own
// `greygate --screenshot-dir` covers them: connects to a running proxy like the console does
// (ProxyRegistry), opens the Dashboard, Rejections and Reports pages, runs an optional
// command while they watch (traffic the Rejection Viewer sees live), lets them load, builds
// a report of the last day, and writes one PNG per page.
//
//   analysis_screenshots --proxy ws://127.0.0.1:PORT --token-file FILE --out DIR
//                        [--name NAME] [--during 'shell command'] [--settle MS]
#include "ScreenshotKit.h"
#include "client/ProxyRegistry.h"
#include "pages/DashboardPage.h"
#include "pages/RejectionsPage.h"
#include "pages/ReportsPage.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTabWidget>
#include <QThread>
#include <cstdio>

using namespace greygate;

namespace {

using screenshots::settle;
using screenshots::waitFor;

int fail(const QString &message)
{
    return screenshots::fail("analysis_screenshots", message);
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption(
        {QStringLiteral("proxy"), QStringLiteral("ws://HOST:PORT"), QStringLiteral("url")});
    parser.addOption(
        {QStringLiteral("token-file"), QStringLiteral("the admin token"), QStringLiteral("file")});
    parser.addOption(
        {QStringLiteral("out"), QStringLiteral("where the PNGs go"), QStringLiteral("dir")});
    parser.addOption({QStringLiteral("name"), QStringLiteral("the proxy's name"),
                      QStringLiteral("name"), QStringLiteral("mx1.example.net")});
    parser.addOption({QStringLiteral("during"),
                      QStringLiteral("shell command run once the pages are open"),
                      QStringLiteral("command")});
    parser.addOption({QStringLiteral("settle"), QStringLiteral("ms to let the pages load"),
                      QStringLiteral("ms"), QStringLiteral("3000")});
    parser.process(app);
    if (!parser.isSet(QStringLiteral("proxy")) || !parser.isSet(QStringLiteral("token-file")) ||
        !parser.isSet(QStringLiteral("out")))
        return fail(QStringLiteral("--proxy, --token-file and --out are required (see --help)"));

    QFile tokenFile(parser.value(QStringLiteral("token-file")));
    if (!tokenFile.open(QIODevice::ReadOnly))
        return fail(tokenFile.fileName() + QStringLiteral(": ") + tokenFile.errorString());
    ProxyRegistry registry;
    ProxyEndpoint endpoint;
    endpoint.name = parser.value(QStringLiteral("name"));
    endpoint.url = QUrl(parser.value(QStringLiteral("proxy")));
    endpoint.token = tokenFile.readAll().trimmed();
    const QString id = registry.add(endpoint);
    if (!waitFor(
            [&] { return registry.connection(id)->state() == ProxyConnection::State::Connected; },
            15'000))
        return fail(QStringLiteral("cannot connect to %1: %2")
                        .arg(endpoint.url.toString(), registry.connection(id)->lastError()));

    const QSize size(1280, 800);
    DashboardPage dashboard(registry);
    RejectionsPage rejections(registry);
    ReportsPage reports(registry);
    for (QWidget *page : {static_cast<QWidget *>(&dashboard), static_cast<QWidget *>(&rejections),
                          static_cast<QWidget *>(&reports)}) {
        page->resize(size);
        page->show();
    }
    settle(500);
    const QString during = parser.value(QStringLiteral("during"));
    if (!during.isEmpty()) {
        QProcess command;
        command.setProcessChannelMode(QProcess::ForwardedChannels);
        command.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), during});
        if (!waitFor([&] { return command.state() == QProcess::NotRunning; }, 120'000)) {
            command.kill();
            command.waitForFinished(5000);
            return fail(QStringLiteral("--during did not finish within 120 s"));
        }
    }
    settle(parser.value(QStringLiteral("settle")).toInt());

    const qint64 now = QDateTime::currentSecsSinceEpoch();
    bool reportDone = false;
    QObject::connect(&reports, &ReportsPage::reportReady, &reports, [&] { reportDone = true; });
    QObject::connect(&reports, &ReportsPage::reportFailed, &reports, [&] { reportDone = true; });
    reports.build(now - 86400, now + 60);
    waitFor([&] { return reportDone; }, 60'000);
    settle(500);

    const QString out = parser.value(QStringLiteral("out"));
    QDir().mkpath(out);
    const std::pair<QWidget *, QString> shots[] = {{&dashboard, QStringLiteral("dashboard")},
                                                   {&rejections, QStringLiteral("rejections")},
                                                   {&reports, QStringLiteral("reports")}};
    for (const auto &[page, name] : shots) {
        const QString path = QDir(out).filePath(name + QStringLiteral(".png"));
        if (!page->grab().save(path))
            return fail(path + QStringLiteral(": cannot write"));
        std::printf("%s\n", qPrintable(path));
    }
    // The dashboard's table view too: the same model as the chart.
    if (auto *tabs = dashboard.findChild<QTabWidget *>()) {
        tabs->setCurrentIndex(1);
        settle(300);
        const QString path = QDir(out).filePath(QStringLiteral("dashboard-table.png"));
        if (!dashboard.grab().save(path))
            return fail(path + QStringLiteral(": cannot write"));
        std::printf("%s\n", qPrintable(path));
    }
    return 0;
}
