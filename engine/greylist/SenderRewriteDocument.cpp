// SPDX-License-Identifier: GPL-3.0-or-later
#include "SenderRewriteDocument.h"

#include "SenderRewriter.h"
#include "store/Store.h"

#include <QJsonDocument>

namespace greygate {

std::optional<SenderRewriteRules> SenderRewriteDocument::load(Store &store, QString *error)
{
    QList<DocumentRecord> records;
    if (!store.loadDocuments(
            [&](DocumentRecord &&r) {
                if (r.kind == DocumentKind::SenderRewrite)
                    records.append(std::move(r));
            },
            error))
        return std::nullopt;
    return fromRecords(records, error);
}

std::optional<SenderRewriteRules>
SenderRewriteDocument::fromRecords(const QList<DocumentRecord> &records, QString *error)
{
    const DocumentRecord *stored = nullptr;
    for (const DocumentRecord &r : records) {
        if (r.kind == DocumentKind::SenderRewrite && r.id == kId && !r.removed)
            stored = &r;
    }
    if (!stored)
        return SenderRewriteRules::defaults();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(stored->json, &parseError);
    QString why;
    std::optional<SenderRewriteRules> rules;
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        why = u"not a JSON object (" + parseError.errorString() + u')';
    else
        rules = SenderRewriteRules::fromJson(doc.object(), &why);
    if (rules && !SenderRewriter::compile(*rules, &why))
        rules.reset();
    if (!rules) {
        *error = u"the stored sender rewriting rules are refused: " + why;
        return std::nullopt;
    }
    rules->version = stored->version;
    return rules;
}

DocumentRecord SenderRewriteDocument::record(const SenderRewriteRules &rules, quint64 revision)
{
    DocumentRecord r;
    r.kind = DocumentKind::SenderRewrite;
    r.id = kId.toByteArray();
    r.version = rules.version;
    r.revision = revision;
    r.json = QJsonDocument(rules.toJson()).toJson(QJsonDocument::Compact);
    return r;
}

AuditRecord SenderRewriteDocument::audit(const SenderRewriteRules &before,
                                         const SenderRewriteRules &after, const QString &who,
                                         Seconds time, quint64 revision)
{
    AuditRecord a;
    a.revision = revision;
    a.time = time;
    a.who = who.toUtf8();
    a.what = QByteArrayLiteral("rewriting.set");
    a.objectId = kId.toByteArray();
    a.beforeJson = QJsonDocument(before.toJson()).toJson(QJsonDocument::Compact);
    a.afterJson = QJsonDocument(after.toJson()).toJson(QJsonDocument::Compact);
    return a;
}

} // namespace greygate
