// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl's sender rewriting (docs/rewriting.md, docs/api.md "Sender rewriting"):
//   rewriting list | set FILE [--version V] | test ADDRESS... [--rules FILE]
#include "Greygatectl.h"
#include "TextTable.h"

#include <QJsonArray>

namespace greygate {

namespace {

// What a rule does, in one cell: its pattern, its separators, or nothing for the others.
QString parametersOf(const QJsonObject &rule)
{
    const QString kind = rule.value(u"kind").toString();
    if (kind == u"plusTag")
        return u"separators " + rule.value(u"separators").toString();
    if (kind == u"regex")
        return rule.value(u"pattern").toString() + u" -> " + rule.value(u"replacement").toString() +
               (rule.value(u"scope").toString() == u"address" ? QStringLiteral(" (address)")
                                                              : QString());
    return QString();
}

} // namespace

void Greygatectl::rewriting()
{
    const QString sub = m_args.value(1);
    if (sub == u"list" && m_args.size() == 2) {
        call(QStringLiteral("rewriting.list"), {}, [this](const QJsonValue &result) {
            if (m_json) {
                printJson(result);
                return done(CtlOk);
            }
            const QJsonObject o = result.toObject();
            TextTable t({QStringLiteral("#"), QStringLiteral("ID"), QStringLiteral("KIND"),
                         QStringLiteral("ON"), QStringLiteral("PARAMETERS"),
                         QStringLiteral("DESCRIPTION")});
            int n = 0;
            for (const QJsonValue &v : o.value(u"rules").toArray()) {
                const QJsonObject r = v.toObject();
                t.addRow(
                    {QString::number(++n), r.value(u"id").toString(), r.value(u"kind").toString(),
                     r.value(u"enabled").toBool() ? QStringLiteral("yes") : QStringLiteral("no"),
                     parametersOf(r), r.value(u"description").toString()});
            }
            print(QStringLiteral("version %1%2\n")
                      .arg(o.value(u"version").toInteger())
                      .arg(o.value(u"active").toBool()
                               ? QString()
                               : QStringLiteral(" (not in use: greygated runs with "
                                                "--no-strip-sender-tags)")) +
                  t.text());
            done(CtlOk);
        });
        return;
    }
    if (sub == u"set" && m_args.size() == 3) {
        QJsonObject file;
        if (!readJsonFile(m_args[2], &file))
            return done(CtlUsage);
        if (!file.value(u"rules").isArray()) {
            printError(QStringLiteral("%1: needs a \"rules\" list (the form rewriting list "
                                      "--json prints)")
                           .arg(m_args[2]));
            return done(CtlUsage);
        }
        // The version edited: --version, else the file's own (from rewriting list --json),
        // else the proxy's current one (overwriting whatever is there, knowingly).
        const auto send = [this, file](qint64 version) {
            QJsonObject params{{QStringLiteral("version"), version},
                               {QStringLiteral("rules"), file.value(u"rules")}};
            call(QStringLiteral("rewriting.set"), params, [this](const QJsonValue &result) {
                if (m_json)
                    printJson(result);
                else
                    print(QStringLiteral("saved: version %1, %2 rule(s)\n")
                              .arg(result.toObject().value(u"version").toInteger())
                              .arg(result.toObject().value(u"rules").toInteger()));
                done(CtlOk);
            });
        };
        if (m_values.contains(QStringLiteral("version"))) {
            bool ok = false;
            const qint64 v = m_values.value(QStringLiteral("version")).toLongLong(&ok);
            if (!ok || v < 0) {
                printError(QStringLiteral("--version takes the table's version (rewriting list)"));
                return done(CtlUsage);
            }
            return send(v);
        }
        if (file.contains(u"version"))
            return send(file.value(u"version").toInteger());
        call(QStringLiteral("rewriting.list"), {}, [send](const QJsonValue &current) {
            send(current.toObject().value(u"version").toInteger());
        });
        return;
    }
    if (sub == u"test" && m_args.size() >= 3) {
        QJsonObject params{
            {QStringLiteral("addresses"), QJsonArray::fromStringList(m_args.mid(2))}};
        if (m_values.contains(QStringLiteral("rules"))) {
            QJsonObject file;
            if (!readJsonFile(m_values.value(QStringLiteral("rules")), &file))
                return done(CtlUsage);
            params.insert(QStringLiteral("rules"), file.value(u"rules"));
        }
        call(QStringLiteral("rewriting.test"), params, [this](const QJsonValue &result) {
            if (m_json) {
                printJson(result);
                return done(CtlOk);
            }
            TextTable t({QStringLiteral("ADDRESS"), QStringLiteral("KEY"),
                         QStringLiteral("APPLIED"), QStringLiteral("SKIPPED")});
            for (const QJsonValue &v : result.toObject().value(u"results").toArray()) {
                const QJsonObject r = v.toObject();
                QStringList applied, skipped;
                for (const QJsonValue &a : r.value(u"applied").toArray())
                    applied.append(a.toString());
                for (const QJsonValue &s : r.value(u"skipped").toArray())
                    skipped.append(s.toString());
                t.addRow({r.value(u"address").toString(), r.value(u"normalised").toString(),
                          applied.isEmpty() ? QStringLiteral("-") : applied.join(u", "),
                          skipped.join(u"; ")});
            }
            print(t.text());
            done(CtlOk);
        });
        return;
    }
    printError(QStringLiteral("rewriting takes list, set FILE [--version V], or test ADDRESS... "
                              "[--rules FILE]"));
    done(CtlUsage);
}

} // namespace greygate
