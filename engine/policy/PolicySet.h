// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AutoAllowTable.h"
#include "PolicyChange.h"
#include "PolicyDocument.h"
#include "PolicyIndex.h"

#include <QMap>
#include <memory>

namespace greygate {

// The policies, groups, auto allow entries and internal configuration in memory, with
// optimistic versioning: every object carries a version, a change must name the version
// it was made from, and a stale one is refused (ChangeError::StaleVersion) instead of
// overwriting someone else's change. Every successful change bumps the set's revision and
// comes out as PolicyChange records (with an AuditEntry) for a store to persist. No I/O.
class PolicySet
{
public:
    static constexpr qsizetype kMaxAuditInMemory = 10'000;

    PolicySet() = default;

    // Start-up: the state as a store gave it back, no change records.
    void restore(const PolicyDocument &document, quint64 revision);

    quint64 revision() const { return m_revision; }
    PolicyDocument document() const;
    std::shared_ptr<const PolicyIndex> buildIndex() const;
    const AutoAllowTable &autoAllow() const { return m_autoAllow; }
    const Policy *policy(qint64 id) const;
    const SenderGroup *group(qint64 id) const;
    const QList<AuditEntry> &audit() const { return m_audit; } // the latest, oldest first

    // Policies. create() assigns the id (or keeps a free one given, to restore a deleted
    // policy) and version 1; update() requires policy.version == the stored version.
    ChangeOutcome createPolicy(Policy policy, const QString &who, Seconds now);
    ChangeOutcome updatePolicy(Policy policy, const QString &who, Seconds now);
    ChangeOutcome deletePolicy(qint64 id, quint32 version, const QString &who, Seconds now);

    // Groups. update() replaces name, kind and members; a group a policy uses cannot go.
    ChangeOutcome createGroup(SenderGroup group, const QString &who, Seconds now);
    ChangeOutcome updateGroup(SenderGroup group, const QString &who, Seconds now);
    ChangeOutcome deleteGroup(qint64 id, quint32 version, const QString &who, Seconds now);
    ChangeOutcome addMembers(qint64 groupId, quint32 version, const QList<GroupMember> &members,
                             const QString &who, Seconds now);
    ChangeOutcome removeMembers(qint64 groupId, quint32 version, const QList<GroupMember> &members,
                                const QString &who, Seconds now);

    ChangeOutcome setInternal(InternalConfig internal, const QString &who, Seconds now);

    // Auto allow, by an admin (audited) or learned from traffic (not audited: one per
    // outbound mail would drown the audit log), and expiry (not audited either).
    ChangeOutcome addAutoAllow(const AutoAllowEntry &entry, const QString &who, Seconds now);
    ChangeOutcome removeAutoAllow(const QString &externalAddress, const QString &internalAddress,
                                  const QString &who, Seconds now);
    ChangeOutcome learnAutoAllow(const AutoAllowEntry &entry);
    ChangeOutcome expireAutoAllow(Seconds now);

    // Replaces policies and groups by the document's (matched by id for policies, by name
    // for groups), adds its auto allow entries, replaces the internal configuration when
    // the document has one. Validated first: refused whole, or applied whole. Objects that
    // did not change keep their version, so importing the same file again changes nothing.
    ChangeOutcome importDocument(PolicyDocument document, const QString &who, Seconds now);

    // Makes the policy table exactly `policies` (a version rolled back to, PolicyVersions):
    // policies not in it are deleted, the others created or updated where they differ,
    // keeping their ids and update times (which the precedence's tie-break reads), each
    // change audited as `what`. Validated whole first. PolicySetRollback.cpp.
    ChangeOutcome replacePolicies(const QList<Policy> &policies, const QString &what,
                                  const QString &who, Seconds now);

private:
    PolicyChange record(ChangeObject object, const QString &objectId, bool removed, quint32 version,
                        const QJsonObject &value, const QString &who, Seconds now,
                        const QString &what, const QJsonObject &before, bool audited = true);
    QJsonObject policyJson(const Policy &p) const;
    QString stale(const QString &object, quint32 stored, quint32 given) const;
    template <typename Map>
    ChangeOutcome checkVersion(const Map &map, QStringView kind, qint64 id, quint32 given) const;
    ChangeOutcome putGroup(SenderGroup group, const QString &who, Seconds now, const QString &what);

    QMap<qint64, Policy> m_policies;
    QMap<qint64, SenderGroup> m_groups;
    InternalConfig m_internal;
    AutoAllowTable m_autoAllow;
    quint64 m_revision = 0;
    QList<AuditEntry> m_audit;
};

} // namespace greygate
