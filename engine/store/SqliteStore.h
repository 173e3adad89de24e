// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Journal.h"
#include "SqliteDatabase.h"
#include "SqliteStoreOptions.h"
#include "Store.h"

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
// A background applier thread moves committed batches into SQLite in large transactions
// (everything committed within applyIntervalMs, changes to one key merged), recording the
// last applied journal sequence in the same transaction, and checkpoints the WAL on its own
// schedule; journal segments SQLite fully holds are deleted. open() replays whatever the
// applier had not done. commit() wakes the applier only when it sleeps with nothing to do
// or when applyBytes have piled up: in the steady state a commit costs its journal write
// and no wake-up.
//
// Memory stays bounded: committed batches wait for the applier in a queue of at most
// maxQueueBytes; a commit() that finds it full blocks until the applier has caught up
// (back-pressure), and fails after queueStallMs (SQLite stuck, disk full): the journal, not
// the queue, is the truth, so nothing committed is lost either way.
//
// Thread-safe: commit(), rejections(), load() and checkIntegrity() may be called from any
// thread; open() and close() from one.
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
    bool checkIntegrity(QString *error) override;

    const SqliteStoreOptions &options() const { return m_options; }

    // Waits until SQLite holds every batch committed before the call.
    bool flush(int timeoutMs, QString *error);

    struct Stats
    {
        quint64 committedSequence = 0;
        quint64 appliedSequence = 0;
        qint64 queuedBytes = 0;
        quint64 replayedAtOpen = 0; // journal records open() had to apply
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
    bool replayJournal(quint64 applied, quint64 *last, QString *error);
    bool waitApplied(quint64 sequence, int timeoutMs, QString *error);
    void applierLoop();
    void lowerApplierPriority() const;
    void checkpointIfDue();

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
    std::mutex m_readMutex;
    SqliteDatabase m_reader;

    std::mutex m_writeMutex; // order: m_writeMutex before m_queueMutex
    std::unique_ptr<Journal> m_journal;
    bool m_accepting = false;
    quint64 m_nextSequence = 1;

    mutable std::mutex m_queueMutex;
    std::condition_variable m_wakeApplier;
    std::condition_variable m_progress;
    std::deque<Pending> m_queue;
    qint64 m_queueBytes = 0;
    quint64 m_committed = 0;
    quint64 m_applied = 0;
    quint64 m_replayed = 0;
    int m_drainWaiters = 0;
    ApplierState m_applierState = ApplierState::Busy;
    bool m_stop = false;
    QString m_applierError;
    std::thread m_applier;
};

} // namespace greygate
