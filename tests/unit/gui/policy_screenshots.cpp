// SPDX-License-Identifier: GPL-3.0-or-later
// scripts/policy-screenshots.sh's grabber: connects to running proxies like the console does
// (ProxyRegistry), with --setup first makes a few versions of their policy tables through the
// control API (an admin's edits, a second apart, the second proxy's table drifted), then opens
// "Replay changes" on an edited table of the first one and its policy history (an older
// version selected, the other proxy compared), and writes policy-replay.png and
// policy-history.png; then the Sender rewriting page with a rule being added
// (sender-rewriting.png).
//
//   policy_screenshots --proxy URL --token-file FILE [--proxy2 URL --token-file2 FILE]
//                      [--setup] [--edit POLICY.json] --out DIR
#include "ScreenshotKit.h"
#include "client/ProxyRegistry.h"
#include "dialogs/ReplayDialog.h"
#include "models/PolicyVersionModel.h"
#include "models/ProxyCalls.h"
#include "models/SenderRewriteModel.h"
#include "pages/PolicyHistoryView.h"
#include "pages/SenderRewritePage.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPlainTextEdit>
#include <QTableView>
#include <QThread>
#include <cstdio>

using namespace greygate;

namespace {

using screenshots::save;
using screenshots::waitFor;

int fail(const QString &message)
{
    return screenshots::fail("policy_screenshots", message);
}

QString connect(ProxyRegistry &registry, const QString &name, const QString &url,
                const QString &tokenPath, QString *error)
{
    QFile token(tokenPath);
    if (!token.open(QIODevice::ReadOnly)) {
        *error = tokenPath + QStringLiteral(": ") + token.errorString();
        return QString();
    }
    ProxyEndpoint endpoint;
    endpoint.name = name;
    endpoint.url = QUrl(url);
    endpoint.token = token.readAll().trimmed();
    const QString id = registry.add(endpoint);
    if (!waitFor(
            [&] { return registry.connection(id)->state() == ProxyConnection::State::Connected; },
            15'000)) {
        *error = QStringLiteral("cannot connect to %1: %2")
                     .arg(url, registry.connection(id)->lastError());
        return QString();
    }
    return id;
}

QJsonObject domainPolicy(const QString &narrative, const QString &action, const QString &domain,
                         bool shadow = false)
{
    QJsonObject p{
        {QStringLiteral("narrative"), narrative},
        {QStringLiteral("action"), action},
        {QStringLiteral("from"), QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                                             {QStringLiteral("value"), domain}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
    if (shadow)
        p.insert(QStringLiteral("mode"), QStringLiteral("shadow"));
    return p;
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
    return result;
}

// The admins' edits, one version each (a version is one action within a second).
bool setup(ProxyRegistry &registry, const QString &mx1, const QString &mx2, QString *error)
{
    const auto create = [&](const QString &proxy, const QJsonObject &p) {
        waitFor([] { return false; }, 1100);
        return call(registry, proxy, QStringLiteral("policy.create"),
                    {{QStringLiteral("policy"), p}}, error)
            .has_value();
    };
    const QJsonObject partner =
        domainPolicy(QStringLiteral("Partners skip greylisting"), QStringLiteral("bypass"),
                     QStringLiteral("partner.example"));
    if (!create(mx1, partner) ||
        !create(mx1, domainPolicy(QStringLiteral("Bank notices: always greylist"),
                                  QStringLiteral("greylist"), QStringLiteral("bank.example"))) ||
        !create(mx1,
                domainPolicy(QStringLiteral("Trial: let the newsletter through"),
                             QStringLiteral("bypass"), QStringLiteral("newsletter.example"), true)))
        return false;
    std::optional<QJsonObject> first =
        call(registry, mx1, QStringLiteral("policy.get"), {{QStringLiteral("id"), 1}}, error);
    if (!first)
        return false;
    first->insert(QStringLiteral("narrative"),
                  QStringLiteral("Partners and their subsidiaries skip greylisting"));
    QJsonObject from = first->value(QStringLiteral("from")).toObject();
    from.insert(QStringLiteral("includeSubdomains"), true);
    first->insert(QStringLiteral("from"), from);
    waitFor([] { return false; }, 1100);
    if (!call(registry, mx1, QStringLiteral("policy.update"), {{QStringLiteral("policy"), *first}},
              error))
        return false;
    if (mx2.isEmpty())
        return true;
    // mx2 drifted: the partner policy as it was first, and a bypass for the bank.
    return create(mx2, partner) &&
           create(mx2, domainPolicy(QStringLiteral("Bank: skip greylisting"),
                                    QStringLiteral("bypass"), QStringLiteral("bank.example")));
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    for (const char *option : {"proxy", "token-file", "proxy2", "token-file2", "edit", "out"})
        parser.addOption(
            {QString::fromLatin1(option), QString::fromLatin1(option), QStringLiteral("value")});
    parser.addOption({QStringLiteral("setup"), QStringLiteral("make policy versions first")});
    parser.process(app);
    for (const char *required : {"proxy", "token-file", "out"}) {
        if (!parser.isSet(QString::fromLatin1(required)))
            return fail(QStringLiteral("--proxy, --token-file and --out are required"));
    }
    // The edit the admin is about to save: a new policy, as the policy dialog sends it.
    QJsonObject edited = domainPolicy(QStringLiteral("Retail senders skip greylisting"),
                                      QStringLiteral("bypass"), QStringLiteral("shop.example"));
    if (parser.isSet(QStringLiteral("edit"))) {
        QFile edit(parser.value(QStringLiteral("edit")));
        if (!edit.open(QIODevice::ReadOnly))
            return fail(edit.fileName() + QStringLiteral(": ") + edit.errorString());
        edited = QJsonDocument::fromJson(edit.readAll()).object();
    }

    ProxyRegistry registry;
    QString error;
    const QString first =
        connect(registry, QStringLiteral("mx1.example.net"), parser.value(QStringLiteral("proxy")),
                parser.value(QStringLiteral("token-file")), &error);
    if (first.isEmpty())
        return fail(error);
    QString second;
    if (parser.isSet(QStringLiteral("proxy2"))) {
        second = connect(registry, QStringLiteral("mx2.example.net"),
                         parser.value(QStringLiteral("proxy2")),
                         parser.value(QStringLiteral("token-file2")), &error);
        if (second.isEmpty())
            return fail(error);
    }
    if (parser.isSet(QStringLiteral("setup")) && !setup(registry, first, second, &error))
        return fail(error);

    // The table as the Policies page holds it, with the edit as a PolicyDialog sends it.
    QJsonArray policies;
    bool listed = false;
    ProxyCalls::call(registry, first, QStringLiteral("policy.list"), {}, &app,
                     [&](const ProxyConnection::Reply &r) {
                         policies = r.result[QStringLiteral("policies")].toArray();
                         listed = r.ok;
                     });
    if (!waitFor([&] { return listed; }, 15'000))
        return fail(QStringLiteral("policy.list failed"));

    const QString out = parser.value(QStringLiteral("out"));
    QDir().mkpath(out);
    ReplayDialog replay(registry, first, ReplayDialog::candidateWith(policies, edited));
    replay.resize(1100, 560);
    replay.show();
    replay.replay();
    if (!waitFor([&] { return !replay.busy(); }, 30'000))
        return fail(QStringLiteral("policy.replay did not answer"));
    waitFor([] { return false; }, 500);
    if (!save(&replay, out, QStringLiteral("policy-replay")))
        return fail(QStringLiteral("cannot write policy-replay.png"));
    std::printf("replay: %s\n", qPrintable(replay.summary()));

    PolicyHistoryView history(registry);
    history.resize(1200, 640);
    history.show();
    history.setProxyId(first);
    if (!waitFor([&] { return !history.busy() && history.model()->rowCount() > 1; }, 15'000))
        return fail(QStringLiteral("policy.versions did not answer with versions"));
    // An older version selected: its difference from the table now.
    history.table()->selectRow(std::min(2, history.model()->rowCount() - 1));
    history.compareProxies();
    if (!waitFor([&] { return !history.busy() && !history.diffText().isEmpty(); }, 15'000))
        return fail(QStringLiteral("the diff or the comparison did not answer"));
    waitFor([] { return false; }, 500);
    if (!save(&history, out, QStringLiteral("policy-history")))
        return fail(QStringLiteral("cannot write policy-history.png"));
    std::printf("history diff:\n%s\ncompare:\n%s\n", qPrintable(history.diffText()),
                qPrintable(history.comparisonText()));

    // Sender rewriting: a pattern rule being added for a mailer's per-message bounce tags,
    // the samples keyed by the edited table (not saved).
    SenderRewritePage rewriting(registry);
    rewriting.resize(1200, 640);
    rewriting.show();
    rewriting.setScope(first);
    SenderRewriteModel *rules = rewriting.model();
    if (!waitFor([&] { return rules->loaded(); }, 15'000))
        return fail(QStringLiteral("rewriting.list did not answer"));
    const int row = rules->addRule(QStringLiteral("regex"));
    rules->setData(rules->index(row, SenderRewriteModel::Pattern),
                   QStringLiteral("^bounces-[0-9a-f]{8}-(.+)$"));
    rules->setData(rules->index(row, SenderRewriteModel::Replacement),
                   QStringLiteral("bounces-\\1"));
    rules->setData(rules->index(row, SenderRewriteModel::Description),
                   QStringLiteral("Mailer's per-message bounce tags"));
    rewriting.samplesEdit()->appendPlainText(
        QStringLiteral("bounces-1a2b3c4d-news@mailer.example"));
    if (!waitFor([&] { return !rules->isTesting() && rules->results().size() == 5; }, 15'000))
        return fail(QStringLiteral("rewriting.test did not answer: ") + rules->problem());
    rewriting.rulesView()->selectRow(row);
    waitFor([] { return false; }, 500);
    if (!save(&rewriting, out, QStringLiteral("sender-rewriting")))
        return fail(QStringLiteral("cannot write sender-rewriting.png"));
    return 0;
}
