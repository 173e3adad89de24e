// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyJsonReader.h"

#include "MailAddress.h"
#include "PolicyJson.h"
#include "PolicyTime.h"
#include "PolicyValidator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace greygate {

namespace {

QString at(const QString &path, QStringView key)
{
    return path.isEmpty() ? key.toString() : path + u'.' + key;
}

QString item(const QString &path, qsizetype i)
{
    return path + QStringLiteral("[%1]").arg(i);
}

// Values quoted in messages are bounded and printable: the document may be hostile.
QString quoted(const QString &s)
{
    QString t = s.first(qMin<qsizetype>(s.size(), 80));
    for (QChar &c : t) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = u'?';
    }
    return u'"' + t + (s.size() > 80 ? QStringLiteral("...\"") : QStringLiteral("\""));
}

constexpr qint64 kMaxId = qint64(1) << 53; // exact in a JSON number

} // namespace

bool PolicyJsonReader::fail(const QString &path, const QString &message)
{
    if (m_error.isEmpty())
        m_error = path + QStringLiteral(": ") + message;
    return false;
}

bool PolicyJsonReader::onlyKnown(const QJsonObject &o, const QString &path,
                                 std::initializer_list<QStringView> known)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        bool ok = false;
        for (QStringView k : known)
            ok = ok || it.key() == k;
        if (!ok)
            return fail(at(path, it.key()), QStringLiteral("unknown field"));
    }
    return true;
}

bool PolicyJsonReader::string(const QJsonObject &o, QStringView key, const QString &path,
                              QString *out, bool required)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined())
        return !required || fail(at(path, key), QStringLiteral("missing"));
    if (!v.isString())
        return fail(at(path, key), QStringLiteral("must be a string"));
    *out = v.toString();
    return true;
}

bool PolicyJsonReader::boolean(const QJsonObject &o, QStringView key, const QString &path,
                               bool *out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined())
        return true;
    if (!v.isBool())
        return fail(at(path, key), QStringLiteral("must be true or false"));
    *out = v.toBool();
    return true;
}

bool PolicyJsonReader::integer(const QJsonObject &o, QStringView key, const QString &path,
                               qint64 min, qint64 max, qint64 *out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined())
        return true;
    const double d = v.toDouble(-1e300);
    // The range first: converting a double outside qint64 is undefined (found by
    // fuzz_policy_document).
    if (!v.isDouble() || d < double(min) || d > double(max) || d != double(qint64(d)))
        return fail(at(path, key),
                    QStringLiteral("must be an integer from %1 to %2").arg(min).arg(max));
    *out = qint64(d);
    return true;
}

bool PolicyJsonReader::time(const QJsonObject &o, QStringView key, const QString &path,
                            std::optional<Seconds> *out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return true;
    const std::optional<Seconds> t =
        v.isString() ? PolicyTime::fromIso(v.toString()) : std::nullopt;
    if (!t)
        return fail(at(path, key), (v.isString() ? quoted(v.toString()) : QStringLiteral("value")) +
                                       QStringLiteral(" is not a date-time with a zone, like "
                                                      "2025-03-01T00:00:00Z"));
    *out = t;
    return true;
}

bool PolicyJsonReader::array(const QJsonObject &o, QStringView key, const QString &path,
                             QJsonArray *out)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined())
        return true;
    if (!v.isArray())
        return fail(at(path, key), QStringLiteral("must be an array"));
    *out = v.toArray();
    return true;
}

bool PolicyJsonReader::object(const QJsonValue &v, const QString &path, QJsonObject *out)
{
    if (!v.isObject())
        return fail(path, QStringLiteral("must be an object"));
    *out = v.toObject();
    return true;
}

bool PolicyJsonReader::specifier(const QJsonObject &o, const QString &path, bool from,
                                 const QList<SenderGroup> &groups, Policy *p)
{
    Specifier &s = from ? p->from : p->to;
    if (from) {
        if (!onlyKnown(o, path, {u"basedOn", u"type", u"value", u"includeSubdomains"}))
            return false;
        QString basis = QStringLiteral("envelope");
        if (!string(o, u"basedOn", path, &basis))
            return false;
        if (basis == u"envelope")
            p->fromBasis = AddressBasis::Envelope;
        else if (basis == u"header")
            p->fromBasis = AddressBasis::Header;
        else if (basis == u"both")
            p->fromBasis = AddressBasis::Both;
        else
            return fail(at(path, u"basedOn"),
                        quoted(basis) + QStringLiteral(" is not envelope, header or both"));
    } else if (!onlyKnown(o, path, {u"type", u"value", u"includeSubdomains"})) {
        return false;
    }
    QString type;
    if (!string(o, u"type", path, &type, true))
        return false;
    if (!Specifier::typeFromName(type, &s.type))
        return fail(at(path, u"type"),
                    quoted(type) + QStringLiteral(" is not everyone, internal, external, domain, "
                                                  "group or address"));
    QString value;
    if (!string(o, u"value", path, &value) ||
        !boolean(o, u"includeSubdomains", path, &s.includeSubdomains))
        return false;
    const bool needsValue = s.type == SpecifierType::Domain || s.type == SpecifierType::Address ||
                            s.type == SpecifierType::Group;
    if (needsValue && value.trimmed().isEmpty())
        return fail(at(path, u"value"), QStringLiteral("missing for type %1").arg(type));
    if (!needsValue && o.contains(u"value"))
        return fail(at(path, u"value"), QStringLiteral("type %1 takes no value").arg(type));
    if (o.contains(u"includeSubdomains") && s.type != SpecifierType::Domain)
        return fail(at(path, u"includeSubdomains"), QStringLiteral("only for type domain"));
    if (s.type == SpecifierType::Group) {
        for (const SenderGroup &g : groups) {
            if (g.name.compare(value.trimmed(), Qt::CaseInsensitive) == 0)
                s.groupId = g.id;
        }
        if (s.groupId == 0)
            return fail(at(path, u"value"), QStringLiteral("unknown group ") + quoted(value));
    } else if (needsValue) {
        s.value = MailAddress::normalise(value);
    }
    return true;
}

bool PolicyJsonReader::policy(const QJsonValue &v, const QString &path,
                              const QList<SenderGroup> &groups, Policy *p)
{
    QJsonObject o;
    if (!object(v, path, &o) ||
        !onlyKnown(o, path,
                   {u"id", u"version", u"narrative", u"action", u"from", u"to", u"enabled",
                    u"start", u"end", u"override", u"bidirectional", u"sourceRanges", u"updatedAt",
                    u"updatedBy", u"mode"}))
        return false;
    qint64 version = 0;
    QString action;
    QString mode;
    std::optional<Seconds> updatedAt;
    QJsonArray ranges;
    if (!integer(o, u"id", path, 1, kMaxId, &p->id) ||
        !integer(o, u"version", path, 0, 0xffffffffLL, &version) ||
        !string(o, u"narrative", path, &p->narrative) ||
        !string(o, u"action", path, &action, true) || !boolean(o, u"enabled", path, &p->enabled) ||
        !time(o, u"start", path, &p->start) || !time(o, u"end", path, &p->end) ||
        !boolean(o, u"override", path, &p->override) ||
        !boolean(o, u"bidirectional", path, &p->bidirectional) ||
        !array(o, u"sourceRanges", path, &ranges) || !time(o, u"updatedAt", path, &updatedAt) ||
        !string(o, u"updatedBy", path, &p->updatedBy) || !string(o, u"mode", path, &mode))
        return false;
    if (mode.isEmpty() || mode == u"enforce")
        p->mode = PolicyMode::Enforce;
    else if (mode == u"shadow")
        p->mode = PolicyMode::Shadow;
    else
        return fail(at(path, u"mode"), quoted(mode) + QStringLiteral(" is not enforce or shadow"));
    p->version = quint32(version);
    p->updatedAt = updatedAt.value_or(0);
    if (action == u"greylist")
        p->action = PolicyAction::Greylist;
    else if (action == u"bypass")
        p->action = PolicyAction::Bypass;
    else
        return fail(at(path, u"action"),
                    quoted(action) + QStringLiteral(" is not greylist or bypass"));
    for (const bool isFrom : {true, false}) {
        const QStringView key = isFrom ? u"from" : u"to";
        if (!o.contains(key))
            return fail(at(path, key), QStringLiteral("missing"));
        QJsonObject side;
        if (!object(o.value(key), at(path, key), &side) ||
            !specifier(side, at(path, key), isFrom, groups, p))
            return false;
    }
    if (ranges.size() > PolicyValidator::kMaxSourceRanges)
        return fail(at(path, u"sourceRanges"), QStringLiteral("too many ranges"));
    for (qsizetype i = 0; i < ranges.size(); ++i) {
        const QString rangePath = item(at(path, u"sourceRanges"), i);
        if (!ranges[i].isString())
            return fail(rangePath, QStringLiteral("must be a string"));
        QString error;
        const std::optional<Cidr> cidr = Cidr::parse(QStringView(ranges[i].toString()), &error);
        if (!cidr)
            return fail(rangePath, error);
        p->sourceRanges.append(*cidr);
    }
    const QString problem = PolicyValidator::policyProblem(*p, groups, path);
    return problem.isEmpty() || (m_error = problem, false);
}

bool PolicyJsonReader::group(const QJsonValue &v, const QString &path, SenderGroup *g)
{
    QJsonObject o;
    if (!object(v, path, &o) ||
        !onlyKnown(o, path,
                   {u"id", u"name", u"kind", u"version", u"members", u"updatedAt", u"updatedBy"}))
        return false;
    qint64 version = 0;
    QString kind;
    std::optional<Seconds> updatedAt;
    QJsonArray members;
    if (!integer(o, u"id", path, 1, kMaxId, &g->id) || !string(o, u"name", path, &g->name, true) ||
        !string(o, u"kind", path, &kind) ||
        !integer(o, u"version", path, 0, 0xffffffffLL, &version) ||
        !array(o, u"members", path, &members) || !time(o, u"updatedAt", path, &updatedAt) ||
        !string(o, u"updatedBy", path, &g->updatedBy))
        return false;
    g->name = g->name.trimmed();
    g->version = quint32(version);
    g->updatedAt = updatedAt.value_or(0);
    g->kind = SenderGroup::kindForName(g->name);
    if (o.contains(u"kind") && !SenderGroup::kindFromName(kind, &g->kind))
        return fail(at(path, u"kind"),
                    quoted(kind) + QStringLiteral(" is not custom, permitted or blocked"));
    m_members += members.size();
    if (m_members > PolicyValidator::kMaxMembers)
        return fail(at(path, u"members"), QStringLiteral("too many members in all groups"));
    g->members.reserve(members.size());
    for (qsizetype i = 0; i < members.size(); ++i) {
        if (!members[i].isString())
            return fail(item(at(path, u"members"), i), QStringLiteral("must be a string"));
        QString error;
        const std::optional<GroupMember> m = GroupMember::parse(members[i].toString(), &error);
        if (!m)
            return fail(item(at(path, u"members"), i), error);
        g->members.append(*m);
    }
    return true;
}

bool PolicyJsonReader::autoAllow(const QJsonValue &v, const QString &path, AutoAllowEntry *e)
{
    QJsonObject o;
    std::optional<Seconds> created, expires;
    if (!object(v, path, &o) ||
        !onlyKnown(o, path, {u"internal", u"external", u"createdAt", u"expiresAt"}) ||
        !string(o, u"internal", path, &e->internalAddress, true) ||
        !string(o, u"external", path, &e->externalAddress, true) ||
        !time(o, u"createdAt", path, &created) || !time(o, u"expiresAt", path, &expires))
        return false;
    if (!created || !expires)
        return fail(at(path, created ? u"expiresAt" : u"createdAt"), QStringLiteral("missing"));
    e->internalAddress = MailAddress::normalise(e->internalAddress);
    e->externalAddress = MailAddress::normalise(e->externalAddress);
    e->createdAt = *created;
    e->expiresAt = *expires;
    const QString problem = PolicyValidator::autoAllowProblem(*e, path);
    return problem.isEmpty() || (m_error = problem, false);
}

bool PolicyJsonReader::internal(const QJsonValue &v, const QString &path, InternalConfig *out)
{
    QJsonObject o;
    QJsonArray domains, networks;
    qint64 version = 0;
    if (!object(v, path, &o) || !onlyKnown(o, path, {u"domains", u"networks", u"version"}) ||
        !array(o, u"domains", path, &domains) || !array(o, u"networks", path, &networks) ||
        !integer(o, u"version", path, 0, 0xffffffffLL, &version))
        return false;
    out->version = quint32(version);
    for (qsizetype i = 0; i < domains.size(); ++i) {
        const QString p = item(at(path, u"domains"), i);
        InternalDomain d;
        if (domains[i].isString()) {
            d.domain = domains[i].toString();
        } else {
            QJsonObject od;
            if (!object(domains[i], p, &od) ||
                !onlyKnown(od, p, {u"domain", u"includeSubdomains"}) ||
                !string(od, u"domain", p, &d.domain, true) ||
                !boolean(od, u"includeSubdomains", p, &d.includeSubdomains))
                return false;
        }
        d.domain = MailAddress::normalise(d.domain);
        if (const QString e = MailAddress::domainProblem(d.domain); !e.isEmpty())
            return fail(p, quoted(d.domain) + QStringLiteral(": ") + e);
        out->domains.append(d);
    }
    for (qsizetype i = 0; i < networks.size(); ++i) {
        const QString p = item(at(path, u"networks"), i);
        if (!networks[i].isString())
            return fail(p, QStringLiteral("must be a string"));
        QString error;
        const std::optional<Cidr> cidr = Cidr::parse(QStringView(networks[i].toString()), &error);
        if (!cidr)
            return fail(p, error);
        out->networks.append(*cidr);
    }
    return true;
}

std::optional<PolicyDocument> PolicyJsonReader::read(QByteArrayView bytes, QString *error)
{
    m_error.clear();
    m_members = 0;
    const auto refuse = [&](const QString &message) -> std::optional<PolicyDocument> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (bytes.size() > PolicyJson::kMaxDocumentBytes)
        return refuse(
            QStringLiteral("document larger than %1 bytes").arg(PolicyJson::kMaxDocumentBytes));
    QJsonParseError parseError;
    const QJsonDocument json =
        QJsonDocument::fromJson(QByteArray::fromRawData(bytes.data(), bytes.size()), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return refuse(QStringLiteral("not JSON: %1 at offset %2")
                          .arg(parseError.errorString())
                          .arg(parseError.offset));
    if (!json.isObject())
        return refuse(QStringLiteral("the document must be a JSON object"));
    const QJsonObject root = json.object();
    PolicyDocument doc;
    QJsonArray policies, groups, allow;
    qint64 format = 1;
    if (!onlyKnown(root, QString(),
                   {u"format", u"policies", u"groups", u"autoAllow", u"internal"}) ||
        !integer(root, u"format", QString(), 1, 1, &format) ||
        !array(root, u"policies", QString(), &policies) ||
        !array(root, u"groups", QString(), &groups) ||
        !array(root, u"autoAllow", QString(), &allow))
        return refuse(m_error);
    if (policies.size() > PolicyValidator::kMaxPolicies ||
        groups.size() > PolicyValidator::kMaxGroups ||
        allow.size() > PolicyValidator::kMaxAutoAllow)
        return refuse(QStringLiteral("too many policies, groups or auto allow entries"));
    // Groups first: policies name them.
    for (qsizetype i = 0; i < groups.size(); ++i) {
        SenderGroup g;
        if (!group(groups[i], item(QStringLiteral("groups"), i), &g))
            return refuse(m_error);
        doc.groups.append(std::move(g));
    }
    PolicyJson::assignIds(&doc.groups);
    for (qsizetype i = 0; i < policies.size(); ++i) {
        Policy p;
        if (!policy(policies[i], item(QStringLiteral("policies"), i), doc.groups, &p))
            return refuse(m_error);
        doc.policies.append(std::move(p));
    }
    PolicyJson::assignIds(&doc.policies);
    for (qsizetype i = 0; i < allow.size(); ++i) {
        AutoAllowEntry e;
        if (!autoAllow(allow[i], item(QStringLiteral("autoAllow"), i), &e))
            return refuse(m_error);
        doc.autoAllow.append(e);
    }
    doc.hasInternal = root.contains(u"internal");
    if (doc.hasInternal &&
        !internal(root.value(u"internal"), QStringLiteral("internal"), &doc.internal))
        return refuse(m_error);
    if (const QString problem = PolicyValidator::documentProblem(doc); !problem.isEmpty())
        return refuse(problem);
    return doc;
}

std::optional<Policy> PolicyJsonReader::readPolicy(const QJsonObject &object,
                                                   const QList<SenderGroup> &groups, QString *error)
{
    m_error.clear();
    Policy p;
    if (!policy(object, QStringLiteral("policy"), groups, &p)) {
        if (error)
            *error = m_error;
        return std::nullopt;
    }
    return p;
}

std::optional<SenderGroup> PolicyJsonReader::readGroup(const QJsonObject &object, QString *error)
{
    m_error.clear();
    m_members = 0;
    SenderGroup g;
    if (!group(object, QStringLiteral("group"), &g)) {
        if (error)
            *error = m_error;
        return std::nullopt;
    }
    return g;
}

} // namespace greygate
