// SPDX-License-Identifier: GPL-3.0-or-later
#include "SqliteDatabase.h"

#include "StoreLog.h"

#include <QFile>
#include <algorithm>
#include <sqlite3.h>

namespace greygate {

namespace {

// kMigrations[v] takes a database from schema version v to v + 1, in one transaction with
// the user_version update. Released steps are never edited: a change is a new step.
// Byte columns are BLOBs: keys are bytes (TripletKey), compared with memcmp.
const char *const kMigrations[] = {
    R"sql(
CREATE TABLE triplets(
    client BLOB NOT NULL, sender BLOB NOT NULL, recipient BLOB NOT NULL,
    first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, passed_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL, status INTEGER NOT NULL,
    PRIMARY KEY(client, sender, recipient)) WITHOUT ROWID;
CREATE TABLE clients(
    client BLOB NOT NULL PRIMARY KEY, passes INTEGER NOT NULL, last_seen INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE rejections(
    id INTEGER PRIMARY KEY, time INTEGER NOT NULL, reason BLOB NOT NULL,
    client BLOB NOT NULL, sender BLOB NOT NULL, recipient BLOB NOT NULL,
    attempts INTEGER NOT NULL, first_seen INTEGER NOT NULL);
CREATE INDEX rejections_by_time ON rejections(time);
CREATE TABLE meta(key TEXT NOT NULL PRIMARY KEY, value) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('applied_sequence', 0);
)sql",
    // 1 -> 2: policy state as opaque documents, and the audit log. A large document (a sender
    // group of 10,000 members is ~300 KB of JSON) lives in overflow pages.
    R"sql(
CREATE TABLE documents(
    kind INTEGER NOT NULL, id BLOB NOT NULL, version INTEGER NOT NULL,
    revision INTEGER NOT NULL, json BLOB NOT NULL,
    PRIMARY KEY(kind, id)) WITHOUT ROWID;
CREATE TABLE audit(
    revision INTEGER NOT NULL, id INTEGER PRIMARY KEY, time INTEGER NOT NULL,
    who BLOB NOT NULL, what BLOB NOT NULL, object_id BLOB NOT NULL,
    "before" BLOB NOT NULL, "after" BLOB NOT NULL);
CREATE INDEX audit_by_time ON audit(time);
CREATE INDEX audit_by_object ON audit(object_id, time);
INSERT INTO meta(key, value) VALUES('document_revision', 0);
)sql",
};
static_assert(std::size(kMigrations) == SqliteDatabase::kSchemaVersion);

constexpr int kMaxRejectionPage = 10'000;

} // namespace

SqliteDatabase::~SqliteDatabase()
{
    close();
}

QString SqliteDatabase::lastError() const
{
    return QString::fromUtf8(sqlite3_errmsg(m_db));
}

bool SqliteDatabase::exec(const char *sql, QString *error)
{
    char *message = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &message) == SQLITE_OK)
        return true;
    *error = QString::fromUtf8(message ? message : sqlite3_errmsg(m_db));
    sqlite3_free(message);
    return false;
}

bool SqliteDatabase::open(const QString &path, SyncMode sync, int cacheKiB, qint64 walLimitBytes,
                          QString *error)
{
    close();
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &m_db, flags, nullptr) != SQLITE_OK) {
        *error = QStringLiteral("cannot open %1: %2").arg(path, lastError());
        close();
        return false;
    }
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, 10'000);
    // WAL: readers never block the applier. In WAL mode synchronous=NORMAL syncs nothing at
    // COMMIT, only around checkpoints (the WAL before, the database after), which is what
    // keeps the database intact through a power loss: the journal has long been deleted by
    // then, so a database corrupted by a checkpoint's unordered writes could not be
    // rebuilt. FULL also syncs the WAL at every COMMIT, which Full needs before it deletes
    // journal segments. Checkpoints run on the applier's schedule (wal_autocheckpoint=0).
    const QByteArray pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" +
                               QByteArray(sync == SyncMode::Full ? "FULL" : "NORMAL") +
                               "; PRAGMA cache_size=-" + QByteArray::number(qMax(cacheKiB, 64)) +
                               "; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0; "
                               "PRAGMA journal_size_limit=" +
                               QByteArray::number(qMax<qint64>(walLimitBytes, 0)) + ';';
    QString reason;
    if (!exec(pragmas.constData(), &reason) || !migrate(&reason)) {
        *error = QStringLiteral("%1: %2").arg(path, reason);
        close();
        return false;
    }
    const bool prepared =
        m_insertRejection.prepare(m_db,
                                  "INSERT INTO rejections(time, reason, client, sender, "
                                  "recipient, attempts, first_seen) "
                                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                  &reason) &&
        m_setApplied.prepare(m_db, "UPDATE meta SET value = ?1 WHERE key = 'applied_sequence'",
                             &reason) &&
        m_getApplied.prepare(m_db, "SELECT value FROM meta WHERE key = 'applied_sequence'",
                             &reason) &&
        m_selectRejections.prepare(
            m_db,
            "SELECT time, reason, client, sender, recipient, attempts, first_seen "
            "FROM rejections WHERE time >= ?1 AND (?2 = 0 OR time < ?2) "
            "ORDER BY time, id LIMIT ?3 OFFSET ?4",
            &reason) &&
        prepareDocumentStatements(&reason);
    if (!prepared) {
        *error = QStringLiteral("%1: %2").arg(path, reason);
        close();
        return false;
    }
    SqliteStatement pageSize;
    if (pageSize.prepare(m_db, "PRAGMA page_size", &reason) && pageSize.step() == SQLITE_ROW)
        m_pageSize = qMax<qint64>(512, pageSize.integer(0));
    m_walFrames = 0;
    sqlite3_wal_hook(m_db, &SqliteDatabase::onWalCommit, this); // replaces autocheckpoint's
    return true;
}

int SqliteDatabase::onWalCommit(void *self, sqlite3 *, const char *, int frames)
{
    static_cast<SqliteDatabase *>(self)->m_walFrames = frames;
    return SQLITE_OK;
}

bool SqliteDatabase::migrate(QString *error)
{
    if (!exec("BEGIN IMMEDIATE", error))
        return false;
    SqliteStatement version;
    if (!version.prepare(m_db, "PRAGMA user_version", error) || version.step() != SQLITE_ROW) {
        exec("ROLLBACK", error);
        return false;
    }
    const qint64 current = version.integer(0);
    version.finalize();
    if (current > kSchemaVersion) {
        *error = QStringLiteral("schema version %1 is newer than this greygate knows (%2)")
                     .arg(current)
                     .arg(kSchemaVersion);
        QString ignored;
        exec("ROLLBACK", &ignored);
        return false;
    }
    for (qint64 v = current; v < kSchemaVersion; ++v) {
        if (!exec(kMigrations[v], error)) {
            *error = QStringLiteral("migration to schema %1 failed: %2").arg(v + 1).arg(*error);
            QString ignored;
            exec("ROLLBACK", &ignored);
            return false;
        }
        qCInfo(lcStore, "database schema migrated to version %lld", v + 1);
    }
    const QByteArray set = "PRAGMA user_version = " + QByteArray::number(kSchemaVersion);
    return exec(set.constData(), error) && exec("COMMIT", error);
}

void SqliteDatabase::close()
{
    for (SqliteStatement *s :
         {&m_insertRejection, &m_setApplied, &m_getApplied, &m_selectRejections, &m_upsertDocument,
          &m_removeDocument, &m_insertAudit, &m_raiseRevision, &m_getRevision, &m_selectAudit,
          &m_selectObjectAudit, &m_pruneRejections, &m_pruneAudit})
        s->finalize();
    if (m_db)
        sqlite3_close(m_db);
    m_db = nullptr;
}

bool SqliteDatabase::appliedSequence(quint64 *sequence, QString *error)
{
    const int rc = m_getApplied.step();
    if (rc != SQLITE_ROW) {
        *error = rc == SQLITE_DONE ? QStringLiteral("meta has no applied_sequence") : lastError();
        m_getApplied.reset();
        return false;
    }
    *sequence = quint64(m_getApplied.integer(0));
    m_getApplied.reset();
    return true;
}

bool SqliteDatabase::begin(QString *error)
{
    return exec("BEGIN IMMEDIATE", error);
}

bool SqliteDatabase::apply(const WriteBatch &batch, QString *error)
{
    quint64 revision = 0;
    for (const DocumentRecord &d : batch.documents) {
        if (!writeDocument(d, error))
            return false;
        revision = qMax(revision, d.revision);
    }
    return (batch.documents.isEmpty() || raiseRevision(revision, error)) && applyLogs(batch, error);
}

bool SqliteDatabase::applyLogs(const WriteBatch &batch, QString *error)
{
    for (const RejectionEntry &r : batch.rejections) {
        m_insertRejection.bind(1, r.time);
        m_insertRejection.bind(2, r.reason);
        m_insertRejection.bind(3, r.key.client);
        m_insertRejection.bind(4, r.key.sender);
        m_insertRejection.bind(5, r.key.recipient);
        m_insertRejection.bind(6, qint64(r.attempts));
        m_insertRejection.bind(7, r.firstSeen);
        if (!m_insertRejection.run(error))
            return false;
    }
    for (const AuditRecord &a : batch.audit) {
        if (!writeAudit(a, error))
            return false;
    }
    return true;
}

bool SqliteDatabase::applyMerged(const std::vector<WriteBatch> &batches, QString *error)
{
    // Documents like keys: the last change to each (kind, id) counts.
    std::vector<const DocumentRecord *> documents;
    quint64 revision = 0;
    for (const WriteBatch &b : batches) {
        for (const DocumentRecord &d : b.documents) {
            documents.push_back(&d);
            revision = qMax(revision, d.revision);
        }
    }
    const auto sameDocument = [](const DocumentRecord *a, const DocumentRecord *b) {
        return a->kind == b->kind && a->id == b->id;
    };
    std::stable_sort(documents.begin(), documents.end(),
                     [](const DocumentRecord *a, const DocumentRecord *b) {
                         return a->kind != b->kind ? a->kind < b->kind : a->id < b->id;
                     });
    for (size_t i = 0; i < documents.size(); ++i) {
        if (i + 1 < documents.size() && sameDocument(documents[i], documents[i + 1]))
            continue;
        if (!writeDocument(*documents[i], error))
            return false;
    }
    if (!documents.empty() && !raiseRevision(revision, error))
        return false;
    // Logs are never merged: every entry, in commit order.
    for (const WriteBatch &b : batches) {
        if (!applyLogs(b, error))
            return false;
    }
    return true;
}

bool SqliteDatabase::hasTriplets(bool *has, QString *error)
{
    SqliteStatement any;
    if (!any.prepare(m_db, "SELECT EXISTS(SELECT 1 FROM triplets) OR EXISTS(SELECT 1 FROM clients)",
                     error))
        return false;
    if (any.step() != SQLITE_ROW) {
        *error = lastError();
        return false;
    }
    *has = any.integer(0) != 0;
    return true;
}

bool SqliteDatabase::clearTriplets(QString *error)
{
    if (exec("BEGIN IMMEDIATE; DELETE FROM triplets; DELETE FROM clients; COMMIT", error))
        return true;
    rollback();
    return false;
}

bool SqliteDatabase::finish(quint64 appliedSequence, QString *error)
{
    m_setApplied.bind(1, qint64(appliedSequence));
    return m_setApplied.run(error) && exec("COMMIT", error);
}

void SqliteDatabase::rollback()
{
    if (m_db && !sqlite3_get_autocommit(m_db)) {
        QString ignored;
        exec("ROLLBACK", &ignored);
    }
}

bool SqliteDatabase::load(const std::function<void(TripletRecord &&)> &onTriplet,
                          const std::function<void(ClientRecord &&)> &onClient, QString *error)
{
    // One read transaction: triplets and clients from the same snapshot.
    if (!exec("BEGIN", error))
        return false;
    SqliteStatement triplets;
    SqliteStatement clients;
    bool ok = triplets.prepare(m_db,
                               "SELECT client, sender, recipient, first_seen, last_seen, "
                               "passed_at, attempts, status FROM triplets",
                               error) &&
              clients.prepare(m_db, "SELECT client, passes, last_seen FROM clients", error);
    int rc = SQLITE_DONE;
    while (ok && (rc = triplets.step()) == SQLITE_ROW) {
        TripletRecord t;
        t.key.client = triplets.bytes(0);
        t.key.sender = triplets.bytes(1);
        t.key.recipient = triplets.bytes(2);
        t.state.firstSeen = triplets.integer(3);
        t.state.lastSeen = triplets.integer(4);
        t.state.passedAt = triplets.integer(5);
        t.state.attempts = quint32(triplets.integer(6));
        t.state.status = triplets.integer(7) == 1 ? TripletStatus::Passed : TripletStatus::Deferred;
        onTriplet(std::move(t));
    }
    if (ok && rc == SQLITE_DONE)
        rc = clients.step();
    for (; ok && rc == SQLITE_ROW; rc = clients.step()) {
        ClientRecord c;
        c.client = clients.bytes(0);
        c.passes = quint32(clients.integer(1));
        c.lastSeen = clients.integer(2);
        onClient(std::move(c));
    }
    if (ok && rc != SQLITE_DONE) {
        *error = lastError();
        ok = false;
    }
    triplets.finalize();
    clients.finalize();
    QString ignored;
    exec("COMMIT", &ignored);
    return ok;
}

QList<RejectionEntry> SqliteDatabase::rejections(const RejectionQuery &query, QString *error)
{
    QList<RejectionEntry> out;
    const int limit = qBound(0, query.limit, kMaxRejectionPage);
    if (limit == 0)
        return out;
    out.reserve(limit);
    m_selectRejections.bind(1, query.from);
    m_selectRejections.bind(2, query.to);
    m_selectRejections.bind(3, qint64(limit));
    m_selectRejections.bind(4, qint64(qMax(0, query.offset)));
    int rc;
    while ((rc = m_selectRejections.step()) == SQLITE_ROW) {
        RejectionEntry r;
        r.time = m_selectRejections.integer(0);
        r.reason = m_selectRejections.bytes(1);
        r.key.client = m_selectRejections.bytes(2);
        r.key.sender = m_selectRejections.bytes(3);
        r.key.recipient = m_selectRejections.bytes(4);
        r.attempts = quint32(m_selectRejections.integer(5));
        r.firstSeen = m_selectRejections.integer(6);
        out.append(std::move(r));
    }
    if (rc != SQLITE_DONE && error)
        *error = lastError();
    m_selectRejections.reset();
    return out;
}

bool SqliteDatabase::integrityCheck(QString *error)
{
    SqliteStatement check;
    if (!check.prepare(m_db, "PRAGMA integrity_check(20)", error))
        return false;
    QStringList problems;
    int rc;
    while ((rc = check.step()) == SQLITE_ROW) {
        const QString line = QString::fromUtf8(check.bytes(0));
        if (line != u"ok")
            problems.append(line);
    }
    if (rc != SQLITE_DONE) {
        *error = lastError();
        return false;
    }
    quint64 applied = 0;
    if (!appliedSequence(&applied, error))
        return false;
    if (!problems.isEmpty()) {
        *error = QStringLiteral("integrity_check: ") + problems.join(u"; ");
        return false;
    }
    return true;
}

bool SqliteDatabase::checkpoint(QString *error, bool truncate)
{
    int logFrames = 0;
    int copiedFrames = 0;
    const int rc = sqlite3_wal_checkpoint_v2(
        m_db, nullptr, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
        &logFrames, &copiedFrames);
    if (rc == SQLITE_OK) {
        // Complete: the next write starts the WAL over. Otherwise a reader still needs the
        // rest; the next checkpoint finishes it.
        if (truncate || copiedFrames == logFrames)
            m_walFrames = 0;
        return true;
    }
    *error = lastError();
    return false;
}

void SqliteDatabase::releaseMemory()
{
    if (m_db)
        sqlite3_db_release_memory(m_db);
}

} // namespace greygate
