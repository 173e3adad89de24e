// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyState.h"

#include "policy/PolicyJson.h"
#include "store/Store.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QMutexLocker>
#include <QSet>

namespace greygate {

namespace {

QByteArray compact(const QJsonObject &object)
{
    return object.isEmpty() ? QByteArray() : QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QString describe(const DocumentRecord &r)
{
    return QString::fromUtf8(r.id.left(200));
}

// A stored document's JSON object, or an error naming it.
std::optional<QJsonObject> objectOf(const DocumentRecord &r, QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(r.json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        *error =
            u"stored " + describe(r) + u": not a JSON object (" + parseError.errorString() + u')';
        return std::nullopt;
    }
    return doc.object();
}

} // namespace

PolicyState::PolicyState()
    : m_index(std::make_shared<const PolicyIndex>())
{}

std::shared_ptr<const PolicyIndex> PolicyState::index() const
{
    QMutexLocker lock(&m_indexLock);
    return m_index;
}

bool PolicyState::load(Store &store, QString *error)
{
    QList<DocumentRecord> records;
    if (!store.loadDocuments([&](DocumentRecord &&r) { records.append(std::move(r)); }, error))
        return false;
    quint64 revision = 0;
    if (!store.documentRevision(&revision, error))
        return false;
    const std::optional<PolicyDocument> doc = documentFrom(records, error);
    if (!doc)
        return false;
    m_set.restore(*doc, revision);
    rebuild();
    return true;
}

DocumentKind PolicyState::kindOf(ChangeObject object)
{
    switch (object) {
    case ChangeObject::Policy:
        return DocumentKind::Policy;
    case ChangeObject::Group:
        return DocumentKind::Group;
    case ChangeObject::AutoAllow:
        return DocumentKind::AutoAllow;
    case ChangeObject::Internal:
        return DocumentKind::Internal;
    }
    return DocumentKind::Policy;
}

DocumentRecord PolicyState::documentOf(const PolicyChange &change)
{
    DocumentRecord r;
    r.kind = kindOf(change.object);
    r.id = change.objectId.toUtf8();
    r.removed = change.removed;
    r.version = change.version;
    r.revision = change.revision;
    if (!change.removed)
        r.json = compact(change.value);
    return r;
}

AuditRecord PolicyState::auditOf(const AuditEntry &entry)
{
    AuditRecord a;
    a.revision = entry.revision;
    a.time = entry.time;
    a.who = entry.who.toUtf8();
    a.what = entry.what.toUtf8();
    a.objectId = entry.objectId.toUtf8();
    a.beforeJson = compact(entry.before);
    a.afterJson = compact(entry.after);
    return a;
}

std::optional<PolicyDocument> PolicyState::documentFrom(const QList<DocumentRecord> &records,
                                                        QString *error)
{
    QJsonArray policies, groups;
    QList<QJsonArray> allowChunks;
    std::optional<QJsonObject> internal;
    for (const DocumentRecord &r : records) {
        if (r.removed)
            continue;
        const std::optional<QJsonObject> o = objectOf(r, error);
        if (!o)
            return std::nullopt;
        switch (r.kind) {
        case DocumentKind::Policy:
            policies.append(*o);
            break;
        case DocumentKind::Group:
            groups.append(*o);
            break;
        case DocumentKind::AutoAllow:
            if (allowChunks.isEmpty() || allowChunks.last().size() >= kAutoAllowChunk)
                allowChunks.append(QJsonArray());
            allowChunks.last().append(*o);
            break;
        case DocumentKind::Internal:
            internal = *o;
            break;
        case DocumentKind::SenderRewrite:
            break; // not a policy: the daemon loads it (SenderRewriteDocument)
        }
    }

    QJsonObject main{{QStringLiteral("format"), 1},
                     {QStringLiteral("policies"), policies},
                     {QStringLiteral("groups"), groups}};
    if (internal)
        main.insert(QStringLiteral("internal"), *internal);
    QString why;
    std::optional<PolicyDocument> doc =
        PolicyJson::parse(QJsonDocument(main).toJson(QJsonDocument::Compact), &why);
    if (!doc) {
        *error = u"the stored policies do not form a valid document: " + why;
        return std::nullopt;
    }
    for (const QJsonArray &chunk : std::as_const(allowChunks)) {
        const QJsonObject part{{QStringLiteral("autoAllow"), chunk}};
        const std::optional<PolicyDocument> entries =
            PolicyJson::parse(QJsonDocument(part).toJson(QJsonDocument::Compact), &why);
        if (!entries) {
            *error = u"the stored auto allow entries are not valid: " + why;
            return std::nullopt;
        }
        doc->autoAllow.append(entries->autoAllow);
    }
    return doc;
}

ChangeOutcome PolicyState::change(const std::function<ChangeOutcome(PolicySet &)> &change,
                                  WriteBatch &batch)
{
    ChangeOutcome outcome = change(m_set);
    if (outcome.ok())
        appendRecords(outcome.changes, batch);
    return outcome;
}

bool PolicyState::learn(const AutoAllowEntry &entry, WriteBatch &batch)
{
    const ChangeOutcome outcome = m_set.learnAutoAllow(entry);
    if (!outcome.ok())
        return false;
    appendRecords(outcome.changes, batch);
    return true;
}

int PolicyState::expire(Seconds now, WriteBatch &batch)
{
    const ChangeOutcome outcome = m_set.expireAutoAllow(now);
    appendRecords(outcome.changes, batch);
    return int(outcome.changes.size());
}

void PolicyState::appendRecords(const QList<PolicyChange> &changes, WriteBatch &batch)
{
    bool structural = false;
    QSet<qint64> changedGroups;
    quint64 lastGroupRevision = 0;
    for (const PolicyChange &c : changes) {
        batch.documents.append(documentOf(c));
        if (c.audit)
            batch.audit.append(auditOf(*c.audit));
        if (c.object == ChangeObject::AutoAllow)
            continue;
        structural = true;
        if (c.object == ChangeObject::Group && !c.removed) {
            changedGroups.insert(c.objectId.sliced(c.objectId.indexOf(u':') + 1).toLongLong());
            lastGroupRevision = std::max(lastGroupRevision, c.revision);
        }
    }
    if (!structural)
        return;
    const PolicyDocument doc = m_set.document();
    // A stored policy names its groups by name (PolicyJson's form): after a group changed
    // (a rename, say) the policies using it are stored again, or a restart could no longer
    // resolve them. No audit entry: the policy itself did not change.
    if (!changedGroups.isEmpty()) {
        for (const Policy &p : doc.policies) {
            const bool uses =
                (p.from.type == SpecifierType::Group && changedGroups.contains(p.from.groupId)) ||
                (p.to.type == SpecifierType::Group && changedGroups.contains(p.to.groupId));
            if (!uses)
                continue;
            DocumentRecord r;
            r.kind = DocumentKind::Policy;
            r.id = QStringLiteral("policy:%1").arg(p.id).toUtf8();
            r.version = p.version;
            r.revision = lastGroupRevision;
            r.json = compact(PolicyJson::policyToJson(p, doc.groups));
            batch.documents.append(r);
        }
    }
    auto index = std::make_shared<const PolicyIndex>(doc);
    QMutexLocker lock(&m_indexLock);
    m_index = std::move(index);
}

void PolicyState::rebuild()
{
    auto index = m_set.buildIndex();
    QMutexLocker lock(&m_indexLock);
    m_index = std::move(index);
}

} // namespace greygate
