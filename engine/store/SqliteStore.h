// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Journal.h"
#include "SqliteDatabase.h"
#include "SqliteStoreOptions.h"
#include "Store.h"
#include "TripletSnapshot.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace greygate {

// The embedded store: DBDIR/greygate.db (SQLite, WAL) behind an append-only journal.
//
// commit() encodes the batch as one journal record and appends it with one write() (plus
// fdatasync() in SyncMode::Full): from then on it survives kill -9, and the call returns.
// A background applier thread takes committed batches in groups (everything committed
// within applyIntervalMs): their documents, audit entries and rejections go to SQLite in
// one transaction that also records the last applied journal sequence; their triplets and
// clients go to the TripletSnapshot's in-memory delta, which a compactor thread writes out
// as a new snapshot file now and then. A journal segment is deleted once both SQLite and
// the snapshot hold all its records. open() replays whatever either had not done, then
// writes a snapshot if the replay changed triplets. commit() wakes the applier only when
// it sleeps with nothing to do or when applyBytes have piled up: in the steady state a
// commit costs its journal write and no wake-up.
//
// Memory stays bounded: committed batches wait for the applier in a queue of at most
// maxQueueBytes; a commit() that finds it full blocks until the applier has caught up
// (back-pressure), and fails after queueStallMs (SQLite stuck, disk full): the journal, not
// the queue, is the truth, so nothing committed is lost either way.
//
// Policy documents and the audit log ride in the same batches (WriteBatch::documents and
// ::audit), so they are exactly as durable as triplets; the applier merges documents per
// (kind, id) and appends log entries (rejections, audit) one by one. pruneBefore() bounds
// both logs: the applier deletes old entries in small transactions between its others.
//
// Thread-safe: commit(), the reads, pruneBefore() and checkIntegrity() may be called from
// any thread; open() and close() from one.
class SqliteStore final : public Store
{
public:
    explicit SqliteStore(SqliteStoreOptions options);
    ~SqliteStore() override;

    QString kind() const override { return QStringLiteral("sqlite"); }
    bool open(QString *error) override;
    void close() override;
    bool load(const std::function<void(TripletRecord &&)> &onTriplet,
              const std::function<void(ClientRecord &&)> &onClient, QString *error) override;
    bool commit(const WriteBatch &batch, QString *error) override;
    // Ordered by time, then by insertion; sees every batch committed before the call.
    QList<RejectionEntry> rejections(const RejectionQuery &query, QString *error) override;
    bool loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                       QString *error) override;
    bool documentRevision(quint64 *revision, QString *error) override;
    QList<AuditRecord> audit(const AuditQuery &query, QString *error) override;
    // Asks the applier to delete, between its transactions and a bounded number of rows at
    // a time, what is older than the cutoffs once it has applied every batch committed
    // before the call; returns at once. Requests the applier has not got to yet are merged
    // (each log's later cutoff). flush() waits for the deletion too.
    bool pruneBefore(Seconds rejectionsBefore, Seconds auditBefore, QString *error) override;
    bool checkIntegrity(QString *error) override;

    const SqliteStoreOptions &options() const { return m_options; }

    // Waits until SQLite holds every batch committed before the call, and until every
    // pruneBefore() asked for before the call is done.
    bool flush(int timeoutMs, QString *error);

    struct Stats
    {
        quint64 committedSequence = 0;
        quint64 appliedSequence = 0;
        qint64 queuedBytes = 0;
        quint64 replayedAtOpen = 0;    // journal records open() had to apply
        quint64 snapshotSequence = 0;  // triplets and clients are in the snapshot up to it
        qsizetype snapshotPending = 0; // changed keys not yet in a snapshot
        quint64 snapshots = 0;         // snapshots written since open()
    };
    Stats stats() const;

private:
    struct Pending
    {
        quint64 sequence = 0;
        WriteBatch batch;
        qint64 bytes = 0;
        std::chrono::steady_clock::time_point committedAt;
    };

    bool lockDirectory(QString *error);
    bool replayJournal(quint64 applied, quint64 snapshot, quint64 *last, QString *error);
    bool openSnapshot(quint64 applied, quint64 *last, QString *error);
    bool waitApplied(quint64 sequence, int timeoutMs, QString *error, quint64 pruneTicket = 0);
    bool readable(QString *error); // open, and SQLite holds every batch committed so far
    template <typename Result, typename Read>
    Result readCommitted(QString *error, Result failed, Read &&read);
    void applierLoop();
    bool pruneReady() const; // with m_queueMutex held
    void pruneStep(std::unique_lock<std::mutex> &queueLock);
    void lowerApplierPriority() const;
    void checkpointIfDue();
    void dropAppliedJournal();

    // What the applier is waiting for, so that commit() wakes it only when that matters.
    enum class ApplierState
    {
        Busy,      // applying, or about to look at the queue: no wake-up needed
        Idle,      // waiting for a first commit
        Gathering, // waiting for its deadline or for applyBytes
    };

    const SqliteStoreOptions m_options;
    int m_lockFd = -1;
    std::atomic<bool> m_open = false;

    SqliteDatabase m_writer; // the applier thread's while open
    TripletSnapshot m_snapshot;
    std::mutex m_readMutex;
    SqliteDatabase m_reader;

    // commit()'s journal record, reused when no other commit is encoding at the same time.
    std::mutex m_recordMutex;
    QByteArray m_record;

    std::mutex m_writeMutex; // order: m_writeMutex before m_queueMutex
    std::unique_ptr<Journal> m_journal;
    bool m_accepting = false;
    quint64 m_nextSequence = 1;

    mutable std::mutex m_queueMutex;
    std::condition_variable m_wakeApplier;
    std::condition_variable m_progress;
    // A QList, not a std::deque: a deque allocates a block every two or three batches as the
    // queue moves; the list reuses the room its front left.
    QList<Pending> m_queue;
    // Applied batches emptied by the applier, their lists' room kept: commit() copies the
    // caller's records into one, so the caller's lists stay unshared and are reused too
    // (no allocation per commit on the decision thread). At most kMaxSpareBatches.
    std::vector<WriteBatch> m_spares;
    qint64 m_queueBytes = 0;
    quint64 m_committed = 0;
    quint64 m_applied = 0;
    quint64 m_replayed = 0;
    int m_drainWaiters = 0;
    ApplierState m_applierState = ApplierState::Busy;
    bool m_stop = false;
    // Retention (pruneBefore): the cutoffs still to apply once SQLite is at m_pruneSequence;
    // requests are numbered, m_pruneDone is the last one carried out.
    Seconds m_pruneRejections = 0;
    Seconds m_pruneAudit = 0;
    quint64 m_pruneSequence = 0;
    quint64 m_pruneRequested = 0;
    quint64 m_pruneDone = 0;
    QString m_applierError;
    std::thread m_applier;
};

} // namespace greygate
