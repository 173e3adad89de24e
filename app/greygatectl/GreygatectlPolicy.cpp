// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl policy: list, show, add, edit, delete, import, export, explain and history.
#include "Greygatectl.h"
#include "TextTable.h"

#include <QJsonArray>

namespace greygate {

void Greygatectl::policy()
{
    const QString sub = m_args.value(1);
    const auto printResult = [this](const QJsonValue &result) {
        printChangeResult(result);
    };
    if (sub == u"list" && m_args.size() == 2) {
        call(QStringLiteral("policy.list"), {}, [this](const QJsonValue &result) {
            if (m_json) {
                printJson(result);
                done(CtlOk);
                return;
            }
            TextTable t({QStringLiteral("ID"), QStringLiteral("VERSION"), QStringLiteral("ACTION"),
                         QStringLiteral("ENABLED"), QStringLiteral("FROM"), QStringLiteral("TO"),
                         QStringLiteral("NARRATIVE")});
            const auto side = [](const QJsonObject &o) -> QString {
                const QString value = o.value(QStringLiteral("value")).toString();
                return o.value(QStringLiteral("type")).toString() +
                       (value.isEmpty() ? QString() : u' ' + value);
            };
            for (const QJsonValue &v :
                 result.toObject().value(QStringLiteral("policies")).toArray()) {
                const QJsonObject p = v.toObject();
                t.addRow({QString::number(p.value(QStringLiteral("id")).toInteger()),
                          QString::number(p.value(QStringLiteral("version")).toInteger()),
                          p.value(QStringLiteral("action")).toString() +
                              (p.value(QStringLiteral("mode")).toString() == u"shadow"
                                   ? QStringLiteral(" (shadow)")
                                   : QString()),
                          p.value(QStringLiteral("enabled")).toBool(true) ? QStringLiteral("yes")
                                                                          : QStringLiteral("no"),
                          side(p.value(QStringLiteral("from")).toObject()),
                          side(p.value(QStringLiteral("to")).toObject()),
                          p.value(QStringLiteral("narrative")).toString()});
            }
            print(t.text());
            done(CtlOk);
        });
        return;
    }
    if (sub == u"show" && m_args.size() == 3) {
        call(QStringLiteral("policy.get"),
             QJsonObject{{QStringLiteral("id"), m_args[2].toLongLong()}},
             [this](const QJsonValue &result) {
                 printJson(result);
                 done(CtlOk);
             });
        return;
    }
    if ((sub == u"add" || sub == u"import") && m_args.size() == 3) {
        QJsonObject object;
        if (!readJsonFile(m_args[2], &object) || (sub == u"add" && !applyMode(&object))) {
            done(CtlUsage);
            return;
        }
        if (sub == u"add")
            call(QStringLiteral("policy.create"), QJsonObject{{QStringLiteral("policy"), object}},
                 printResult);
        else
            call(QStringLiteral("policy.import"), QJsonObject{{QStringLiteral("document"), object}},
                 printResult);
        return;
    }
    if (sub == u"edit") {
        policyEdit();
        return;
    }
    if (sub == u"delete" && m_args.size() == 4) {
        call(QStringLiteral("policy.delete"),
             QJsonObject{{QStringLiteral("id"), m_args[2].toLongLong()},
                         {QStringLiteral("version"), m_args[3].toLongLong()}},
             printResult);
        return;
    }
    if (sub == u"export" && m_args.size() == 2) {
        call(QStringLiteral("policy.export"), {}, [this](const QJsonValue &result) {
            printJson(result);
            done(CtlOk);
        });
        return;
    }
    if (sub == u"explain") {
        const std::optional<QJsonObject> params = tripletArgs(2);
        if (!params) {
            done(CtlUsage);
            return;
        }
        call(QStringLiteral("policy.explain"), *params, [this](const QJsonValue &result) {
            const QJsonObject o = result.toObject();
            if (m_json) {
                printJson(o);
            } else {
                print(o.value(QStringLiteral("summary")).toString() + u'\n');
                const QJsonObject t = o.value(QStringLiteral("triplet")).toObject();
                if (!t.isEmpty())
                    print(QStringLiteral("greylist: %1\n")
                              .arg(t.value(QStringLiteral("state")).toString()));
            }
            done(CtlOk);
        });
        return;
    }
    if (sub == u"replay" || sub == u"versions" || sub == u"diff" || sub == u"rollback") {
        policyHistory(sub);
        return;
    }
    printError(
        QStringLiteral("policy takes list, show ID, add FILE, edit ID FILE, delete ID VERSION, "
                       "import FILE, export or explain CLIENT SENDER RECIPIENT"));
    done(CtlUsage);
}

} // namespace greygate
