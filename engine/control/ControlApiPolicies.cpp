// SPDX-License-Identifier: GPL-3.0-or-later
// ControlApi's policy, group and auto allow methods: PolicyJson's objects on the wire, every
// change through GreylistPolicyHandler::changePolicies (applied, audited and committed).
#include "ControlApi.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policy/GroupMemberCsv.h"
#include "policy/MailAddress.h"
#include "policy/PolicyJson.h"
#include "policy/PolicyJsonReader.h"
#include "policy/PolicySet.h"
#include "policy/UnreachablePolicies.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/JsonFields.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace greygate {

using namespace protocol;

namespace {

constexpr qint64 kMaxId = JsonFields::kMaxExactInteger;

ProtocolError failed(JsonFields &f)
{
    return f.error();
}

EventType eventTypeOf(ChangeObject object)
{
    switch (object) {
    case ChangeObject::Policy:
    case ChangeObject::Internal:
        return EventType::PolicyChange;
    case ChangeObject::Group:
        return EventType::GroupChange;
    case ChangeObject::AutoAllow:
        return EventType::AutoAllowChange;
    }
    return EventType::PolicyChange;
}

// The policy reader names fields from "policy" / "group"; on the wire they sit in params.
QString wirePath(const QString &message)
{
    return QStringLiteral("params.") + message.section(u':', 0, 0);
}

std::optional<QList<GroupMember>> membersOf(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    QJsonArray list;
    if (!f.array(u"members", &list, true, 100'000)) {
        *error = f.error();
        return std::nullopt;
    }
    QList<GroupMember> members;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString path = QStringLiteral("params.members[%1]").arg(i);
        if (!list[i].isString()) {
            *error = ProtocolError::badRequest(path, QStringLiteral("must be a string"));
            return std::nullopt;
        }
        QString why;
        const std::optional<GroupMember> m = GroupMember::parse(list[i].toString(), &why);
        if (!m) {
            *error = ProtocolError::badRequest(path, why);
            return std::nullopt;
        }
        members.append(*m);
    }
    return members;
}

// params {id} of a get.
bool readId(JsonFields &f, qint64 *id, ProtocolError *error)
{
    f.onlyKnown({u"id"});
    if (f.integer(u"id", id, 1, kMaxId, true))
        return true;
    *error = f.error();
    return false;
}

// params {id, version, ...known} of a delete or a member change: the version it was made from.
bool readIdVersion(JsonFields &f, std::initializer_list<QStringView> known, qint64 *id,
                   qint64 *version, ProtocolError *error)
{
    f.onlyKnown(known);
    f.integer(u"id", id, 1, kMaxId, true);
    if (f.integer(u"version", version, 0, 0xffffffffLL, true))
        return true;
    *error = f.error();
    return false;
}

// params {<key>: object} of a create or an update; an update names the id and the version it
// was made from, so that two admins cannot overwrite each other's change unknowingly.
std::optional<QJsonObject> editedObject(JsonFields &f, const QString &key, bool update,
                                        ProtocolError *error)
{
    QJsonObject object;
    f.onlyKnown({key});
    if (!f.object(key, &object, true)) {
        *error = f.error();
        return std::nullopt;
    }
    if (update && (!object.value(QStringLiteral("id")).isDouble() ||
                   !object.value(QStringLiteral("version")).isDouble())) {
        *error = ProtocolError::badRequest(
            QStringLiteral("params.") + key + QStringLiteral(".version"),
            QStringLiteral("an update names the %1's id and the version it was made from")
                .arg(key));
        return std::nullopt;
    }
    return object;
}

} // namespace

ControlApi::Result ControlApi::change(const std::function<ChangeOutcome(PolicySet &)> &change,
                                      const ControlCaller &caller, Error *error)
{
    if (!prepareCommit(error))
        return std::nullopt;
    const quint64 failedBefore = m_handler.stats().failedCommits;
    const ChangeOutcome outcome = m_handler.changePolicies(change);
    if (m_handler.stats().failedCommits != failedBefore) {
        *error = Error{ErrorCode::Internal, outcome.error, QString()};
        return std::nullopt;
    }
    switch (outcome.code) {
    case ChangeError::None:
        break;
    case ChangeError::Invalid:
        *error = Error{ErrorCode::BadRequest, outcome.error, QString()};
        return std::nullopt;
    case ChangeError::NotFound:
        *error = Error{ErrorCode::NotFound, outcome.error, QString()};
        return std::nullopt;
    case ChangeError::StaleVersion:
        *error = Error{ErrorCode::StaleVersion, outcome.error, QString()};
        return std::nullopt;
    case ChangeError::InUse:
    case ChangeError::Full:
        *error = Error{ErrorCode::Conflict, outcome.error, QString()};
        return std::nullopt;
    }
    for (const PolicyChange &c : outcome.changes) {
        Event e;
        e.type = eventTypeOf(c.object);
        e.time = m_clock.now();
        e.subject = c.objectId;
        e.action = c.audit ? c.audit->what
                           : (c.removed ? QStringLiteral("removed") : QStringLiteral("changed"));
        e.who = caller.who;
        e.ref = c.version;
        m_events.append(std::move(e));
    }
    return QJsonObject{{QStringLiteral("id"), outcome.id},
                       {QStringLiteral("version"), qint64(outcome.version)},
                       {QStringLiteral("revision"), qint64(m_handler.policies().set().revision())},
                       {QStringLiteral("changes"), outcome.changes.size()}};
}

ControlApi::Result ControlApi::policyCall(const QString &method, const QJsonObject &params,
                                          const ControlCaller &caller, Error *error)
{
    const PolicySet &set = m_handler.policies().set();
    JsonFields f(params, QStringLiteral("params"));
    const Seconds now = m_clock.now();
    if (method == u"policy.list") {
        if (!f.onlyKnown({})) {
            *error = failed(f);
            return std::nullopt;
        }
        const PolicyDocument doc = set.document();
        QJsonArray list;
        for (const Policy &p : doc.policies)
            list.append(PolicyJson::policyToJson(p, doc.groups));
        QJsonArray order;
        for (qint64 id : m_handler.policies().currentIndex().precedenceOrder())
            order.append(id);
        return QJsonObject{
            {QStringLiteral("revision"), qint64(set.revision())},
            {QStringLiteral("policies"), list},
            {QStringLiteral("precedence"), order},
            {QStringLiteral("shadow"), shadowCounts(doc.policies)},
            {QStringLiteral("unreachable"),
             UnreachablePolicies::toJson(UnreachablePolicies::find(doc.policies, now))}};
    }
    if (method == u"policy.get") {
        qint64 id = 0;
        if (!readId(f, &id, error))
            return std::nullopt;
        const Policy *p = set.policy(id);
        if (!p) {
            *error = Error{ErrorCode::NotFound, QStringLiteral("no policy %1").arg(id), QString()};
            return std::nullopt;
        }
        return PolicyJson::policyToJson(*p, set.document().groups);
    }
    if (method == u"policy.create" || method == u"policy.update") {
        const bool update = method == u"policy.update";
        const std::optional<QJsonObject> object =
            editedObject(f, QStringLiteral("policy"), update, error);
        if (!object)
            return std::nullopt;
        QString why;
        const std::optional<Policy> p =
            PolicyJsonReader().readPolicy(*object, set.document().groups, &why);
        if (!p) {
            *error = ProtocolError::badRequest(wirePath(why), why);
            return std::nullopt;
        }
        return change(
            [&](PolicySet &s) {
                return update ? s.updatePolicy(*p, caller.who, now)
                              : s.createPolicy(*p, caller.who, now);
            },
            caller, error);
    }
    if (method == u"policy.delete") {
        qint64 id = 0, version = 0;
        if (!readIdVersion(f, {u"id", u"version"}, &id, &version, error))
            return std::nullopt;
        return change(
            [&](PolicySet &s) { return s.deletePolicy(id, quint32(version), caller.who, now); },
            caller, error);
    }
    if (method == u"policy.import") {
        QJsonObject document;
        f.onlyKnown({u"document"});
        if (!f.object(u"document", &document, true)) {
            *error = failed(f);
            return std::nullopt;
        }
        QString why;
        std::optional<PolicyDocument> doc =
            PolicyJson::parse(QJsonDocument(document).toJson(QJsonDocument::Compact), &why);
        if (!doc) {
            *error = ProtocolError::badRequest(QStringLiteral("params.document"), why);
            return std::nullopt;
        }
        return change([&](PolicySet &s) { return s.importDocument(*doc, caller.who, now); }, caller,
                      error);
    }
    if (method == u"policy.export") {
        if (!f.onlyKnown({})) {
            *error = failed(f);
            return std::nullopt;
        }
        return PolicyJson::toJson(set.document());
    }
    *error = ProtocolError::badRequest(QStringLiteral("method"), QStringLiteral("unknown method"));
    return std::nullopt;
}

ControlApi::Result ControlApi::explain(const QJsonObject &params, Error *error)
{
    JsonFields f(params, QStringLiteral("params"));
    QString client, sender, recipient, headerFrom, sasl;
    f.onlyKnown({u"client", u"sender", u"recipient", u"headerFrom", u"saslUsername"});
    f.string(u"client", &client, true, 512);
    f.string(u"sender", &sender, true, 512);
    f.string(u"recipient", &recipient, true, 512);
    f.string(u"headerFrom", &headerFrom, false, 512);
    f.string(u"saslUsername", &sasl, false, 512);
    if (!f.ok()) {
        *error = failed(f);
        return std::nullopt;
    }
    const QByteArray c = client.toUtf8(), s = sender.toUtf8(), r = recipient.toUtf8(),
                     h = headerFrom.toUtf8(), u = sasl.toUtf8();
    PolicyQuery q;
    q.clientAddress = c;
    q.sender = s;
    q.recipient = r;
    q.headerFrom = h;
    q.headerFromKnown = f.has(u"headerFrom");
    q.saslUsername = u;
    q.now = m_clock.now();
    const PolicyState &state = m_handler.policies();
    QJsonObject out = state.currentIndex().explain(q, &state.set().autoAllow()).toJson();
    // What greylisting itself would say about this triplet now.
    if (const std::optional<TripletKey> key = m_engine.normaliser().normalise(c, s, r)) {
        const std::optional<TripletState> t = m_engine.triplet(*key);
        out.insert(QStringLiteral("triplet"),
                   QJsonObject{{QStringLiteral("client"), QString::fromUtf8(key->client)},
                               {QStringLiteral("sender"), QString::fromUtf8(key->sender)},
                               {QStringLiteral("recipient"), QString::fromUtf8(key->recipient)},
                               // Which key, and why (docs/spf.md); with --triplet-key=spf
                               // ControlApiSpf.cpp asks SPF and says so instead.
                               {QStringLiteral("key"), QString::fromUtf8(key->client)},
                               {QStringLiteral("keyWhy"), QString::fromUtf8(m_handler.ipKeyWhy())},
                               {QStringLiteral("state"), !t ? QStringLiteral("unknown")
                                                         : t->status == TripletStatus::Passed
                                                             ? QStringLiteral("passed")
                                                             : QStringLiteral("deferred")}});
    }
    return out;
}

ControlApi::Result ControlApi::groupCall(const QString &method, const QJsonObject &params,
                                         const ControlCaller &caller, Error *error)
{
    const PolicySet &set = m_handler.policies().set();
    JsonFields f(params, QStringLiteral("params"));
    const Seconds now = m_clock.now();
    if (method == u"group.list") {
        if (!f.onlyKnown({})) {
            *error = failed(f);
            return std::nullopt;
        }
        QJsonArray list;
        for (const SenderGroup &g : set.document().groups) {
            QJsonObject o = PolicyJson::groupToJson(g);
            o.remove(QStringLiteral("members")); // group.get has them: a list stays small
            o.insert(QStringLiteral("memberCount"), g.members.size());
            list.append(o);
        }
        return QJsonObject{{QStringLiteral("revision"), qint64(set.revision())},
                           {QStringLiteral("groups"), list}};
    }
    qint64 id = 0, version = 0;
    if (method == u"group.get") {
        if (!readId(f, &id, error))
            return std::nullopt;
        const SenderGroup *g = set.group(id);
        if (!g) {
            *error = Error{ErrorCode::NotFound, QStringLiteral("no group %1").arg(id), QString()};
            return std::nullopt;
        }
        return PolicyJson::groupToJson(*g);
    }
    if (method == u"group.create" || method == u"group.update") {
        const bool update = method == u"group.update";
        const std::optional<QJsonObject> object =
            editedObject(f, QStringLiteral("group"), update, error);
        if (!object)
            return std::nullopt;
        QString why;
        const std::optional<SenderGroup> g = PolicyJsonReader().readGroup(*object, &why);
        if (!g) {
            *error = ProtocolError::badRequest(wirePath(why), why);
            return std::nullopt;
        }
        return change(
            [&](PolicySet &s) {
                return update ? s.updateGroup(*g, caller.who, now)
                              : s.createGroup(*g, caller.who, now);
            },
            caller, error);
    }
    if (method == u"group.delete") {
        if (!readIdVersion(f, {u"id", u"version"}, &id, &version, error))
            return std::nullopt;
        return change(
            [&](PolicySet &s) { return s.deleteGroup(id, quint32(version), caller.who, now); },
            caller, error);
    }
    if (method == u"group.members.add" || method == u"group.members.remove") {
        if (!readIdVersion(f, {u"id", u"version", u"members"}, &id, &version, error))
            return std::nullopt;
        const std::optional<QList<GroupMember>> members = membersOf(params, error);
        if (!members)
            return std::nullopt;
        const bool add = method == u"group.members.add";
        return change(
            [&](PolicySet &s) {
                return add ? s.addMembers(id, quint32(version), *members, caller.who, now)
                           : s.removeMembers(id, quint32(version), *members, caller.who, now);
            },
            caller, error);
    }
    if (method == u"group.import")
        return groupImport(params, caller, error);
    if (method == u"group.export") {
        if (!readId(f, &id, error))
            return std::nullopt;
        const SenderGroup *g = set.group(id);
        if (!g) {
            *error = Error{ErrorCode::NotFound, QStringLiteral("no group %1").arg(id), QString()};
            return std::nullopt;
        }
        return QJsonObject{
            {QStringLiteral("id"), g->id},
            {QStringLiteral("name"), g->name},
            {QStringLiteral("version"), qint64(g->version)},
            {QStringLiteral("members"), g->members.size()},
            {QStringLiteral("csv"), QString::fromUtf8(GroupMemberCsv::write(g->members))}};
    }
    *error = ProtocolError::badRequest(QStringLiteral("method"), QStringLiteral("unknown method"));
    return std::nullopt;
}

ControlApi::Result ControlApi::groupImport(const QJsonObject &params, const ControlCaller &caller,
                                           Error *error)
{
    // The whole file is parsed before anything changes: one bad line refuses the import,
    // named by its number, and the group stays as it was.
    JsonFields f(params, QStringLiteral("params"));
    qint64 id = 0, version = 0;
    QString csv;
    bool replace = false;
    f.onlyKnown({u"id", u"version", u"csv", u"replace"});
    f.integer(u"id", &id, 1, kMaxId, true);
    f.integer(u"version", &version, 0, 0xffffffffLL, true);
    f.boolean(u"replace", &replace);
    if (!f.string(u"csv", &csv, true, GroupMemberCsv::kMaxBytes)) {
        *error = failed(f);
        return std::nullopt;
    }
    QString why;
    const std::optional<QList<GroupMember>> members = GroupMemberCsv::parse(csv.toUtf8(), &why);
    if (!members) {
        *error = ProtocolError::badRequest(QStringLiteral("params.csv"), why);
        return std::nullopt;
    }
    const Seconds now = m_clock.now();
    std::optional<QJsonValue> result = change(
        [&](PolicySet &s) {
            if (!replace)
                return s.addMembers(id, quint32(version), *members, caller.who, now);
            const SenderGroup *current = s.group(id);
            if (!current)
                return ChangeOutcome{
                    ChangeError::NotFound, QStringLiteral("no group %1").arg(id), 0, 0, {}};
            SenderGroup g = *current;
            g.version = quint32(version);
            g.members = *members;
            return s.updateGroup(g, caller.who, now);
        },
        caller, error);
    if (!result)
        return std::nullopt;
    QJsonObject o = result->toObject();
    o.insert(QStringLiteral("read"), members->size());
    return o;
}

ControlApi::Result ControlApi::autoAllowCall(const QString &method, const QJsonObject &params,
                                             const ControlCaller &caller, Error *error)
{
    const PolicySet &set = m_handler.policies().set();
    JsonFields f(params, QStringLiteral("params"));
    const Seconds now = m_clock.now();
    if (method == u"autoallow.list") {
        qint64 offset = 0, limit = 100;
        QString filter;
        f.onlyKnown({u"offset", u"limit", u"filter"});
        f.integer(u"offset", &offset, 0, 100'000'000);
        f.integer(u"limit", &limit, 1, 1000);
        if (!f.string(u"filter", &filter, false, 512)) {
            *error = failed(f);
            return std::nullopt;
        }
        qint64 total = 0;
        QJsonArray list;
        for (const AutoAllowEntry &e : set.autoAllow().entries()) {
            if (!filter.isEmpty() && !e.externalAddress.contains(filter, Qt::CaseInsensitive) &&
                !e.internalAddress.contains(filter, Qt::CaseInsensitive))
                continue;
            if (total >= offset && list.size() < limit)
                list.append(PolicyJson::autoAllowToJson(e));
            ++total;
        }
        return QJsonObject{{QStringLiteral("total"), total},
                           {QStringLiteral("offset"), offset},
                           {QStringLiteral("entries"), list}};
    }
    QString external, internal;
    if (method == u"autoallow.add") {
        qint64 expiresAt = 0;
        f.onlyKnown({u"external", u"internal", u"expiresAt"});
        f.string(u"external", &external, true, 512);
        f.string(u"internal", &internal, true, 512);
        if (!f.integer(u"expiresAt", &expiresAt, now + 1, JsonFields::kMaxExactInteger, true)) {
            *error = failed(f);
            return std::nullopt;
        }
        AutoAllowEntry e;
        e.externalAddress = external.toLower();
        e.internalAddress = internal.toLower();
        e.createdAt = now;
        e.expiresAt = expiresAt;
        return change([&](PolicySet &s) { return s.addAutoAllow(e, caller.who, now); }, caller,
                      error);
    }
    if (method == u"autoallow.remove") {
        f.onlyKnown({u"external", u"internal"});
        f.string(u"external", &external, true, 512);
        if (!f.string(u"internal", &internal, true, 512)) {
            *error = failed(f);
            return std::nullopt;
        }
        return change(
            [&](PolicySet &s) {
                return s.removeAutoAllow(external.toLower(), internal.toLower(), caller.who, now);
            },
            caller, error);
    }
    *error = ProtocolError::badRequest(QStringLiteral("method"), QStringLiteral("unknown method"));
    return std::nullopt;
}

ControlApi::Result ControlApi::permitSender(const TripletKey &key, const ControlCaller &caller,
                                            Error *error)
{
    if (key.sender.isEmpty()) {
        *error = ProtocolError::badRequest(QStringLiteral("params.sender"),
                                           QStringLiteral("the null sender cannot be permitted"));
        return std::nullopt;
    }
    QString why;
    const std::optional<GroupMember> member =
        GroupMember::parse(QString::fromUtf8(key.sender), &why);
    if (!member) {
        *error = ProtocolError::badRequest(QStringLiteral("params.sender"), why);
        return std::nullopt;
    }
    // The first Permitted Senders group, made when there is none.
    const SenderGroup *permitted = nullptr;
    const PolicyDocument doc = m_handler.policies().set().document();
    for (const SenderGroup &g : doc.groups) {
        if (g.kind == GroupKind::Permitted) {
            permitted = m_handler.policies().set().group(g.id);
            break;
        }
    }
    const Seconds now = m_clock.now();
    Result result;
    if (permitted) {
        const qint64 id = permitted->id;
        const quint32 version = permitted->version;
        if (permitted->members.contains(*member)) {
            result = QJsonObject{{QStringLiteral("id"), id},
                                 {QStringLiteral("version"), qint64(version)},
                                 {QStringLiteral("changes"), 0}};
        } else {
            result = change(
                [&](PolicySet &s) { return s.addMembers(id, version, {*member}, caller.who, now); },
                caller, error);
        }
    } else {
        SenderGroup g;
        g.name = QStringLiteral("Permitted Senders");
        g.kind = GroupKind::Permitted;
        g.members = {*member};
        result =
            change([&](PolicySet &s) { return s.createGroup(g, caller.who, now); }, caller, error);
    }
    if (!result)
        return std::nullopt;
    // The triplet goes too: its sender now bypasses greylisting, so its window would only
    // close as a false "Sender Failed to Retry".
    WriteBatch batch;
    if (m_engine.remove(key, batch)) {
        if (!commit(batch, error))
            return std::nullopt;
        queueChanged(QStringLiteral("queue.permit"), key, caller);
    }
    QJsonObject out = result->toObject();
    out.insert(QStringLiteral("member"), member->text());
    return out;
}

} // namespace greygate
