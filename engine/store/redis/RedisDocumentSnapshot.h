// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "store/Store.h"

namespace greygate {

// The policy documents of one asynchronous read of Redis (HGETALL gg:docs, GET gg:docrev),
// handed to PolicyState::load() as a Store, so a reload announced by another proxy uses the
// same validated path as the start-up load without blocking the event loop on Redis.
// Holds documents only: the other Store operations say so and fail.
class RedisDocumentSnapshot final : public Store
{
public:
    RedisDocumentSnapshot(QList<DocumentRecord> documents, quint64 revision);

    QString kind() const override { return QStringLiteral("redis-snapshot"); }
    bool open(QString *) override { return true; }
    void close() override {}
    bool load(const std::function<void(TripletRecord &&)> &,
              const std::function<void(ClientRecord &&)> &, QString *error) override;
    bool commit(const WriteBatch &batch, QString *error) override;
    QList<RejectionEntry> rejections(const RejectionQuery &, QString *error) override;
    bool loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                       QString *error) override;
    bool documentRevision(quint64 *revision, QString *error) override;
    QList<AuditRecord> audit(const AuditQuery &, QString *error) override;
    bool pruneBefore(Seconds, Seconds, QString *error) override;
    bool checkIntegrity(QString *error) override;

private:
    QList<DocumentRecord> m_documents;
    quint64 m_revision;
};

} // namespace greygate
