// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl's policy replay and history commands: replay a candidate document against the
// recorded attempts, list the policy table's versions, diff two of them, roll back to one.
#include "Greygatectl.h"
#include "TextTable.h"

#include <QDateTime>
#include <QJsonArray>

namespace greygate {

namespace {

QString isoTime(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(Qt::ISODate);
}

} // namespace

// --mode enforce|shadow on policy add and edit: true when absent or valid.
bool Greygatectl::applyMode(QJsonObject *policy)
{
    if (!m_values.contains(QStringLiteral("mode")))
        return true;
    const QString mode = m_values.value(QStringLiteral("mode"));
    if (mode != u"enforce" && mode != u"shadow") {
        printError(QStringLiteral("--mode takes enforce or shadow"));
        return false;
    }
    policy->insert(QStringLiteral("mode"), mode);
    return true;
}

void Greygatectl::policyHistory(const QString &sub)
{
    bool ok = true;
    const auto number = [&](qsizetype i) {
        bool good = false;
        const qint64 n = m_args.value(i).toLongLong(&good);
        ok = ok && good && n >= 0;
        return n;
    };
    if (sub == u"replay" && m_args.size() == 3) {
        QJsonObject candidate;
        if (!readJsonFile(m_args[2], &candidate)) {
            done(CtlUsage);
            return;
        }
        QJsonObject params{{QStringLiteral("candidate"), candidate}};
        if (m_values.contains(QStringLiteral("hours")))
            params.insert(QStringLiteral("hours"),
                          m_values.value(QStringLiteral("hours")).toLongLong());
        call(QStringLiteral("policy.replay"), params, [this](const QJsonValue &result) {
            const QJsonObject o = result.toObject();
            if (m_json) {
                printJson(o);
                done(CtlOk);
                return;
            }
            print(QStringLiteral("%1 attempts replayed, %2 would change: %3 now bypass, %4 now "
                                 "greylisted, %5 now blocked\n")
                      .arg(o.value(QStringLiteral("replayed")).toInteger())
                      .arg(o.value(QStringLiteral("changed")).toInteger())
                      .arg(o.value(QStringLiteral("nowBypass")).toInteger())
                      .arg(o.value(QStringLiteral("nowGreylist")).toInteger())
                      .arg(o.value(QStringLiteral("nowBlock")).toInteger()));
            TextTable t({QStringLiteral("SENDER DOMAIN"), QStringLiteral("NOW"),
                         QStringLiteral("ATTEMPTS"), QStringLiteral("SAMPLE")});
            for (const QJsonValue &g : o.value(QStringLiteral("groups")).toArray()) {
                const QJsonObject s = g[QStringLiteral("samples")][0].toObject();
                t.addRow({g[QStringLiteral("domain")].toString(),
                          g[QStringLiteral("now")].toString(),
                          QString::number(g[QStringLiteral("count")].toInteger()),
                          s.value(QStringLiteral("sender")).toString() + QStringLiteral(" -> ") +
                              s.value(QStringLiteral("recipient")).toString()});
            }
            print(t.text());
            for (const QJsonValue &u : o.value(QStringLiteral("unreachable")).toArray())
                print(QStringLiteral("policy %1 can never win: %2\n")
                          .arg(u[QStringLiteral("policy")].toInteger())
                          .arg(u[QStringLiteral("reason")].toString()));
            done(CtlOk);
        });
        return;
    }
    if (sub == u"versions" && m_args.size() == 2) {
        call(QStringLiteral("policy.versions"), {}, [this](const QJsonValue &result) {
            if (m_json) {
                printJson(result);
                done(CtlOk);
                return;
            }
            TextTable t({QStringLiteral("VERSION"), QStringLiteral("TIME"), QStringLiteral("WHO"),
                         QStringLiteral("WHAT"), QStringLiteral("POLICIES")});
            for (const QJsonValue &v : result[QStringLiteral("versions")].toArray()) {
                QStringList ids;
                for (const QJsonValue &id : v[QStringLiteral("policies")].toArray())
                    ids.append(QString::number(id.toInteger()));
                t.addRow({QString::number(v[QStringLiteral("version")].toInteger()),
                          isoTime(v[QStringLiteral("time")].toInteger()),
                          v[QStringLiteral("who")].toString(), v[QStringLiteral("what")].toString(),
                          ids.join(u',')});
            }
            print(t.text());
            done(CtlOk);
        });
        return;
    }
    if (sub == u"diff" && (m_args.size() == 3 || m_args.size() == 4)) {
        QJsonObject params{{QStringLiteral("from"), number(2)}};
        if (m_args.size() == 4)
            params.insert(QStringLiteral("to"), number(3));
        if (!ok) {
            printError(QStringLiteral("policy diff takes VERSION [VERSION]"));
            done(CtlUsage);
            return;
        }
        call(QStringLiteral("policy.version.diff"), params, [this](const QJsonValue &result) {
            printJson(result);
            done(CtlOk);
        });
        return;
    }
    if (sub == u"rollback" && m_args.size() == 3) {
        const qint64 version = number(2);
        if (!ok) {
            printError(QStringLiteral("policy rollback takes VERSION (see policy versions)"));
            done(CtlUsage);
            return;
        }
        call(QStringLiteral("policy.rollback"), QJsonObject{{QStringLiteral("version"), version}},
             [this](const QJsonValue &result) { printChangeResult(result); });
        return;
    }
    printError(QStringLiteral("policy replay FILE [--hours N] | versions | diff VERSION [VERSION] "
                              "| rollback VERSION"));
    done(CtlUsage);
}

} // namespace greygate
