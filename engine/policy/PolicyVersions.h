// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AuditEntry.h"

#include <QJsonArray>
#include <QList>
#include <QMap>
#include <optional>

namespace greygate {

// One version of the policy table: one admin action on policies (a create, an update, a
// delete, an import, a rollback), which may change several policies at once.
struct PolicyVersion
{
    quint64 revision = 0;      // the version's number: the last PolicySet revision it made
    quint64 firstRevision = 0; // the first one
    Seconds time = 0;
    QString who;
    QString what;           // "policy.update", "policy.import", "policy.rollback", ...
    QList<qint64> policies; // the policies it changed

    QJsonObject toJson() const;
};

// The history of the policy table, read from the audit log (which holds every audited
// policy change with its state before and after, persisted by SQLite and Redis alike and
// kept for the audit retention), so versions cost no storage of their own
// (docs/policies.md, "Versions"). A table is policies in their JSON form by id.
class PolicyVersions
{
public:
    using Table = QMap<qint64, QJsonObject>;

    // Policy audit entries (objectId "policy:N"), oldest first, grouped into versions: the
    // adjacent entries of one action (same time, who and what; an import's deletions go
    // with it) are one version.
    static QList<PolicyVersion> versions(const QList<AuditEntry> &entries);
    // The table as it was right after `revision`: `current` with every entry made after it
    // undone, newest first. nullopt when the entries do not reach back to it (pruned).
    static std::optional<Table> tableAt(Table current, const QList<AuditEntry> &entries,
                                        quint64 revision, QString *error);
    // What changed from a to b, by policy: added, removed, and changed with the fields that
    // differ. Bookkeeping fields (version, updatedAt, updatedBy) are not compared.
    static QJsonObject diff(const Table &a, const Table &b);
    static bool sameContent(QJsonObject a, QJsonObject b);
    static qint64 policyIdOf(const QString &objectId); // "policy:7" -> 7, else 0
};

} // namespace greygate
