// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl's group, autoallow and policy edit commands. Changes name the version they
// were made from: --version V when given (a stale one is refused by the proxy: exit 1 with
// its message), else the version just read, so a change made meanwhile by someone else is
// still detected between the read and the write.
#include "Greygatectl.h"
#include "TextTable.h"
#include "policy/GroupMember.h"
#include "policy/GroupMemberCsv.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>

namespace greygate {

namespace {

constexpr qint64 kDefaultAutoAllowDays = 60;

QString groupSummary(const QJsonObject &g)
{
    return QStringLiteral("group %1 \"%2\" (%3), version %4, %5 members\n")
        .arg(g.value(QStringLiteral("id")).toInteger())
        .arg(g.value(QStringLiteral("name")).toString(), g.value(QStringLiteral("kind")).toString())
        .arg(g.value(QStringLiteral("version")).toInteger())
        .arg(g.value(QStringLiteral("members")).toArray().size());
}

} // namespace

std::optional<qint64> Greygatectl::versionFrom(const QJsonObject &object)
{
    if (!m_values.contains(QStringLiteral("version")))
        return object.value(QStringLiteral("version")).toInteger(-1);
    bool ok = false;
    const qint64 v = m_values.value(QStringLiteral("version")).toLongLong(&ok);
    if (!ok || v < 0) {
        printError(QStringLiteral("--version takes a number"));
        return std::nullopt;
    }
    return v;
}

void Greygatectl::withGroup(const QString &idOrName, std::function<void(const QJsonObject &)> then)
{
    bool numeric = false;
    const qint64 id = idOrName.toLongLong(&numeric);
    if (numeric) {
        call(QStringLiteral("group.get"), QJsonObject{{QStringLiteral("id"), id}},
             [then](const QJsonValue &group) { then(group.toObject()); });
        return;
    }
    call(QStringLiteral("group.list"), {}, [this, idOrName, then](const QJsonValue &result) {
        for (const QJsonValue &v : result.toObject().value(QStringLiteral("groups")).toArray()) {
            const QJsonObject g = v.toObject();
            if (g.value(QStringLiteral("name")).toString().compare(idOrName, Qt::CaseInsensitive) ==
                0) {
                call(QStringLiteral("group.get"),
                     QJsonObject{{QStringLiteral("id"), g.value(QStringLiteral("id"))}},
                     [then](const QJsonValue &group) { then(group.toObject()); });
                return;
            }
        }
        printError(QStringLiteral("no group named \"%1\"").arg(idOrName));
        done(CtlNotFound);
    });
}

void Greygatectl::policyEdit()
{
    // policy edit ID FILE: FILE holds the policy as `policy show` prints it, edited.
    if (m_args.size() != 4) {
        printError(QStringLiteral("policy edit takes ID FILE"));
        done(CtlUsage);
        return;
    }
    bool ok = false;
    const qint64 id = m_args[2].toLongLong(&ok);
    QJsonObject object;
    if (!ok || id <= 0) {
        printError(QStringLiteral("policy edit: \"%1\" is not a policy id").arg(m_args[2]));
        done(CtlUsage);
        return;
    }
    if (!readJsonFile(m_args[3], &object) || !applyMode(&object)) {
        done(CtlUsage);
        return;
    }
    const std::optional<qint64> version = versionFrom(object);
    if (!version || *version < 0) {
        if (version)
            printError(QStringLiteral("policy edit: %1 has no \"version\" (the one it was made "
                                      "from, as policy show prints it); or give --version V")
                           .arg(m_args[3]));
        done(CtlUsage);
        return;
    }
    object.insert(QStringLiteral("id"), id);
    object.insert(QStringLiteral("version"), *version);
    // Read-only fields of `policy show` are not part of a change.
    object.remove(QStringLiteral("updatedAt"));
    object.remove(QStringLiteral("updatedBy"));
    call(QStringLiteral("policy.update"), QJsonObject{{QStringLiteral("policy"), object}},
         [this](const QJsonValue &result) { printChangeResult(result); });
}

// What a create/update/delete answered: the object's id, version and revision.
void Greygatectl::printChangeResult(const QJsonValue &result)
{
    if (m_json) {
        printJson(result);
    } else {
        const QJsonObject o = result.toObject();
        print(QStringLiteral("id %1, version %2, revision %3\n")
                  .arg(o.value(QStringLiteral("id")).toInteger())
                  .arg(o.value(QStringLiteral("version")).toInteger())
                  .arg(o.value(QStringLiteral("revision")).toInteger()));
    }
    done(CtlOk);
}

void Greygatectl::group()
{
    const QString sub = m_args.value(1);
    const auto printChange = [this](const QJsonValue &result) {
        printChangeResult(result);
    };
    if (sub == u"list" && m_args.size() == 2) {
        call(QStringLiteral("group.list"), {}, [this](const QJsonValue &result) {
            if (m_json) {
                printJson(result);
                done(CtlOk);
                return;
            }
            TextTable t({QStringLiteral("ID"), QStringLiteral("VERSION"), QStringLiteral("KIND"),
                         QStringLiteral("MEMBERS"), QStringLiteral("NAME")});
            for (const QJsonValue &v :
                 result.toObject().value(QStringLiteral("groups")).toArray()) {
                const QJsonObject g = v.toObject();
                t.addRow({QString::number(g.value(QStringLiteral("id")).toInteger()),
                          QString::number(g.value(QStringLiteral("version")).toInteger()),
                          g.value(QStringLiteral("kind")).toString(),
                          QString::number(g.value(QStringLiteral("memberCount")).toInteger()),
                          g.value(QStringLiteral("name")).toString()});
            }
            print(t.text());
            done(CtlOk);
        });
        return;
    }
    if (sub == u"show" && m_args.size() == 3) {
        withGroup(m_args[2], [this](const QJsonObject &g) {
            if (m_json) {
                printJson(g);
            } else {
                QString text = groupSummary(g);
                for (const QJsonValue &m : g.value(QStringLiteral("members")).toArray())
                    text += m.toString() + u'\n';
                print(text);
            }
            done(CtlOk);
        });
        return;
    }
    if (sub == u"add" && m_args.size() == 3) {
        QJsonObject g{{QStringLiteral("name"), m_args[2]}};
        if (m_values.contains(QStringLiteral("kind")))
            g.insert(QStringLiteral("kind"), m_values.value(QStringLiteral("kind")));
        call(QStringLiteral("group.create"), QJsonObject{{QStringLiteral("group"), g}},
             printChange);
        return;
    }
    if (sub == u"delete" && m_args.size() == 3) {
        withGroup(m_args[2], [this, printChange](const QJsonObject &g) {
            const std::optional<qint64> version = versionFrom(g);
            if (!version) {
                done(CtlUsage);
                return;
            }
            call(QStringLiteral("group.delete"),
                 QJsonObject{{QStringLiteral("id"), g.value(QStringLiteral("id"))},
                             {QStringLiteral("version"), *version}},
                 printChange);
        });
        return;
    }
    if (sub == u"members" && m_args.size() >= 5 &&
        (m_args[2] == u"add" || m_args[2] == u"remove")) {
        groupMembers(m_args[2]);
        return;
    }
    if (sub == u"import" && m_args.size() == 4) {
        groupImport();
        return;
    }
    if (sub == u"export" && m_args.size() == 3) {
        groupExport();
        return;
    }
    printError(QStringLiteral("group takes list, show GROUP, add NAME, delete GROUP, members "
                              "add|remove GROUP MEMBER..., import GROUP CSVFILE or export GROUP"));
    done(CtlUsage);
}

void Greygatectl::groupMembers(const QString &op)
{
    // Checked here first, so a typo is told with its position before anything is sent.
    QJsonArray members;
    for (qsizetype i = 4; i < m_args.size(); ++i) {
        QString why;
        const std::optional<GroupMember> m = GroupMember::parse(m_args[i], &why);
        if (!m) {
            printError(QStringLiteral("\"%1\" is not a group member: %2").arg(m_args[i], why));
            done(CtlUsage);
            return;
        }
        members.append(m->text());
    }
    withGroup(m_args[3], [this, op, members](const QJsonObject &g) {
        const std::optional<qint64> version = versionFrom(g);
        if (!version) {
            done(CtlUsage);
            return;
        }
        call(u"group.members." + op,
             QJsonObject{{QStringLiteral("id"), g.value(QStringLiteral("id"))},
                         {QStringLiteral("version"), *version},
                         {QStringLiteral("members"), members}},
             [this](const QJsonValue &result) {
                 const QJsonObject o = result.toObject();
                 if (m_json)
                     printJson(o);
                 else
                     print(QStringLiteral("id %1, version %2, revision %3\n")
                               .arg(o.value(QStringLiteral("id")).toInteger())
                               .arg(o.value(QStringLiteral("version")).toInteger())
                               .arg(o.value(QStringLiteral("revision")).toInteger()));
                 done(CtlOk);
             });
    });
}

void Greygatectl::groupImport()
{
    // group import GROUP FILE: the members of a CSV file (docs/policies.md, "CSV for group
    // members") added to the group, or with --replace made its whole membership. The proxy
    // parses the file (group.import), whole, before changing anything: one bad line refuses
    // the import with its number, exactly as the console's import does.
    QFile file;
    const QString path = m_args[3];
    const bool opened = path == u"-" ? file.open(stdin, QIODevice::ReadOnly)
                                     : (file.setFileName(path), file.open(QIODevice::ReadOnly));
    if (!opened) {
        printError(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
        done(CtlUsage);
        return;
    }
    const QByteArray bytes = file.read(GroupMemberCsv::kMaxBytes + 1);
    if (bytes.size() > GroupMemberCsv::kMaxBytes) {
        printError(
            QStringLiteral("%1: larger than %2 bytes").arg(path).arg(GroupMemberCsv::kMaxBytes));
        done(CtlUsage);
        return;
    }
    const QString csv = QString::fromUtf8(bytes);
    const bool replace = m_values.contains(QStringLiteral("replace"));
    withGroup(m_args[2], [this, csv, replace](const QJsonObject &g) {
        const std::optional<qint64> version = versionFrom(g);
        if (!version) {
            done(CtlUsage);
            return;
        }
        call(QStringLiteral("group.import"),
             QJsonObject{{QStringLiteral("id"), g.value(QStringLiteral("id"))},
                         {QStringLiteral("version"), *version},
                         {QStringLiteral("csv"), csv},
                         {QStringLiteral("replace"), replace}},
             [this](const QJsonValue &result) {
                 const QJsonObject o = result.toObject();
                 if (m_json)
                     printJson(o);
                 else
                     print(QStringLiteral("%1 members read; id %2, version %3, revision %4\n")
                               .arg(o.value(QStringLiteral("read")).toInteger())
                               .arg(o.value(QStringLiteral("id")).toInteger())
                               .arg(o.value(QStringLiteral("version")).toInteger())
                               .arg(o.value(QStringLiteral("revision")).toInteger()));
                 done(CtlOk);
             });
    });
}

void Greygatectl::groupExport()
{
    withGroup(m_args[2], [this](const QJsonObject &g) {
        call(QStringLiteral("group.export"),
             QJsonObject{{QStringLiteral("id"), g.value(QStringLiteral("id"))}},
             [this](const QJsonValue &result) {
                 if (m_json)
                     printJson(result);
                 else
                     print(result.toObject().value(QStringLiteral("csv")).toString());
                 done(CtlOk);
             });
    });
}

void Greygatectl::autoAllow()
{
    const QString sub = m_args.value(1);
    const auto printChange = [this](const QJsonValue &result) {
        if (m_json)
            printJson(result);
        else
            print(QStringLiteral("revision %1, %2 changed\n")
                      .arg(result.toObject().value(QStringLiteral("revision")).toInteger())
                      .arg(result.toObject().value(QStringLiteral("changes")).toInteger()));
        done(CtlOk);
    };
    if (sub == u"list" && m_args.size() == 2) {
        QJsonObject params;
        if (m_values.contains(QStringLiteral("filter")))
            params.insert(QStringLiteral("filter"), m_values.value(QStringLiteral("filter")));
        for (const QString &key : {QStringLiteral("offset"), QStringLiteral("limit")}) {
            if (m_values.contains(key))
                params.insert(key, m_values.value(key).toLongLong());
        }
        call(QStringLiteral("autoallow.list"), params, [this](const QJsonValue &result) {
            const QJsonObject o = result.toObject();
            if (m_json) {
                printJson(o);
                done(CtlOk);
                return;
            }
            TextTable t({QStringLiteral("EXTERNAL"), QStringLiteral("INTERNAL"),
                         QStringLiteral("CREATED"), QStringLiteral("EXPIRES")});
            const QJsonArray entries = o.value(QStringLiteral("entries")).toArray();
            for (const QJsonValue &v : entries) {
                const QJsonObject e = v.toObject();
                t.addRow({e.value(QStringLiteral("external")).toString(),
                          e.value(QStringLiteral("internal")).toString(),
                          e.value(QStringLiteral("createdAt")).toString(),
                          e.value(QStringLiteral("expiresAt")).toString()});
            }
            print(t.text() + QStringLiteral("%1 of %2 entries from %3\n")
                                 .arg(entries.size())
                                 .arg(o.value(QStringLiteral("total")).toInteger())
                                 .arg(o.value(QStringLiteral("offset")).toInteger()));
            done(CtlOk);
        });
        return;
    }
    if (sub == u"add" && m_args.size() == 4) {
        qint64 expires = QDateTime::currentSecsSinceEpoch() + kDefaultAutoAllowDays * 86400;
        if (m_values.contains(QStringLiteral("expires"))) {
            const std::optional<qint64> t = timeArg(m_values.value(QStringLiteral("expires")));
            if (!t) {
                printError(QStringLiteral("--expires takes a time (epoch seconds or ISO 8601)"));
                done(CtlUsage);
                return;
            }
            expires = *t;
        }
        call(QStringLiteral("autoallow.add"),
             QJsonObject{{QStringLiteral("external"), m_args[2]},
                         {QStringLiteral("internal"), m_args[3]},
                         {QStringLiteral("expiresAt"), expires}},
             printChange);
        return;
    }
    if (sub == u"remove" && m_args.size() == 4) {
        call(QStringLiteral("autoallow.remove"),
             QJsonObject{{QStringLiteral("external"), m_args[2]},
                         {QStringLiteral("internal"), m_args[3]}},
             printChange);
        return;
    }
    printError(QStringLiteral("autoallow takes list, add EXTERNAL INTERNAL [--expires T] or "
                              "remove EXTERNAL INTERNAL"));
    done(CtlUsage);
}

} // namespace greygate
