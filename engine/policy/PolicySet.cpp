// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicySet.h"

#include "PolicyJson.h"
#include "PolicyValidator.h"

#include <QSet>

namespace greygate {

namespace {

QString policyKey(qint64 id)
{
    return QStringLiteral("policy:%1").arg(id);
}

QString groupKey(qint64 id)
{
    return QStringLiteral("group:%1").arg(id);
}

QString autoAllowKey(const QString &external, const QString &internal)
{
    return QStringLiteral("autoAllow:") + external + u' ' + internal;
}

ChangeOutcome failure(ChangeError code, const QString &message)
{
    ChangeOutcome out;
    out.code = code;
    out.error = message;
    return out;
}

} // namespace

void PolicySet::restore(const PolicyDocument &document, quint64 revision)
{
    m_policies.clear();
    m_groups.clear();
    m_autoAllow.clear();
    for (const Policy &p : document.policies)
        m_policies.insert(p.id, p);
    for (const SenderGroup &g : document.groups)
        m_groups.insert(g.id, g);
    for (const AutoAllowEntry &e : document.autoAllow)
        m_autoAllow.put(e);
    m_internal = document.internal;
    m_revision = revision;
}

PolicyDocument PolicySet::document() const
{
    PolicyDocument doc;
    doc.policies = m_policies.values();
    doc.groups = m_groups.values();
    doc.autoAllow = m_autoAllow.entries();
    doc.internal = m_internal;
    return doc;
}

std::shared_ptr<const PolicyIndex> PolicySet::buildIndex() const
{
    return std::make_shared<const PolicyIndex>(document());
}

const Policy *PolicySet::policy(qint64 id) const
{
    const auto it = m_policies.constFind(id);
    return it == m_policies.cend() ? nullptr : &*it;
}

const SenderGroup *PolicySet::group(qint64 id) const
{
    const auto it = m_groups.constFind(id);
    return it == m_groups.cend() ? nullptr : &*it;
}

QJsonObject PolicySet::policyJson(const Policy &p) const
{
    return PolicyJson::policyToJson(p, m_groups.values());
}

QString PolicySet::stale(const QString &object, quint32 stored, quint32 given) const
{
    return QStringLiteral("stale version: %1 is at version %2, this change was made from "
                          "version %3; reload it and apply the change again")
        .arg(object)
        .arg(stored)
        .arg(given);
}

PolicyChange PolicySet::record(ChangeObject object, const QString &objectId, bool removed,
                               quint32 version, const QJsonObject &value, const QString &who,
                               Seconds now, const QString &what, const QJsonObject &before,
                               bool audited)
{
    PolicyChange c;
    c.revision = ++m_revision;
    c.object = object;
    c.objectId = objectId;
    c.removed = removed;
    c.version = version;
    c.value = removed ? QJsonObject() : value;
    if (audited) {
        c.audit = AuditEntry{c.revision, now, who, what, objectId, before, c.value};
        m_audit.append(*c.audit);
        if (m_audit.size() > kMaxAuditInMemory)
            m_audit.remove(0, m_audit.size() - kMaxAuditInMemory);
    }
    return c;
}

ChangeOutcome PolicySet::createPolicy(Policy p, const QString &who, Seconds now)
{
    if (p.id == 0)
        p.id = m_policies.isEmpty() ? 1 : m_policies.lastKey() + 1;
    if (p.id < 0 || m_policies.contains(p.id))
        return failure(ChangeError::Invalid, QStringLiteral("policy.id: %1 is taken").arg(p.id));
    p.version = 1;
    p.updatedAt = now;
    p.updatedBy = who;
    if (const QString e =
            PolicyValidator::policyProblem(p, m_groups.values(), QStringLiteral("policy"));
        !e.isEmpty())
        return failure(ChangeError::Invalid, e);
    m_policies.insert(p.id, p);
    ChangeOutcome out{ChangeError::None, {}, p.id, p.version, {}};
    out.changes.append(record(ChangeObject::Policy, policyKey(p.id), false, p.version,
                              policyJson(p), who, now, QStringLiteral("policy.create"), {}));
    return out;
}

// The object `id` exists at version `given`, or the failure that says why not: every update
// and delete starts here, so a stale editor is refused the same way everywhere.
template <typename Map>
ChangeOutcome PolicySet::checkVersion(const Map &map, QStringView kind, qint64 id,
                                      quint32 given) const
{
    const auto it = map.constFind(id);
    if (it == map.cend())
        return failure(ChangeError::NotFound, QStringLiteral("no %1 %2").arg(kind).arg(id));
    if (given != it->version)
        return failure(ChangeError::StaleVersion,
                       stale(QStringLiteral("%1 %2").arg(kind).arg(id), it->version, given));
    return ChangeOutcome{};
}

ChangeOutcome PolicySet::updatePolicy(Policy p, const QString &who, Seconds now)
{
    if (ChangeOutcome refused = checkVersion(m_policies, u"policy", p.id, p.version); !refused.ok())
        return refused;
    const auto it = m_policies.find(p.id);
    if (const QString e =
            PolicyValidator::policyProblem(p, m_groups.values(), QStringLiteral("policy"));
        !e.isEmpty())
        return failure(ChangeError::Invalid, e);
    const QJsonObject before = policyJson(*it);
    p.version = it->version + 1;
    p.updatedAt = now;
    p.updatedBy = who;
    *it = p;
    ChangeOutcome out{ChangeError::None, {}, p.id, p.version, {}};
    out.changes.append(record(ChangeObject::Policy, policyKey(p.id), false, p.version,
                              policyJson(p), who, now, QStringLiteral("policy.update"), before));
    return out;
}

ChangeOutcome PolicySet::deletePolicy(qint64 id, quint32 version, const QString &who, Seconds now)
{
    if (ChangeOutcome refused = checkVersion(m_policies, u"policy", id, version); !refused.ok())
        return refused;
    const auto it = m_policies.find(id);
    const QJsonObject before = policyJson(*it);
    const quint32 removedVersion = it->version + 1;
    m_policies.erase(it);
    ChangeOutcome out{ChangeError::None, {}, id, removedVersion, {}};
    out.changes.append(record(ChangeObject::Policy, policyKey(id), true, removedVersion, {}, who,
                              now, QStringLiteral("policy.delete"), before));
    return out;
}

ChangeOutcome PolicySet::putGroup(SenderGroup g, const QString &who, Seconds now,
                                  const QString &what)
{
    g.name = g.name.trimmed();
    if (const QString e =
            PolicyValidator::groupProblem(g, m_groups.values(), QStringLiteral("group"));
        !e.isEmpty())
        return failure(ChangeError::Invalid, e);
    const auto old = m_groups.constFind(g.id);
    const QJsonObject before =
        old == m_groups.cend() ? QJsonObject() : PolicyJson::groupToJson(*old);
    g.version = old == m_groups.cend() ? 1 : old->version + 1;
    g.updatedAt = now;
    g.updatedBy = who;
    m_groups.insert(g.id, g);
    ChangeOutcome out{ChangeError::None, {}, g.id, g.version, {}};
    out.changes.append(record(ChangeObject::Group, groupKey(g.id), false, g.version,
                              PolicyJson::groupToJson(g), who, now, what, before));
    return out;
}

ChangeOutcome PolicySet::createGroup(SenderGroup g, const QString &who, Seconds now)
{
    if (g.id == 0)
        g.id = m_groups.isEmpty() ? 1 : m_groups.lastKey() + 1;
    if (g.id < 0 || m_groups.contains(g.id))
        return failure(ChangeError::Invalid, QStringLiteral("group.id: %1 is taken").arg(g.id));
    return putGroup(g, who, now, QStringLiteral("group.create"));
}

ChangeOutcome PolicySet::updateGroup(SenderGroup g, const QString &who, Seconds now)
{
    if (ChangeOutcome refused = checkVersion(m_groups, u"group", g.id, g.version); !refused.ok())
        return refused;
    return putGroup(g, who, now, QStringLiteral("group.update"));
}

ChangeOutcome PolicySet::deleteGroup(qint64 id, quint32 version, const QString &who, Seconds now)
{
    if (ChangeOutcome refused = checkVersion(m_groups, u"group", id, version); !refused.ok())
        return refused;
    const auto it = m_groups.find(id);
    for (const Policy &p : std::as_const(m_policies)) {
        if ((p.from.type == SpecifierType::Group && p.from.groupId == id) ||
            (p.to.type == SpecifierType::Group && p.to.groupId == id))
            return failure(ChangeError::InUse,
                           QStringLiteral("group %1 \"%2\" is used by policy %3; change or delete "
                                          "that policy first")
                               .arg(id)
                               .arg(it->name)
                               .arg(p.id));
    }
    const QJsonObject before = PolicyJson::groupToJson(*it);
    const quint32 removedVersion = it->version + 1;
    m_groups.erase(it);
    ChangeOutcome out{ChangeError::None, {}, id, removedVersion, {}};
    out.changes.append(record(ChangeObject::Group, groupKey(id), true, removedVersion, {}, who, now,
                              QStringLiteral("group.delete"), before));
    return out;
}

ChangeOutcome PolicySet::addMembers(qint64 groupId, quint32 version,
                                    const QList<GroupMember> &members, const QString &who,
                                    Seconds now)
{
    if (ChangeOutcome refused = checkVersion(m_groups, u"group", groupId, version); !refused.ok())
        return refused;
    const auto it = m_groups.constFind(groupId);
    SenderGroup g = *it;
    QSet<QString> present;
    for (const GroupMember &m : g.members)
        present.insert(m.text());
    for (const GroupMember &m : members) {
        if (!present.contains(m.text())) {
            present.insert(m.text());
            g.members.append(m);
        }
    }
    if (g.members.size() == it->members.size())
        return ChangeOutcome{ChangeError::None, {}, g.id, it->version, {}};
    return putGroup(g, who, now, QStringLiteral("group.members.add"));
}

ChangeOutcome PolicySet::removeMembers(qint64 groupId, quint32 version,
                                       const QList<GroupMember> &members, const QString &who,
                                       Seconds now)
{
    if (ChangeOutcome refused = checkVersion(m_groups, u"group", groupId, version); !refused.ok())
        return refused;
    const auto it = m_groups.constFind(groupId);
    QSet<QString> gone;
    for (const GroupMember &m : members)
        gone.insert(m.text());
    SenderGroup g = *it;
    g.members.removeIf([&](const GroupMember &m) { return gone.contains(m.text()); });
    if (g.members.size() + gone.size() != it->members.size())
        return failure(
            ChangeError::NotFound,
            QStringLiteral("group %1 does not hold every member to remove").arg(groupId));
    return putGroup(g, who, now, QStringLiteral("group.members.remove"));
}

ChangeOutcome PolicySet::setInternal(InternalConfig internal, const QString &who, Seconds now)
{
    if (internal.version != m_internal.version)
        return failure(ChangeError::StaleVersion,
                       stale(QStringLiteral("the internal configuration"), m_internal.version,
                             internal.version));
    if (const QString e = PolicyValidator::internalProblem(internal, QStringLiteral("internal"));
        !e.isEmpty())
        return failure(ChangeError::Invalid, e);
    const QJsonObject before = PolicyJson::internalToJson(m_internal);
    internal.version = m_internal.version + 1;
    m_internal = internal;
    ChangeOutcome out{ChangeError::None, {}, 0, internal.version, {}};
    out.changes.append(record(ChangeObject::Internal, QStringLiteral("internal"), false,
                              internal.version, PolicyJson::internalToJson(internal), who, now,
                              QStringLiteral("internal.update"), before));
    return out;
}

ChangeOutcome PolicySet::addAutoAllow(const AutoAllowEntry &entry, const QString &who, Seconds now)
{
    if (const QString e = PolicyValidator::autoAllowProblem(entry, QStringLiteral("autoAllow"));
        !e.isEmpty())
        return failure(ChangeError::Invalid, e);
    const std::optional<AutoAllowEntry> stored = m_autoAllow.put(entry);
    if (!stored)
        return failure(ChangeError::Full, QStringLiteral("the auto allow table is full"));
    ChangeOutcome out;
    out.changes.append(record(ChangeObject::AutoAllow,
                              autoAllowKey(stored->externalAddress, stored->internalAddress), false,
                              0, PolicyJson::autoAllowToJson(*stored), who, now,
                              QStringLiteral("autoAllow.add"), {}));
    return out;
}

ChangeOutcome PolicySet::removeAutoAllow(const QString &externalAddress,
                                         const QString &internalAddress, const QString &who,
                                         Seconds now)
{
    const QString ext = externalAddress.trimmed().toLower();
    const QString in = internalAddress.trimmed().toLower();
    QJsonObject before;
    for (const AutoAllowEntry &e : m_autoAllow.entries()) {
        if (e.externalAddress == ext && e.internalAddress == in)
            before = PolicyJson::autoAllowToJson(e);
    }
    if (!m_autoAllow.remove(ext, in))
        return failure(ChangeError::NotFound,
                       QStringLiteral("no auto allow entry for %1 -> %2").arg(ext, in));
    ChangeOutcome out;
    out.changes.append(record(ChangeObject::AutoAllow, autoAllowKey(ext, in), true, 0, {}, who, now,
                              QStringLiteral("autoAllow.remove"), before));
    return out;
}

ChangeOutcome PolicySet::learnAutoAllow(const AutoAllowEntry &entry)
{
    const std::optional<AutoAllowEntry> stored = m_autoAllow.put(entry);
    if (!stored)
        return failure(ChangeError::Full, QStringLiteral("the auto allow table is full"));
    ChangeOutcome out;
    out.changes.append(record(
        ChangeObject::AutoAllow, autoAllowKey(stored->externalAddress, stored->internalAddress),
        false, 0, PolicyJson::autoAllowToJson(*stored), {}, entry.createdAt, {}, {}, false));
    return out;
}

ChangeOutcome PolicySet::expireAutoAllow(Seconds now)
{
    ChangeOutcome out;
    for (const AutoAllowEntry &e : m_autoAllow.expire(now)) {
        out.changes.append(record(ChangeObject::AutoAllow,
                                  autoAllowKey(e.externalAddress, e.internalAddress), true, 0, {},
                                  {}, now, {}, {}, false));
    }
    return out;
}

} // namespace greygate
