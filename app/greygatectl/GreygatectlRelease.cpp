// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl's timed releases (release, expect, releases), delay analytics (delay), the
// failed-to-retry triage (triage) and alerts (alerts): docs/api.md, issue 11's methods.
#include "Greygatectl.h"
#include "TextTable.h"

#include <QDateTime>
#include <QJsonArray>
#include <QRegularExpression>

namespace greygate {

namespace {

QString isoTime(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(Qt::ISODate);
}

QString span(qint64 seconds)
{
    if (seconds >= 86400)
        return QStringLiteral("%1d%2h").arg(seconds / 86400).arg(seconds % 86400 / 3600);
    if (seconds >= 3600)
        return QStringLiteral("%1h%2m")
            .arg(seconds / 3600)
            .arg(seconds % 3600 / 60, 2, 10, QChar(u'0'));
    if (seconds >= 60)
        return QStringLiteral("%1m%2s").arg(seconds / 60).arg(seconds % 60, 2, 10, QChar(u'0'));
    return QStringLiteral("%1s").arg(seconds);
}

} // namespace

// "2h", "90m", "1d", "45s" or plain seconds; nullopt when it is none of them.
std::optional<qint64> Greygatectl::durationArg(const QString &text)
{
    static const QRegularExpression re(QStringLiteral("^(\\d{1,7})([smhd]?)$"));
    const QRegularExpressionMatch m = re.match(text.trimmed().toLower());
    if (!m.hasMatch())
        return std::nullopt;
    const qint64 n = m.captured(1).toLongLong();
    const QString unit = m.captured(2);
    return n * (unit == u"d" ? 86400 : unit == u"h" ? 3600 : unit == u"m" ? 60 : 1);
}

void Greygatectl::release()
{
    const bool expect = m_args.first() == u"expect";
    const std::optional<qint64> duration = durationArg(m_values.value(QStringLiteral("for")));
    const QString reason = m_values.value(QStringLiteral("reason"));
    if (!duration || reason.trimmed().isEmpty()) {
        printError(QStringLiteral("%1 needs --for DURATION (2h, 90m, 1d) and --reason TEXT")
                       .arg(m_args.first()));
        done(CtlUsage);
        return;
    }
    QJsonObject params{{QStringLiteral("for"), *duration}, {QStringLiteral("reason"), reason}};
    if (expect) {
        // expect --from ADDRESS|@DOMAIN --to RECIPIENT
        const QString from = m_values.value(QStringLiteral("from"));
        const QString to = m_values.value(QStringLiteral("to"));
        if (from.isEmpty() || to.isEmpty() || m_args.size() != 1) {
            printError(QStringLiteral("expect takes --from ADDRESS|DOMAIN --to RECIPIENT"));
            done(CtlUsage);
            return;
        }
        params.insert(QStringLiteral("kind"), QStringLiteral("expect"));
        params.insert(from.contains(u'@') && !from.startsWith(u'@') ? QStringLiteral("sender")
                                                                    : QStringLiteral("domain"),
                      from);
        params.insert(QStringLiteral("recipient"), to);
    } else if (m_args.size() == 4) {
        params.insert(QStringLiteral("kind"), QStringLiteral("triplet"));
        params.insert(QStringLiteral("client"), m_args[1]);
        params.insert(QStringLiteral("sender"), m_args[2]);
        params.insert(QStringLiteral("recipient"), m_args[3]);
    } else if (m_args.size() == 1 && m_values.contains(QStringLiteral("sender"))) {
        params.insert(QStringLiteral("kind"), QStringLiteral("sender"));
        params.insert(QStringLiteral("sender"), m_values.value(QStringLiteral("sender")));
    } else if (m_args.size() == 1 && m_values.contains(QStringLiteral("domain"))) {
        params.insert(QStringLiteral("kind"), QStringLiteral("domain"));
        params.insert(QStringLiteral("domain"), m_values.value(QStringLiteral("domain")));
    } else {
        printError(QStringLiteral("release takes CLIENT SENDER RECIPIENT (as queue list shows "
                                  "them), --sender ADDRESS or --domain DOMAIN"));
        done(CtlUsage);
        return;
    }
    call(QStringLiteral("release.create"), params, [this](const QJsonValue &result) {
        const QJsonObject o = result.toObject();
        if (m_json)
            printJson(o);
        else
            print(QStringLiteral("release %1 until %2%3\n")
                      .arg(o.value(QStringLiteral("id")).toInteger())
                      .arg(isoTime(o.value(QStringLiteral("until")).toInteger()))
                      .arg(o.value(QStringLiteral("tripletRemoved")).toBool()
                               ? QStringLiteral(" (the triplet left the queue)")
                               : QString()));
        done(CtlOk);
    });
}

void Greygatectl::releases()
{
    const QString sub = m_args.value(1);
    if (sub == u"revoke" && m_args.size() == 3) {
        bool ok = false;
        const qint64 id = m_args[2].toLongLong(&ok);
        if (!ok || id <= 0) {
            printError(QStringLiteral("releases revoke takes a release's id"));
            done(CtlUsage);
            return;
        }
        call(QStringLiteral("release.revoke"), QJsonObject{{QStringLiteral("id"), id}},
             [this](const QJsonValue &result) {
                 if (m_json)
                     printJson(result);
                 else
                     print(QStringLiteral("revoked\n"));
                 done(CtlOk);
             });
        return;
    }
    if (sub == u"audit" && m_args.size() == 2) {
        call(QStringLiteral("release.audit"), {}, [this](const QJsonValue &result) {
            if (m_json) {
                printJson(result);
                done(CtlOk);
                return;
            }
            TextTable t({QStringLiteral("TIME"), QStringLiteral("WHAT"), QStringLiteral("WHO"),
                         QStringLiteral("KIND"), QStringLiteral("UNTIL"),
                         QStringLiteral("REASON")});
            for (const QJsonValue &v :
                 result.toObject().value(QStringLiteral("entries")).toArray()) {
                const QJsonObject e = v.toObject();
                t.addRow({isoTime(e.value(QStringLiteral("time")).toInteger()),
                          e.value(QStringLiteral("what")).toString(),
                          e.value(QStringLiteral("who")).toString(),
                          e.value(QStringLiteral("kind")).toString(),
                          e.value(QStringLiteral("until")).toString(),
                          e.value(QStringLiteral("reason")).toString()});
            }
            print(t.text());
            done(CtlOk);
        });
        return;
    }
    if (m_args.size() != 1) {
        printError(QStringLiteral("releases takes [--all], revoke ID or audit"));
        done(CtlUsage);
        return;
    }
    QJsonObject params;
    if (m_values.contains(QStringLiteral("all")))
        params.insert(QStringLiteral("all"), true);
    call(QStringLiteral("release.list"), params, [this](const QJsonValue &result) {
        if (m_json) {
            printJson(result);
            done(CtlOk);
            return;
        }
        TextTable t({QStringLiteral("ID"), QStringLiteral("KIND"), QStringLiteral("WHAT"),
                     QStringLiteral("UNTIL"), QStringLiteral("LEFT"), QStringLiteral("WHO"),
                     QStringLiteral("REASON")});
        for (const QJsonValue &v : result.toObject().value(QStringLiteral("releases")).toArray()) {
            const QJsonObject r = v.toObject();
            QStringList what;
            for (const char *key : {"client", "sender", "domain", "recipient"}) {
                const QString value = r.value(QLatin1String(key)).toString();
                if (!value.isEmpty())
                    what.append(value);
            }
            t.addRow({QString::number(r.value(QStringLiteral("id")).toInteger()),
                      r.value(QStringLiteral("kind")).toString(), what.join(u" -> "),
                      isoTime(r.value(QStringLiteral("until")).toInteger()),
                      span(r.value(QStringLiteral("remaining")).toInteger()),
                      r.value(QStringLiteral("who")).toString(),
                      r.value(QStringLiteral("reason")).toString()});
        }
        print(t.text());
        done(CtlOk);
    });
}

void Greygatectl::delay()
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const std::optional<qint64> from = m_values.contains(QStringLiteral("from"))
                                           ? timeArg(m_values.value(QStringLiteral("from")))
                                           : std::optional<qint64>(now - 86400);
    const std::optional<qint64> to = m_values.contains(QStringLiteral("to"))
                                         ? timeArg(m_values.value(QStringLiteral("to")))
                                         : std::optional<qint64>(now + 1);
    if (!from || !to || m_args.size() != 1) {
        printError(QStringLiteral("delay takes [--from T] [--to T] [--step hour|day|week] "
                                  "[--limit N]"));
        done(CtlUsage);
        return;
    }
    QJsonObject params{{QStringLiteral("from"), *from}, {QStringLiteral("to"), *to}};
    if (m_values.contains(QStringLiteral("step")))
        params.insert(QStringLiteral("step"), m_values.value(QStringLiteral("step")));
    if (m_values.contains(QStringLiteral("limit")))
        params.insert(QStringLiteral("limit"),
                      m_values.value(QStringLiteral("limit")).toLongLong());
    call(QStringLiteral("delay.stats"), params, [this](const QJsonValue &result) {
        const QJsonObject o = result.toObject();
        if (m_json) {
            printJson(o);
            done(CtlOk);
            return;
        }
        const auto row = [](const QString &label, const QJsonObject &s) {
            return QStringList{label, QString::number(s.value(QStringLiteral("count")).toInteger()),
                               span(s.value(QStringLiteral("p50")).toInteger()),
                               span(s.value(QStringLiteral("p95")).toInteger()),
                               span(s.value(QStringLiteral("max")).toInteger())};
        };
        const QStringList head = {QStringLiteral("WHAT"), QStringLiteral("MAIL"),
                                  QStringLiteral("P50"), QStringLiteral("P95"),
                                  QStringLiteral("MAX")};
        TextTable t(head);
        t.addRow(row(QStringLiteral("all"), o.value(QStringLiteral("total")).toObject()));
        for (const QJsonValue &v : o.value(QStringLiteral("series")).toArray())
            t.addRow(
                row(isoTime(v.toObject().value(QStringLiteral("time")).toInteger()), v.toObject()));
        for (const QJsonValue &v : o.value(QStringLiteral("domains")).toArray())
            t.addRow(row(QStringLiteral("domain ") +
                             v.toObject().value(QStringLiteral("domain")).toString(),
                         v.toObject()));
        for (const QJsonValue &v : o.value(QStringLiteral("policies")).toArray())
            t.addRow(row(QStringLiteral("policy ") +
                             v.toObject().value(QStringLiteral("name")).toString(),
                         v.toObject()));
        print(t.text());
        done(CtlOk);
    });
}

void Greygatectl::triage()
{
    QJsonObject params;
    for (const QString &key : {QStringLiteral("from"), QStringLiteral("to")}) {
        if (!m_values.contains(key))
            continue;
        const std::optional<qint64> t = timeArg(m_values.value(key));
        if (!t) {
            printError(QStringLiteral("--%1 takes a time (epoch seconds or ISO 8601)").arg(key));
            done(CtlUsage);
            return;
        }
        params.insert(key, *t);
    }
    if (m_values.contains(QStringLiteral("limit")))
        params.insert(QStringLiteral("limit"),
                      m_values.value(QStringLiteral("limit")).toLongLong());
    call(QStringLiteral("triage.list"), params, [this](const QJsonValue &result) {
        if (m_json) {
            printJson(result);
            done(CtlOk);
            return;
        }
        TextTable t({QStringLiteral("SCORE"), QStringLiteral("TIME"), QStringLiteral("CLIENT"),
                     QStringLiteral("SENDER"), QStringLiteral("RECIPIENT"), QStringLiteral("WHY")});
        for (const QJsonValue &v : result.toObject().value(QStringLiteral("entries")).toArray()) {
            const QJsonObject e = v.toObject();
            QStringList why;
            for (const QJsonValue &f : e.value(QStringLiteral("factors")).toArray()) {
                if (f.toObject().value(QStringLiteral("value")).toBool())
                    why.append(f.toObject().value(QStringLiteral("name")).toString());
            }
            t.addRow({QString::number(e.value(QStringLiteral("score")).toInteger()),
                      isoTime(e.value(QStringLiteral("time")).toInteger()),
                      e.value(QStringLiteral("client")).toString(),
                      e.value(QStringLiteral("sender")).toString(),
                      e.value(QStringLiteral("recipient")).toString(), why.join(u", ")});
        }
        print(t.text());
        done(CtlOk);
    });
}

void Greygatectl::alerts()
{
    call(QStringLiteral("alerts.list"), {}, [this](const QJsonValue &result) {
        if (m_json) {
            printJson(result);
            done(CtlOk);
            return;
        }
        TextTable t({QStringLiteral("TIME"), QStringLiteral("KIND"), QStringLiteral("SUBJECT"),
                     QStringLiteral("STATE"), QStringLiteral("MESSAGE")});
        for (const QJsonValue &v : result.toObject().value(QStringLiteral("recent")).toArray()) {
            const QJsonObject a = v.toObject();
            t.addRow({isoTime(a.value(QStringLiteral("time")).toInteger()),
                      a.value(QStringLiteral("kind")).toString(),
                      a.value(QStringLiteral("subject")).toString(),
                      a.value(QStringLiteral("cleared")).toBool() ? QStringLiteral("cleared")
                                                                  : QStringLiteral("fired"),
                      a.value(QStringLiteral("message")).toString()});
        }
        print(t.text());
        done(CtlOk);
    });
}

} // namespace greygate
