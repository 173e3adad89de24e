// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyValidator.h"

#include "MailAddress.h"
#include "PolicyTime.h"

#include <QSet>

namespace greygate {

namespace {

QString at(const QString &path, const QString &field)
{
    return path.isEmpty() ? field : path + u'.' + field;
}

QString specifierProblem(const Specifier &s, const QList<SenderGroup> &groups, const QString &path)
{
    switch (s.type) {
    case SpecifierType::Everyone:
    case SpecifierType::Internal:
    case SpecifierType::External:
        if (!s.value.isEmpty())
            return at(path, QStringLiteral("value")) +
                   QStringLiteral(": type \"%1\" takes no value").arg(Specifier::typeName(s.type));
        return {};
    case SpecifierType::Domain:
        if (const QString p = MailAddress::domainProblem(s.value); !p.isEmpty())
            return at(path, QStringLiteral("value")) + QStringLiteral(": \"%1\": ").arg(s.value) +
                   p;
        return {};
    case SpecifierType::Address:
        if (const QString p = MailAddress::addressProblem(s.value); !p.isEmpty())
            return at(path, QStringLiteral("value")) + QStringLiteral(": \"%1\": ").arg(s.value) +
                   p;
        return {};
    case SpecifierType::Group:
        for (const SenderGroup &g : groups) {
            if (g.id == s.groupId)
                return {};
        }
        return at(path, QStringLiteral("value")) +
               QStringLiteral(": unknown group %1").arg(s.groupId);
    }
    return {};
}

} // namespace

QString PolicyValidator::policyProblem(const Policy &p, const QList<SenderGroup> &groups,
                                       const QString &path)
{
    if (p.narrative.size() > kMaxText)
        return at(path, QStringLiteral("narrative")) +
               QStringLiteral(": longer than %1 characters").arg(kMaxText);
    if (p.updatedBy.size() > kMaxName)
        return at(path, QStringLiteral("updatedBy")) +
               QStringLiteral(": longer than %1 characters").arg(kMaxName);
    if (const QString e = specifierProblem(p.from, groups, at(path, QStringLiteral("from")));
        !e.isEmpty())
        return e;
    if (const QString e = specifierProblem(p.to, groups, at(path, QStringLiteral("to")));
        !e.isEmpty())
        return e;
    if (p.start && p.end && *p.end <= *p.start)
        return at(path, QStringLiteral("end")) +
               QStringLiteral(": %1 is not after start %2")
                   .arg(PolicyTime::toIso(*p.end), PolicyTime::toIso(*p.start));
    if (p.sourceRanges.size() > kMaxSourceRanges)
        return at(path, QStringLiteral("sourceRanges")) +
               QStringLiteral(": more than %1 ranges").arg(kMaxSourceRanges);
    return {};
}

QString PolicyValidator::groupProblem(const SenderGroup &g, const QList<SenderGroup> &others,
                                      const QString &path)
{
    const QString name = g.name.trimmed();
    if (name.isEmpty())
        return at(path, QStringLiteral("name")) + QStringLiteral(": empty");
    if (name.size() > kMaxName)
        return at(path, QStringLiteral("name")) +
               QStringLiteral(": longer than %1 characters").arg(kMaxName);
    for (const SenderGroup &o : others) {
        if (o.id != g.id && o.name.compare(name, Qt::CaseInsensitive) == 0)
            return at(path, QStringLiteral("name")) +
                   QStringLiteral(": \"%1\" is already the name of group %2").arg(name).arg(o.id);
    }
    if (g.members.size() > kMaxMembers)
        return at(path, QStringLiteral("members")) +
               QStringLiteral(": more than %1 members").arg(kMaxMembers);
    return {};
}

QString PolicyValidator::autoAllowProblem(const AutoAllowEntry &e, const QString &path)
{
    if (e.internalAddress != AutoAllowEntry::kEveryInternalUser) {
        if (const QString p = MailAddress::addressProblem(e.internalAddress); !p.isEmpty())
            return at(path, QStringLiteral("internal")) +
                   QStringLiteral(": \"%1\": ").arg(e.internalAddress) + p;
    }
    if (const QString p = MailAddress::addressProblem(e.externalAddress); !p.isEmpty())
        return at(path, QStringLiteral("external")) +
               QStringLiteral(": \"%1\": ").arg(e.externalAddress) + p;
    if (e.expiresAt <= e.createdAt)
        return at(path, QStringLiteral("expiresAt")) + QStringLiteral(": not after createdAt");
    return {};
}

QString PolicyValidator::internalProblem(const InternalConfig &internal, const QString &path)
{
    for (qsizetype i = 0; i < internal.domains.size(); ++i) {
        const QString &d = internal.domains[i].domain;
        if (const QString p = MailAddress::domainProblem(d); !p.isEmpty())
            return at(path, QStringLiteral("domains[%1]").arg(i)) +
                   QStringLiteral(": \"%1\": ").arg(d) + p;
    }
    return {};
}

QString PolicyValidator::documentProblem(const PolicyDocument &doc)
{
    if (doc.policies.size() > kMaxPolicies)
        return QStringLiteral("policies: more than %1 policies").arg(kMaxPolicies);
    if (doc.groups.size() > kMaxGroups)
        return QStringLiteral("groups: more than %1 groups").arg(kMaxGroups);
    if (doc.autoAllow.size() > kMaxAutoAllow)
        return QStringLiteral("autoAllow: more than %1 entries").arg(kMaxAutoAllow);
    QSet<qint64> ids;
    qsizetype members = 0;
    for (qsizetype i = 0; i < doc.groups.size(); ++i) {
        const QString path = QStringLiteral("groups[%1]").arg(i);
        if (doc.groups[i].id <= 0 || ids.contains(doc.groups[i].id))
            return path +
                   QStringLiteral(".id: %1 is not a unique positive id").arg(doc.groups[i].id);
        ids.insert(doc.groups[i].id);
        if (const QString e = groupProblem(doc.groups[i], doc.groups, path); !e.isEmpty())
            return e;
        members += doc.groups[i].members.size();
        if (members > kMaxMembers)
            return path +
                   QStringLiteral(".members: more than %1 members in all groups").arg(kMaxMembers);
    }
    ids.clear();
    for (qsizetype i = 0; i < doc.policies.size(); ++i) {
        const QString path = QStringLiteral("policies[%1]").arg(i);
        if (doc.policies[i].id <= 0 || ids.contains(doc.policies[i].id))
            return path +
                   QStringLiteral(".id: %1 is not a unique positive id").arg(doc.policies[i].id);
        ids.insert(doc.policies[i].id);
        if (const QString e = policyProblem(doc.policies[i], doc.groups, path); !e.isEmpty())
            return e;
    }
    for (qsizetype i = 0; i < doc.autoAllow.size(); ++i) {
        if (const QString e =
                autoAllowProblem(doc.autoAllow[i], QStringLiteral("autoAllow[%1]").arg(i));
            !e.isEmpty())
            return e;
    }
    return internalProblem(doc.internal, QStringLiteral("internal"));
}

} // namespace greygate
