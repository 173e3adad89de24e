// SPDX-License-Identifier: GPL-3.0-or-later
// SqliteDatabase, continued: policy documents, the audit log and the retention of both logs
// (schema 2). The triplet side is in SqliteDatabase.cpp.
#include "SqliteDatabase.h"

#include <sqlite3.h>

namespace greygate {

namespace {

constexpr int kMaxAuditPage = 10'000;

} // namespace

bool SqliteDatabase::prepareDocumentStatements(QString *error)
{
    return m_upsertDocument.prepare(
               m_db,
               "INSERT INTO documents(kind, id, version, revision, json) "
               "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(kind, id) DO UPDATE SET "
               "version = excluded.version, revision = excluded.revision, json = excluded.json",
               error) &&
           m_removeDocument.prepare(m_db, "DELETE FROM documents WHERE kind = ?1 AND id = ?2",
                                    error) &&
           m_insertAudit.prepare(m_db,
                                 "INSERT INTO audit(revision, time, who, what, object_id, "
                                 "\"before\", \"after\") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 error) &&
           m_raiseRevision.prepare(
               m_db, "UPDATE meta SET value = max(value, ?1) WHERE key = 'document_revision'",
               error) &&
           m_getRevision.prepare(m_db, "SELECT value FROM meta WHERE key = 'document_revision'",
                                 error) &&
           m_selectAudit.prepare(m_db,
                                 "SELECT revision, time, who, what, object_id, \"before\", "
                                 "\"after\" FROM audit WHERE time >= ?1 AND (?2 = 0 OR time < ?2) "
                                 "ORDER BY time, id LIMIT ?3 OFFSET ?4",
                                 error) &&
           // A statement of its own, so that SQLite plans it on audit_by_object.
           m_selectObjectAudit.prepare(m_db,
                                       "SELECT revision, time, who, what, object_id, \"before\", "
                                       "\"after\" FROM audit WHERE object_id = ?5 AND "
                                       "time >= ?1 AND (?2 = 0 OR time < ?2) "
                                       "ORDER BY time, id LIMIT ?3 OFFSET ?4",
                                       error) &&
           // Oldest first through the time index, a bounded number per transaction: a prune of
           // a year of rejections never holds the write lock for long.
           m_pruneRejections.prepare(m_db,
                                     "DELETE FROM rejections WHERE id IN (SELECT id FROM "
                                     "rejections WHERE time < ?1 ORDER BY time LIMIT ?2)",
                                     error) &&
           m_pruneAudit.prepare(m_db,
                                "DELETE FROM audit WHERE id IN (SELECT id FROM audit "
                                "WHERE time < ?1 ORDER BY time LIMIT ?2)",
                                error);
}

bool SqliteDatabase::writeDocument(const DocumentRecord &d, QString *error)
{
    SqliteStatement &st = d.removed ? m_removeDocument : m_upsertDocument;
    st.bind(1, qint64(d.kind));
    st.bind(2, d.id);
    if (!d.removed) {
        st.bind(3, qint64(d.version));
        st.bind(4, qint64(d.revision));
        st.bind(5, d.json);
    }
    return st.run(error);
}

bool SqliteDatabase::writeAudit(const AuditRecord &a, QString *error)
{
    m_insertAudit.bind(1, qint64(a.revision));
    m_insertAudit.bind(2, a.time);
    m_insertAudit.bind(3, a.who);
    m_insertAudit.bind(4, a.what);
    m_insertAudit.bind(5, a.objectId);
    m_insertAudit.bind(6, a.beforeJson);
    m_insertAudit.bind(7, a.afterJson);
    return m_insertAudit.run(error);
}

bool SqliteDatabase::raiseRevision(quint64 revision, QString *error)
{
    m_raiseRevision.bind(1, qint64(revision));
    return m_raiseRevision.run(error);
}

bool SqliteDatabase::documentRevision(quint64 *revision, QString *error)
{
    const int rc = m_getRevision.step();
    if (rc != SQLITE_ROW) {
        *error = rc == SQLITE_DONE ? QStringLiteral("meta has no document_revision") : lastError();
        m_getRevision.reset();
        return false;
    }
    *revision = quint64(m_getRevision.integer(0));
    m_getRevision.reset();
    return true;
}

bool SqliteDatabase::loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                                   QString *error)
{
    // One statement: one snapshot.
    SqliteStatement documents;
    if (!documents.prepare(m_db, "SELECT kind, id, version, revision, json FROM documents", error))
        return false;
    int rc;
    while ((rc = documents.step()) == SQLITE_ROW) {
        const qint64 kind = documents.integer(0);
        if (kind < 0 || kind > 255 || !isDocumentKind(quint8(kind))) {
            // Only a damaged database gets here (commit() and the journal refuse others):
            // better no start than a start without a policy.
            *error = QStringLiteral("document of unknown kind %1").arg(kind);
            return false;
        }
        DocumentRecord d;
        d.kind = DocumentKind(kind);
        d.id = documents.bytes(1);
        d.version = quint32(documents.integer(2));
        d.revision = quint64(documents.integer(3));
        d.json = documents.bytes(4);
        onDocument(std::move(d));
    }
    if (rc != SQLITE_DONE) {
        *error = lastError();
        return false;
    }
    return true;
}

QList<AuditRecord> SqliteDatabase::audit(const AuditQuery &query, QString *error)
{
    QList<AuditRecord> out;
    const int limit = qBound(0, query.limit, kMaxAuditPage);
    if (limit == 0)
        return out;
    out.reserve(limit);
    SqliteStatement &st = query.objectId.isEmpty() ? m_selectAudit : m_selectObjectAudit;
    st.bind(1, query.from);
    st.bind(2, query.to);
    st.bind(3, qint64(limit));
    st.bind(4, qint64(qMax(0, query.offset)));
    if (!query.objectId.isEmpty())
        st.bind(5, query.objectId);
    int rc;
    while ((rc = st.step()) == SQLITE_ROW) {
        AuditRecord a;
        a.revision = quint64(st.integer(0));
        a.time = st.integer(1);
        a.who = st.bytes(2);
        a.what = st.bytes(3);
        a.objectId = st.bytes(4);
        a.beforeJson = st.bytes(5);
        a.afterJson = st.bytes(6);
        out.append(std::move(a));
    }
    if (rc != SQLITE_DONE && error)
        *error = lastError();
    st.reset();
    return out;
}

bool SqliteDatabase::prune(Seconds rejectionsBefore, Seconds auditBefore, int limit, bool *more,
                           QString *error)
{
    *more = false;
    const auto run = [&](SqliteStatement &st, Seconds before) {
        if (before == 0)
            return true;
        st.bind(1, before);
        st.bind(2, qint64(limit));
        if (!st.run(error))
            return false;
        if (sqlite3_changes(m_db) >= limit)
            *more = true;
        return true;
    };
    if (begin(error) && run(m_pruneRejections, rejectionsBefore) &&
        run(m_pruneAudit, auditBefore) && exec("COMMIT", error))
        return true;
    rollback();
    return false;
}

} // namespace greygate
