// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisDocumentSnapshot.h"

namespace greygate {

namespace {

bool documentsOnly(QString *error)
{
    *error = QStringLiteral("a policy snapshot holds documents only");
    return false;
}

} // namespace

RedisDocumentSnapshot::RedisDocumentSnapshot(QList<DocumentRecord> documents, quint64 revision)
    : m_documents(std::move(documents))
    , m_revision(revision)
{}

bool RedisDocumentSnapshot::load(const std::function<void(TripletRecord &&)> &,
                                 const std::function<void(ClientRecord &&)> &, QString *error)
{
    return documentsOnly(error);
}

bool RedisDocumentSnapshot::commit(const WriteBatch &, QString *error)
{
    return documentsOnly(error);
}

QList<RejectionEntry> RedisDocumentSnapshot::rejections(const RejectionQuery &, QString *error)
{
    documentsOnly(error);
    return {};
}

bool RedisDocumentSnapshot::loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                                          QString *)
{
    for (const DocumentRecord &d : std::as_const(m_documents))
        onDocument(DocumentRecord(d));
    return true;
}

bool RedisDocumentSnapshot::documentRevision(quint64 *revision, QString *)
{
    *revision = m_revision;
    return true;
}

QList<AuditRecord> RedisDocumentSnapshot::audit(const AuditQuery &, QString *error)
{
    documentsOnly(error);
    return {};
}

bool RedisDocumentSnapshot::pruneBefore(Seconds, Seconds, QString *error)
{
    return documentsOnly(error);
}

bool RedisDocumentSnapshot::checkIntegrity(QString *error)
{
    return documentsOnly(error);
}

} // namespace greygate
