// SPDX-License-Identifier: GPL-3.0-or-later
// PolicySet::replacePolicies: a rollback to a version of the policy table, apart from the
// single-object changes in PolicySet.cpp.
#include "PolicySet.h"
#include "PolicyValidator.h"

#include <QSet>

namespace greygate {

namespace {

bool sameExceptBookkeeping(Policy a, const Policy &b)
{
    a.version = b.version;
    a.updatedBy = b.updatedBy;
    return a == b;
}

ChangeOutcome refused(const QString &message)
{
    ChangeOutcome out;
    out.code = ChangeError::Invalid;
    out.error = message;
    return out;
}

} // namespace

ChangeOutcome PolicySet::replacePolicies(const QList<Policy> &policies, const QString &what,
                                         const QString &who, Seconds now)
{
    if (policies.size() > PolicyValidator::kMaxPolicies)
        return refused(
            QStringLiteral("policies: more than %1 policies").arg(PolicyValidator::kMaxPolicies));
    const QList<SenderGroup> groups = m_groups.values();
    QSet<qint64> ids;
    for (qsizetype i = 0; i < policies.size(); ++i) {
        const QString path = QStringLiteral("policies[%1]").arg(i);
        if (policies[i].id <= 0 || ids.contains(policies[i].id))
            return refused(
                path + QStringLiteral(".id: %1 is not a unique positive id").arg(policies[i].id));
        ids.insert(policies[i].id);
        if (const QString e = PolicyValidator::policyProblem(policies[i], groups, path);
            !e.isEmpty())
            return refused(e);
    }
    ChangeOutcome out;
    const QList<qint64> present = m_policies.keys();
    for (qint64 id : present) {
        if (ids.contains(id))
            continue;
        const auto it = m_policies.find(id);
        const QJsonObject before = policyJson(*it);
        const quint32 removedVersion = it->version + 1;
        m_policies.erase(it);
        out.changes.append(record(ChangeObject::Policy, QStringLiteral("policy:%1").arg(id), true,
                                  removedVersion, {}, who, now, what, before));
    }
    for (Policy p : policies) {
        const auto it = m_policies.find(p.id);
        if (it != m_policies.end() && sameExceptBookkeeping(p, *it))
            continue;
        const QJsonObject before = it == m_policies.end() ? QJsonObject() : policyJson(*it);
        p.version = it == m_policies.end() ? 1 : it->version + 1;
        p.updatedBy = who;
        if (p.updatedAt == 0)
            p.updatedAt = now;
        m_policies.insert(p.id, p);
        out.changes.append(record(ChangeObject::Policy, QStringLiteral("policy:%1").arg(p.id),
                                  false, p.version, policyJson(p), who, now, what, before));
    }
    return out;
}

} // namespace greygate
