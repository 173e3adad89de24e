// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyVersions.h"

#include <QSet>

namespace greygate {

namespace {

void dropBookkeeping(QJsonObject *o)
{
    o->remove(QStringLiteral("version"));
    o->remove(QStringLiteral("updatedBy"));
    o->remove(QStringLiteral("updatedAt"));
}

} // namespace

QJsonObject PolicyVersion::toJson() const
{
    QJsonArray ids;
    for (qint64 id : policies)
        ids.append(id);
    return QJsonObject{{QStringLiteral("version"), qint64(revision)},
                       {QStringLiteral("firstRevision"), qint64(firstRevision)},
                       {QStringLiteral("time"), time},
                       {QStringLiteral("who"), who},
                       {QStringLiteral("what"), what},
                       {QStringLiteral("policies"), ids}};
}

qint64 PolicyVersions::policyIdOf(const QString &objectId)
{
    if (!objectId.startsWith(u"policy:"))
        return 0;
    bool ok = false;
    const qint64 id = QStringView(objectId).sliced(7).toLongLong(&ok);
    return ok && id > 0 ? id : 0;
}

QList<PolicyVersion> PolicyVersions::versions(const QList<AuditEntry> &entries)
{
    QList<PolicyVersion> out;
    for (const AuditEntry &e : entries) {
        const qint64 id = policyIdOf(e.objectId);
        if (id == 0)
            continue;
        // An import deletes the policies its document leaves out: those are part of it.
        const bool sameAction =
            !out.isEmpty() && out.last().time == e.time && out.last().who == e.who &&
            (out.last().what == e.what ||
             (out.last().what == u"policy.import" && e.what == u"policy.delete"));
        if (sameAction && !out.last().policies.contains(id)) {
            out.last().revision = e.revision;
            out.last().policies.append(id);
            continue;
        }
        out.append(PolicyVersion{e.revision, e.revision, e.time, e.who, e.what, {id}});
    }
    return out;
}

std::optional<PolicyVersions::Table> PolicyVersions::tableAt(Table table,
                                                             const QList<AuditEntry> &entries,
                                                             quint64 revision, QString *error)
{
    // The entry that made `revision` must be there, or a pruned history would give a
    // table that never was.
    bool reached = revision == 0;
    for (qsizetype i = entries.size() - 1; i >= 0; --i) {
        const AuditEntry &e = entries[i];
        if (e.revision <= revision) {
            reached = reached || e.revision == revision;
            continue;
        }
        const qint64 id = policyIdOf(e.objectId);
        if (id == 0)
            continue;
        if (e.before.isEmpty())
            table.remove(id);
        else
            table.insert(id, e.before);
    }
    if (!reached) {
        *error = QStringLiteral("no version %1 in the audit log (it may have been pruned by the "
                                "audit retention); list the versions with policy.versions")
                     .arg(revision);
        return std::nullopt;
    }
    return table;
}

bool PolicyVersions::sameContent(QJsonObject a, QJsonObject b)
{
    dropBookkeeping(&a);
    dropBookkeeping(&b);
    return a == b;
}

QJsonObject PolicyVersions::diff(const Table &a, const Table &b)
{
    QJsonArray added, removed, changed;
    for (auto it = a.cbegin(); it != a.cend(); ++it) {
        if (!b.contains(it.key()))
            removed.append(*it);
    }
    for (auto it = b.cbegin(); it != b.cend(); ++it) {
        const auto old = a.constFind(it.key());
        if (old == a.cend()) {
            added.append(*it);
            continue;
        }
        if (sameContent(*old, *it))
            continue;
        QSet<QString> keys;
        for (const QString &k : old->keys())
            keys.insert(k);
        for (const QString &k : it->keys())
            keys.insert(k);
        QStringList fields;
        for (const QString &k : std::as_const(keys)) {
            if (k != u"version" && k != u"updatedBy" && k != u"updatedAt" &&
                old->value(k) != it->value(k))
                fields.append(k);
        }
        fields.sort();
        changed.append(QJsonObject{{QStringLiteral("id"), it.key()},
                                   {QStringLiteral("fields"), QJsonArray::fromStringList(fields)},
                                   {QStringLiteral("before"), *old},
                                   {QStringLiteral("after"), *it}});
    }
    return QJsonObject{{QStringLiteral("added"), added},
                       {QStringLiteral("removed"), removed},
                       {QStringLiteral("changed"), changed}};
}

} // namespace greygate
