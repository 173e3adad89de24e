// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SqliteStatement.h"
#include "SqliteStoreOptions.h"
#include "Store.h"

#include <vector>

namespace greygate {

// One connection to DBDIR/greygate.db: schema creation and migration, and the statements
// of the store. SqliteStore keeps two: the applier's (writes) and one for reads, which WAL
// lets run beside the writes. A connection is used by one thread at a time.
class SqliteDatabase
{
public:
    // PRAGMA user_version of the schema this build writes; older ones are migrated.
    static constexpr int kSchemaVersion = 2;

    SqliteDatabase() = default;
    ~SqliteDatabase();
    SqliteDatabase(const SqliteDatabase &) = delete;
    SqliteDatabase &operator=(const SqliteDatabase &) = delete;

    // walLimitBytes: SQLite's automatic checkpoints are off (the owner calls checkpoint()
    // on its own schedule, see walBytes()) and a WAL larger than this is cut back to it.
    bool open(const QString &path, SyncMode sync, int cacheKiB, qint64 walLimitBytes,
              QString *error);
    void close();

    // The highest journal sequence whose batch is in the database.
    bool appliedSequence(quint64 *sequence, QString *error);

    // One transaction: begin(), apply() any number of batches, then finish() records the
    // sequence of the last one in the same transaction, so batches apply exactly once.
    // SQLite holds a batch's documents, audit entries and rejections; its triplets and
    // clients go to the TripletSnapshot (the tables below are read only to migrate them).
    bool begin(QString *error);
    bool apply(const WriteBatch &batch, QString *error);
    // The same as apply() of each batch in order, but with the changes to each document
    // merged (only the last counts).
    bool applyMerged(const std::vector<WriteBatch> &batches, QString *error);
    // The triplets and clients tables of versions before the snapshot: any rows left, and
    // dropping them once a snapshot holds them. load() reads them.
    bool hasTriplets(bool *has, QString *error);
    bool clearTriplets(QString *error);
    bool finish(quint64 appliedSequence, QString *error);
    void rollback();

    bool load(const std::function<void(TripletRecord &&)> &onTriplet,
              const std::function<void(ClientRecord &&)> &onClient, QString *error);
    QList<RejectionEntry> rejections(const RejectionQuery &query, QString *error);
    bool loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument, QString *error);
    bool documentRevision(quint64 *revision, QString *error);
    QList<AuditRecord> audit(const AuditQuery &query, QString *error);
    // One transaction deleting at most `limit` rejections older than rejectionsBefore and
    // as many audit entries older than auditBefore (0: none), oldest first. *more: a limit
    // was reached, call again.
    bool prune(Seconds rejectionsBefore, Seconds auditBefore, int limit, bool *more,
               QString *error);
    bool integrityCheck(QString *error);
    // TRUNCATE: waits for readers and leaves an empty WAL (close); otherwise PASSIVE: copies
    // what no reader needs, never waits, and the next write starts the WAL over.
    bool checkpoint(QString *error, bool truncate = true);
    // Bytes in the WAL after this connection's last commit (0 after a checkpoint reset).
    qint64 walBytes() const { return m_walFrames * m_pageSize; }
    // Gives the page cache back (after a whole-database read: load, integrity check).
    void releaseMemory();

private:
    bool exec(const char *sql, QString *error);
    bool migrate(QString *error);
    bool prepareDocumentStatements(QString *error);
    bool applyLogs(const WriteBatch &batch, QString *error); // rejections and audit
    bool writeDocument(const DocumentRecord &document, QString *error);
    bool writeAudit(const AuditRecord &entry, QString *error);
    bool raiseRevision(quint64 revision, QString *error);
    QString lastError() const;
    static int onWalCommit(void *self, sqlite3 *db, const char *name, int frames);

    sqlite3 *m_db = nullptr;
    qint64 m_pageSize = 4096;
    qint64 m_walFrames = 0;
    SqliteStatement m_insertRejection;
    SqliteStatement m_setApplied;
    SqliteStatement m_getApplied;
    SqliteStatement m_selectRejections;
    SqliteStatement m_upsertDocument;
    SqliteStatement m_removeDocument;
    SqliteStatement m_insertAudit;
    SqliteStatement m_raiseRevision;
    SqliteStatement m_getRevision;
    SqliteStatement m_selectAudit;
    SqliteStatement m_selectObjectAudit;
    SqliteStatement m_pruneRejections;
    SqliteStatement m_pruneAudit;
};

} // namespace greygate
