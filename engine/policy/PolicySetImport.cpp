// SPDX-License-Identifier: GPL-3.0-or-later
// PolicySet::importDocument, apart from the single-object changes in PolicySet.cpp.
#include "PolicyJson.h"
#include "PolicySet.h"
#include "PolicyValidator.h"

#include <QSet>

namespace greygate {

namespace {

bool sameGroupContent(SenderGroup a, const SenderGroup &b)
{
    a.id = b.id;
    a.version = b.version;
    a.updatedAt = b.updatedAt;
    a.updatedBy = b.updatedBy;
    return a == b;
}

bool samePolicyContent(Policy a, const Policy &b)
{
    a.id = b.id;
    a.version = b.version;
    a.updatedAt = b.updatedAt;
    a.updatedBy = b.updatedBy;
    return a == b;
}

} // namespace

ChangeOutcome PolicySet::importDocument(PolicyDocument doc, const QString &who, Seconds now)
{
    if (const QString e = PolicyValidator::documentProblem(doc); !e.isEmpty()) {
        ChangeOutcome out;
        out.code = ChangeError::Invalid;
        out.error = e;
        return out;
    }

    // Groups keep their identity by name: the file's ids are its own numbering.
    QHash<QString, qint64> existingByName;
    qint64 nextId = 0;
    for (const SenderGroup &g : std::as_const(m_groups)) {
        existingByName.insert(g.name.toLower(), g.id);
        nextId = std::max(nextId, g.id);
    }
    for (const SenderGroup &g : std::as_const(doc.groups))
        nextId = std::max(nextId, g.id);
    QHash<qint64, qint64> remap;
    QSet<qint64> taken;
    for (const SenderGroup &g : std::as_const(doc.groups)) {
        if (const auto it = existingByName.constFind(g.name.toLower());
            it != existingByName.cend()) {
            remap.insert(g.id, *it);
            taken.insert(*it);
        }
    }
    for (const SenderGroup &g : std::as_const(doc.groups)) {
        if (remap.contains(g.id))
            continue;
        const bool free = !m_groups.contains(g.id) && !taken.contains(g.id);
        const qint64 id = free ? g.id : ++nextId;
        remap.insert(g.id, id);
        taken.insert(id);
    }
    for (SenderGroup &g : doc.groups)
        g.id = remap.value(g.id);
    for (Policy &p : doc.policies) {
        for (Specifier *s : {&p.from, &p.to}) {
            if (s->type == SpecifierType::Group)
                s->groupId = remap.value(s->groupId);
        }
    }

    ChangeOutcome out;
    const QList<SenderGroup> finalGroups = doc.groups;
    QSet<qint64> keptGroups, keptPolicies;
    for (SenderGroup g : std::as_const(doc.groups)) {
        keptGroups.insert(g.id);
        const auto old = m_groups.constFind(g.id);
        if (old != m_groups.cend() && sameGroupContent(g, *old))
            continue;
        const QJsonObject before =
            old == m_groups.cend() ? QJsonObject() : PolicyJson::groupToJson(*old);
        if (old != m_groups.cend() || g.updatedAt == 0) {
            g.updatedAt = now;
            g.updatedBy = who;
        }
        g.version = old != m_groups.cend() ? old->version + 1 : std::max<quint32>(1, g.version);
        m_groups.insert(g.id, g);
        out.changes.append(record(ChangeObject::Group, QStringLiteral("group:%1").arg(g.id), false,
                                  g.version, PolicyJson::groupToJson(g), who, now,
                                  QStringLiteral("group.import"), before));
    }
    for (Policy p : std::as_const(doc.policies)) {
        keptPolicies.insert(p.id);
        const auto old = m_policies.constFind(p.id);
        if (old != m_policies.cend() && samePolicyContent(p, *old))
            continue;
        const QJsonObject before =
            old == m_policies.cend() ? QJsonObject() : PolicyJson::policyToJson(*old, finalGroups);
        if (old != m_policies.cend() || p.updatedAt == 0) {
            p.updatedAt = now;
            p.updatedBy = who;
        }
        p.version = old != m_policies.cend() ? old->version + 1 : std::max<quint32>(1, p.version);
        m_policies.insert(p.id, p);
        out.changes.append(record(ChangeObject::Policy, QStringLiteral("policy:%1").arg(p.id),
                                  false, p.version, PolicyJson::policyToJson(p, finalGroups), who,
                                  now, QStringLiteral("policy.import"), before));
    }
    for (const qint64 id : m_policies.keys()) {
        if (keptPolicies.contains(id))
            continue;
        const Policy old = m_policies.take(id);
        out.changes.append(record(ChangeObject::Policy, QStringLiteral("policy:%1").arg(id), true,
                                  old.version + 1, {}, who, now, QStringLiteral("policy.delete"),
                                  PolicyJson::policyToJson(old, finalGroups)));
    }
    for (const qint64 id : m_groups.keys()) {
        if (keptGroups.contains(id))
            continue;
        const SenderGroup old = m_groups.take(id);
        out.changes.append(record(ChangeObject::Group, QStringLiteral("group:%1").arg(id), true,
                                  old.version + 1, {}, who, now, QStringLiteral("group.delete"),
                                  PolicyJson::groupToJson(old)));
    }
    for (const AutoAllowEntry &e : std::as_const(doc.autoAllow)) {
        const AutoAllowEntry *existing =
            m_autoAllow.find(e.externalAddress.toUtf8(), e.internalAddress.toUtf8(), e.createdAt);
        if (existing && existing->internalAddress == e.internalAddress &&
            existing->expiresAt >= e.expiresAt)
            continue;
        if (const std::optional<AutoAllowEntry> stored = m_autoAllow.put(e)) {
            out.changes.append(record(ChangeObject::AutoAllow,
                                      QStringLiteral("autoAllow:") + stored->externalAddress +
                                          u' ' + stored->internalAddress,
                                      false, 0, PolicyJson::autoAllowToJson(*stored), who, now,
                                      QStringLiteral("autoAllow.import"), {}));
        }
    }
    if (doc.hasInternal && (doc.internal.domains != m_internal.domains ||
                            doc.internal.networks != m_internal.networks)) {
        const QJsonObject before = PolicyJson::internalToJson(m_internal);
        doc.internal.version = m_internal.version + 1;
        m_internal = doc.internal;
        out.changes.append(record(ChangeObject::Internal, QStringLiteral("internal"), false,
                                  m_internal.version, PolicyJson::internalToJson(m_internal), who,
                                  now, QStringLiteral("internal.import"), before));
    }
    return out;
}

} // namespace greygate
