// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyJson.h"

#include "PolicyJsonReader.h"
#include "PolicyTime.h"

#include <QJsonArray>

namespace greygate {

namespace {

QJsonObject specifierToJson(const Specifier &s, const QList<SenderGroup> &groups)
{
    QJsonObject o{{QStringLiteral("type"), Specifier::typeName(s.type)}};
    switch (s.type) {
    case SpecifierType::Domain:
        o.insert(QStringLiteral("value"), s.value);
        o.insert(QStringLiteral("includeSubdomains"), s.includeSubdomains);
        break;
    case SpecifierType::Address:
        o.insert(QStringLiteral("value"), s.value);
        break;
    case SpecifierType::Group:
        for (const SenderGroup &g : groups) {
            if (g.id == s.groupId)
                o.insert(QStringLiteral("value"), g.name);
        }
        break;
    default:
        break;
    }
    return o;
}

} // namespace

std::optional<PolicyDocument> PolicyJson::parse(QByteArrayView bytes, QString *error)
{
    return PolicyJsonReader().read(bytes, error);
}

QJsonObject PolicyJson::policyToJson(const Policy &p, const QList<SenderGroup> &groups)
{
    QJsonObject from = specifierToJson(p.from, groups);
    from.insert(QStringLiteral("basedOn"), Policy::basisName(p.fromBasis));
    QJsonObject o{{QStringLiteral("id"), p.id},
                  {QStringLiteral("version"), qint64(p.version)},
                  {QStringLiteral("narrative"), p.narrative},
                  {QStringLiteral("action"), Policy::actionName(p.action)},
                  {QStringLiteral("from"), from},
                  {QStringLiteral("to"), specifierToJson(p.to, groups)},
                  {QStringLiteral("enabled"), p.enabled},
                  {QStringLiteral("override"), p.override},
                  {QStringLiteral("bidirectional"), p.bidirectional}};
    // Written only for a shadow policy: documents of enforced policies stay as they were.
    if (p.mode == PolicyMode::Shadow)
        o.insert(QStringLiteral("mode"), Policy::modeName(p.mode));
    if (p.start)
        o.insert(QStringLiteral("start"), PolicyTime::toIso(*p.start));
    if (p.end)
        o.insert(QStringLiteral("end"), PolicyTime::toIso(*p.end));
    QJsonArray ranges;
    for (const Cidr &c : p.sourceRanges)
        ranges.append(c.toString());
    o.insert(QStringLiteral("sourceRanges"), ranges);
    if (p.updatedAt != 0)
        o.insert(QStringLiteral("updatedAt"), PolicyTime::toIso(p.updatedAt));
    if (!p.updatedBy.isEmpty())
        o.insert(QStringLiteral("updatedBy"), p.updatedBy);
    return o;
}

QJsonObject PolicyJson::groupToJson(const SenderGroup &g)
{
    QJsonArray members;
    for (const GroupMember &m : g.members)
        members.append(m.text());
    QJsonObject o{{QStringLiteral("id"), g.id},
                  {QStringLiteral("name"), g.name},
                  {QStringLiteral("kind"), SenderGroup::kindName(g.kind)},
                  {QStringLiteral("version"), qint64(g.version)},
                  {QStringLiteral("members"), members}};
    if (g.updatedAt != 0)
        o.insert(QStringLiteral("updatedAt"), PolicyTime::toIso(g.updatedAt));
    if (!g.updatedBy.isEmpty())
        o.insert(QStringLiteral("updatedBy"), g.updatedBy);
    return o;
}

QJsonObject PolicyJson::autoAllowToJson(const AutoAllowEntry &e)
{
    return QJsonObject{{QStringLiteral("internal"), e.internalAddress},
                       {QStringLiteral("external"), e.externalAddress},
                       {QStringLiteral("createdAt"), PolicyTime::toIso(e.createdAt)},
                       {QStringLiteral("expiresAt"), PolicyTime::toIso(e.expiresAt)}};
}

QJsonObject PolicyJson::internalToJson(const InternalConfig &internal)
{
    QJsonArray domains;
    for (const InternalDomain &d : internal.domains) {
        domains.append(QJsonObject{{QStringLiteral("domain"), d.domain},
                                   {QStringLiteral("includeSubdomains"), d.includeSubdomains}});
    }
    QJsonArray networks;
    for (const Cidr &c : internal.networks)
        networks.append(c.toString());
    return QJsonObject{{QStringLiteral("domains"), domains},
                       {QStringLiteral("networks"), networks},
                       {QStringLiteral("version"), qint64(internal.version)}};
}

QJsonObject PolicyJson::toJson(const PolicyDocument &doc)
{
    QJsonArray policies, groups, allow;
    for (const Policy &p : doc.policies)
        policies.append(policyToJson(p, doc.groups));
    for (const SenderGroup &g : doc.groups)
        groups.append(groupToJson(g));
    for (const AutoAllowEntry &e : doc.autoAllow)
        allow.append(autoAllowToJson(e));
    return QJsonObject{{QStringLiteral("format"), 1},
                       {QStringLiteral("policies"), policies},
                       {QStringLiteral("groups"), groups},
                       {QStringLiteral("autoAllow"), allow},
                       {QStringLiteral("internal"), internalToJson(doc.internal)}};
}

QByteArray PolicyJson::write(const PolicyDocument &document, QJsonDocument::JsonFormat format)
{
    return QJsonDocument(toJson(document)).toJson(format);
}

} // namespace greygate
