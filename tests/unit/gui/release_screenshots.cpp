// SPDX-License-Identifier: GPL-3.0-or-later
// scripts/policy-screenshots.sh's grabber for issue 11's pages: connects to a running
// greygated like the console does (ProxyRegistry); with --setup first makes timed releases
// and an expectation through the control API (one revoked, for the audit log) and an Auto
// Allow entry (a known correspondent for the triage); then shows the Releases, Delay and
// Triage pages on that proxy's real data and writes releases.png, delay.png and triage.png.
// The pages' clocks are the proxy's (`ping`): the script may run greygated on a sped-up
// clock to have hours of traffic in a minute.
//
//   release_screenshots --proxy URL --token-file FILE [--setup] --out DIR
#include "ScreenshotKit.h"
#include "client/ProxyRegistry.h"
#include "models/DelayStatsModel.h"
#include "models/ProxyCalls.h"
#include "models/ReleaseAuditModel.h"
#include "models/ReleaseListModel.h"
#include "pages/DelayPage.h"
#include "pages/ReleasesPage.h"
#include "pages/TriagePage.h"
#include "settings/Settings.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QThread>
#include <cstdio>

using namespace greygate;

namespace {

using screenshots::save;
using screenshots::waitFor;

int fail(const QString &message)
{
    return screenshots::fail("release_screenshots", message);
}

// One call, waited for; the result, or nullopt with *error.
std::optional<QJsonObject> call(ProxyRegistry &registry, const QString &proxyId,
                                const QString &method, const QJsonObject &params, QString *error)
{
    std::optional<QJsonObject> result;
    bool done = false;
    ProxyCalls::call(registry, proxyId, method, params, &registry,
                     [&](const ProxyConnection::Reply &r) {
                         done = true;
                         if (r.ok)
                             result = r.result.toObject();
                         else
                             *error = method + QStringLiteral(": ") + ProxyCalls::describe(r.error);
                     });
    waitFor([&] { return done; }, 15'000);
    if (!done)
        *error = method + QStringLiteral(": no answer");
    return result;
}

QJsonObject release(const char *kind, const char *key, const char *value, qint64 seconds,
                    const char *reason, const char *recipient = nullptr)
{
    QJsonObject o{{QStringLiteral("kind"), QLatin1String(kind)},
                  {QLatin1String(key), QLatin1String(value)},
                  {QStringLiteral("for"), seconds},
                  {QStringLiteral("reason"), QLatin1String(reason)}};
    if (recipient)
        o.insert(QStringLiteral("recipient"), QLatin1String(recipient));
    return o;
}

// What admins did over the day: releases, an expectation, one revoked; a known correspondent.
bool setup(ProxyRegistry &registry, const QString &proxy, qint64 now, QString *error)
{
    const QJsonObject made[] = {
        release("domain", "domain", "supplier.example", 5 * 86400,
                "quarter-end invoices, their MTA retries only after 6 h (ticket 4711)"),
        release("sender", "sender", "ceo@partner.example", 2 * 86400,
                "board pack due Friday, asked by the CFO"),
        release("expect", "domain", "bank.example", 6 * 3600,
                "password reset for the treasury account", "cfo@corp.example"),
        release("expect", "sender", "noreply@payroll.example", 3 * 3600,
                "one-time code for the payroll portal", "hr@corp.example"),
        release("sender", "sender", "marketing@newsletter.example", 86400,
                "campaign test, to be revoked"),
    };
    qint64 revoke = 0;
    for (const QJsonObject &params : made) {
        const std::optional<QJsonObject> r =
            call(registry, proxy, QStringLiteral("release.create"), params, error);
        if (!r)
            return false;
        if (params.value(u"reason").toString().contains(u"revoked"))
            revoke = r->value(u"id").toInteger();
        waitFor([] { return false; }, 300);
    }
    if (revoke && !call(registry, proxy, QStringLiteral("release.revoke"),
                        {{QStringLiteral("id"), revoke}}, error))
        return false;
    return call(registry, proxy, QStringLiteral("autoallow.add"),
                {{QStringLiteral("external"), QStringLiteral("orders@known.example")},
                 {QStringLiteral("internal"), QStringLiteral("*")},
                 {QStringLiteral("expiresAt"), now + 30 * 86400}},
                error)
        .has_value();
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    for (const char *option : {"proxy", "token-file", "out"})
        parser.addOption(
            {QString::fromLatin1(option), QString::fromLatin1(option), QStringLiteral("value")});
    parser.addOption({QStringLiteral("setup"), QStringLiteral("make releases first")});
    parser.process(app);
    for (const char *required : {"proxy", "token-file", "out"}) {
        if (!parser.isSet(QString::fromLatin1(required)))
            return fail(QStringLiteral("--proxy, --token-file and --out are required"));
    }
    QFile token(parser.value(QStringLiteral("token-file")));
    if (!token.open(QIODevice::ReadOnly))
        return fail(token.fileName() + QStringLiteral(": ") + token.errorString());
    ProxyRegistry registry;
    ProxyEndpoint endpoint;
    endpoint.name = QStringLiteral("mx3.example.net");
    endpoint.url = QUrl(parser.value(QStringLiteral("proxy")));
    endpoint.token = token.readAll().trimmed();
    const QString proxy = registry.add(endpoint);
    if (!waitFor(
            [&] {
                return registry.connection(proxy)->state() == ProxyConnection::State::Connected;
            },
            15'000))
        return fail(QStringLiteral("cannot connect: ") + registry.connection(proxy)->lastError());

    // The proxy's clock, and how far it is from ours (it may run sped up).
    QString error;
    const std::optional<QJsonObject> ping =
        call(registry, proxy, QStringLiteral("ping"), {}, &error);
    if (!ping)
        return fail(error);
    const qint64 skew = ping->value(u"time").toInteger() - QDateTime::currentSecsSinceEpoch();
    const auto proxyNow = [skew] {
        return QDateTime::currentSecsSinceEpoch() + skew;
    };
    if (parser.isSet(QStringLiteral("setup")) && !setup(registry, proxy, proxyNow(), &error))
        return fail(error);

    const QString out = parser.value(QStringLiteral("out"));
    QDir().mkpath(out);
    QTemporaryDir settingsDir;
    Settings settings(settingsDir.filePath(QStringLiteral("console.json")));

    ReleasesPage releases(registry, settings);
    releases.model()->setClock(proxyNow);
    releases.resize(1280, 720);
    releases.setScope(proxy);
    releases.show();
    if (!waitFor(
            [&] {
                return releases.model()->rowCount() > 0 && releases.auditModel()->rowCount() > 0;
            },
            15'000))
        return fail(QStringLiteral("release.list or release.audit gave nothing"));
    waitFor([] { return false; }, 500);
    if (!save(&releases, out, QStringLiteral("releases")))
        return fail(QStringLiteral("cannot write releases.png"));
    std::printf("releases: %d active, %d audit entries\n", releases.model()->rowCount(),
                releases.auditModel()->rowCount());

    DelayPage delay(registry, settings);
    delay.model()->setClock(proxyNow);
    delay.resize(1280, 760);
    delay.setScope(proxy);
    delay.rangeBox()->setCurrentIndex(0); // the last 6 hours, hourly
    delay.show();
    delay.refresh();
    if (!waitFor([&] { return delay.model()->total().count > 0; }, 15'000))
        return fail(QStringLiteral("delay.stats counted nothing: ") + delay.model()->lastError());
    waitFor([] { return false; }, 800);
    if (!save(&delay, out, QStringLiteral("delay")))
        return fail(QStringLiteral("cannot write delay.png"));
    std::printf("delay: %lld accepted, p50 %lld s, p95 %lld s, max %lld s\n",
                delay.model()->total().count, delay.model()->total().p50,
                delay.model()->total().p95, delay.model()->total().max);

    TriagePage triage(registry);
    triage.resize(1280, 560);
    triage.setScope(proxy);
    triage.show();
    if (!waitFor([&] { return triage.table()->rowCount() > 0; }, 15'000))
        return fail(QStringLiteral("triage.list gave nothing"));
    triage.table()->resizeColumnsToContents();
    triage.table()->selectRow(0);
    waitFor([] { return false; }, 500);
    if (!save(&triage, out, QStringLiteral("triage")))
        return fail(QStringLiteral("cannot write triage.png"));
    std::printf("triage: %d entries\n", triage.table()->rowCount());
    return 0;
}
