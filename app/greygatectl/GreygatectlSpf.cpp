// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl's pool retries and pool bypasses (docs/api.md, "Pool retries"; docs/spf.md):
//   poolbypass list | retries | audit | add DOMAIN --for DURATION [--reason TEXT] [RANGE...]
//   | remove ID
#include "Greygatectl.h"
#include "TextTable.h"

#include <QDateTime>
#include <QJsonArray>

namespace greygate {

void Greygatectl::poolBypass()
{
    const QString sub = m_args.value(1);
    const auto table = [this](const QJsonValue &result) {
        if (m_json) {
            printJson(result);
            return done(CtlOk);
        }
        TextTable t({QStringLiteral("ID"), QStringLiteral("DOMAIN"), QStringLiteral("EXPIRES"),
                     QStringLiteral("LEFT"), QStringLiteral("RANGES")});
        for (const QJsonValue &v : result.toObject().value(QStringLiteral("bypasses")).toArray()) {
            const QJsonObject b = v.toObject();
            QStringList ranges;
            for (const QJsonValue &r : b.value(QStringLiteral("ranges")).toArray())
                ranges.append(r.toString());
            const qint64 left = b.value(QStringLiteral("remaining")).toInteger();
            t.addRow({QString::number(b.value(QStringLiteral("id")).toInteger()),
                      b.value(QStringLiteral("domain")).toString(),
                      QDateTime::fromSecsSinceEpoch(
                          b.value(QStringLiteral("expiresAt")).toInteger(), Qt::UTC)
                          .toString(Qt::ISODate),
                      QStringLiteral("%1m").arg((left + 59) / 60),
                      ranges.size() <= 3 ? ranges.join(u' ')
                                         : ranges.mid(0, 3).join(u' ') +
                                               QStringLiteral(" (+%1)").arg(ranges.size() - 3)});
        }
        print(t.text());
        done(CtlOk);
    };
    if (sub == u"list" && m_args.size() == 2) {
        call(QStringLiteral("poolbypass.list"), {}, table);
        return;
    }
    if (sub == u"retries" && m_args.size() == 2) {
        call(QStringLiteral("poolretry.list"), {}, [this](const QJsonValue &result) {
            if (m_json) {
                printJson(result);
                return done(CtlOk);
            }
            TextTable t({QStringLiteral("DOMAIN"), QStringLiteral("SENDER"),
                         QStringLiteral("RECIPIENT"), QStringLiteral("SUMMARY")});
            for (const QJsonValue &v :
                 result.toObject().value(QStringLiteral("retries")).toArray()) {
                const QJsonObject r = v.toObject();
                t.addRow({r.value(QStringLiteral("domain")).toString(),
                          r.value(QStringLiteral("sender")).toString(),
                          r.value(QStringLiteral("recipient")).toString(),
                          r.value(QStringLiteral("summary")).toString()});
            }
            print(t.text());
            done(CtlOk);
        });
        return;
    }
    if (sub == u"audit" && m_args.size() == 2) {
        // audit.list filters on one object: the pool bypasses' entries are picked here.
        call(QStringLiteral("audit.list"), QJsonObject{{QStringLiteral("limit"), 1000}},
             [this](const QJsonValue &result) {
                 QJsonArray entries;
                 for (const QJsonValue &v :
                      result.toObject().value(QStringLiteral("entries")).toArray()) {
                     if (v.toObject()
                             .value(QStringLiteral("objectId"))
                             .toString()
                             .startsWith(u"poolBypass:"))
                         entries.append(v);
                 }
                 if (m_json) {
                     printJson(QJsonObject{{QStringLiteral("entries"), entries}});
                     return done(CtlOk);
                 }
                 TextTable t({QStringLiteral("TIME"), QStringLiteral("WHAT"), QStringLiteral("WHO"),
                              QStringLiteral("BYPASS")});
                 for (const QJsonValue &v : std::as_const(entries)) {
                     const QJsonObject e = v.toObject();
                     t.addRow({QDateTime::fromSecsSinceEpoch(
                                   e.value(QStringLiteral("time")).toInteger(), Qt::UTC)
                                   .toString(Qt::ISODate),
                               e.value(QStringLiteral("what")).toString(),
                               e.value(QStringLiteral("who")).toString(),
                               e.value(QStringLiteral("objectId")).toString()});
                 }
                 print(t.text());
                 done(CtlOk);
             });
        return;
    }
    if (sub == u"remove" && m_args.size() == 3) {
        bool ok = false;
        const qint64 id = m_args[2].toLongLong(&ok);
        if (!ok || id <= 0) {
            printError(QStringLiteral("poolbypass remove takes a bypass's id (poolbypass list)"));
            return done(CtlUsage);
        }
        call(QStringLiteral("poolbypass.remove"), QJsonObject{{QStringLiteral("id"), id}},
             [this](const QJsonValue &result) {
                 if (m_json)
                     printJson(result);
                 else
                     print(QStringLiteral("removed\n"));
                 done(CtlOk);
             });
        return;
    }
    const std::optional<qint64> duration = durationArg(m_values.value(QStringLiteral("for")));
    if (sub != u"add" || m_args.size() < 3 || !duration) {
        printError(QStringLiteral("poolbypass takes list, retries, remove ID, or add DOMAIN "
                                  "--for DURATION (2h, 90m, 1d) [--reason TEXT] [RANGE...]"));
        return done(CtlUsage);
    }
    QJsonObject params{{QStringLiteral("domain"), m_args[2]}, {QStringLiteral("for"), *duration}};
    if (m_values.contains(QStringLiteral("reason")))
        params.insert(QStringLiteral("reason"), m_values.value(QStringLiteral("reason")));
    if (m_args.size() > 3)
        params.insert(QStringLiteral("ranges"), QJsonArray::fromStringList(m_args.mid(3)));
    call(QStringLiteral("poolbypass.add"), params, [table](const QJsonValue &result) {
        table(QJsonObject{{QStringLiteral("bypasses"), QJsonArray{result}}});
    });
}

} // namespace greygate
