// SPDX-License-Identifier: GPL-3.0-or-later
#include "SqliteStore.h"

#include "JournalCodec.h"
#include "StoreLog.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QScopeGuard>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

namespace greygate {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Replay commits every this many records, so a long journal never makes one giant
// transaction (and a crash during replay keeps what was done).
constexpr int kReplayChunk = 20'000;
// What a queued change holds in memory beyond its journal bytes: the WriteBatch list slot
// and the three QByteArray allocations of a key (header, malloc rounding).
constexpr qint64 kQueuedChangeOverhead = 160;
// Emptied batches kept for reuse: the applier gathers for up to 500 ms, i.e. several hundred
// commits of a busy decision thread, all of which want a batch; lists of at most
// kMaxSpareRecords each (a pass's changes), so the spares hold a few MB at the most.
constexpr qsizetype kMaxSpareBatches = 1024;
constexpr qsizetype kMaxSpareRecords = 32;
// A journal record buffer grown past this by a large batch is not kept.
constexpr qsizetype kMaxKeptRecordBytes = 1 << 20;
// Rows of each log one retention transaction deletes: small enough that the applier is back
// to committed batches within milliseconds.
constexpr int kPruneChunk = 5'000;

// Two retention cutoffs asked for one after the other: both must hold (0 = none).
Seconds laterCutoff(Seconds a, Seconds b)
{
    return a == 0 ? b : b == 0 ? a : qMax(a, b);
}

} // namespace

SqliteStore::SqliteStore(SqliteStoreOptions options)
    : m_options(std::move(options))
    , m_snapshot(m_options.dbdir, m_options.snapshotMinChanges, m_options.snapshotMaxChanges)
{}

SqliteStore::~SqliteStore()
{
    close();
}

bool SqliteStore::lockDirectory(QString *error)
{
    // flock, not a PID file: the kernel drops it when the holder dies, even by kill -9.
    const QString path = m_options.dbdir + QStringLiteral("/greygate.lock");
    m_lockFd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_lockFd < 0) {
        *error = QStringLiteral("cannot create %1: %2")
                     .arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    if (::flock(m_lockFd, LOCK_EX | LOCK_NB) != 0) {
        *error = QStringLiteral("database directory %1 is in use by another process")
                     .arg(m_options.dbdir);
        ::close(m_lockFd);
        m_lockFd = -1;
        return false;
    }
    return true;
}

bool SqliteStore::open(QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (m_open)
        return true;
    QElapsedTimer timer;
    timer.start();
    const QString journalDir = m_options.dbdir + QStringLiteral("/journal");
    if (m_options.dbdir.isEmpty() || !QDir().mkpath(journalDir)) {
        *error = QStringLiteral("cannot create database directory \"%1\"").arg(m_options.dbdir);
        return false;
    }
    if (!lockDirectory(error))
        return false;
    const QString dbPath = m_options.dbdir + QStringLiteral("/greygate.db");
    quint64 applied = 0;
    quint64 last = 0;
    m_journal = std::make_unique<Journal>(journalDir, m_options.sync, m_options.segmentBytes);
    const qint64 walLimit = m_options.walCheckpointBytes;
    const bool ok = m_writer.open(dbPath, m_options.sync, m_options.cacheKiB, walLimit, error) &&
                    m_reader.open(dbPath, m_options.sync, m_options.cacheKiB, walLimit, error) &&
                    m_writer.appliedSequence(&applied, error) && m_snapshot.open(error) &&
                    openSnapshot(applied, &last, error) && m_journal->reset(last + 1, error);
    if (!ok) {
        m_snapshot.close();
        m_journal.reset();
        m_writer.close();
        m_reader.close();
        ::close(m_lockFd);
        m_lockFd = -1;
        return false;
    }
    m_nextSequence = last + 1;
    m_accepting = true;
    m_committed = m_applied = last;
    m_queue.clear();
    m_queueBytes = 0;
    m_stop = false;
    m_applierState = ApplierState::Busy;
    m_pruneRejections = m_pruneAudit = 0;
    m_pruneSequence = m_pruneRequested = m_pruneDone = 0;
    m_applierError.clear();
    m_snapshot.setOnWritten([this](quint64) { dropAppliedJournal(); });
    m_applier = std::thread([this] { applierLoop(); });
    m_open = true;
    qCInfo(lcStore, "opened %s (sequence %llu, %llu journal records replayed) in %lld ms",
           qPrintable(dbPath), last, m_replayed, timer.elapsed());
    return true;
}

// Triplets and clients: the snapshot file, or before there was one the SQLite tables (as of
// SQLite's applied sequence), plus the journal's later records. A snapshot is written at
// once when the replay changed any, so that the journal can go.
bool SqliteStore::openSnapshot(quint64 applied, quint64 *last, QString *error)
{
    const bool exists = m_snapshot.exists();
    bool migrate = false;
    if (!m_writer.hasTriplets(&migrate, error))
        return false;
    const quint64 base = exists ? m_snapshot.sequence() : applied;
    if (!replayJournal(applied, base, last, error))
        return false;
    *last = qMax(*last, base); // sequences go on after everything either holds
    if (!exists || m_snapshot.hasChanges()) {
        const bool fromSqlite = !exists && migrate;
        TripletSnapshot::BaseReader fromTables;
        if (fromSqlite) {
            fromTables = [this](const TripletSnapshot::TripletSink &t,
                                const TripletSnapshot::ClientSink &c, QString *e) {
                const bool ok = m_writer.load(t, c, e);
                m_writer.releaseMemory();
                return ok;
            };
            qCInfo(lcStore, "moving triplets from SQLite into the snapshot file");
        }
        if (!m_snapshot.compactNow(*last, fromTables, error))
            return false;
    }
    // Rows left by a migration that stopped between the snapshot and this clean-up.
    return !migrate || m_writer.clearTriplets(error);
}

bool SqliteStore::replayJournal(quint64 applied, quint64 snapshot, quint64 *last, QString *error)
{
    m_replayed = 0;
    int inTransaction = 0;
    quint64 lastApplied = applied;
    auto onRecord = [&](quint64 sequence, const char *payload, qsizetype size, QString *why) {
        if (sequence <= applied && sequence <= snapshot)
            return true; // held by both; its segment outlived the applier's delete
        const std::optional<WriteBatch> batch = JournalCodec::decode(payload, size);
        if (!batch) {
            *why = QStringLiteral("record %1 is not a batch this greygate can read").arg(sequence);
            return false;
        }
        ++m_replayed;
        if (sequence > snapshot)
            m_snapshot.add(*batch, sequence);
        if (sequence <= applied)
            return true;
        if (inTransaction == 0 && !m_writer.begin(why))
            return false;
        if (!m_writer.apply(*batch, why))
            return false;
        lastApplied = sequence;
        if (++inTransaction < kReplayChunk)
            return true;
        inTransaction = 0;
        return m_writer.finish(lastApplied, why);
    };
    quint64 journalLast = 0;
    if (!m_journal->recover(onRecord, &journalLast, error) ||
        (inTransaction > 0 && !m_writer.finish(lastApplied, error))) {
        m_writer.rollback();
        return false;
    }
    *last = qMax(applied, journalLast);
    return true;
}

void SqliteStore::close()
{
    if (!m_open)
        return;
    {
        const std::lock_guard w(m_writeMutex);
        m_accepting = false; // commits from now on fail; none is half-way through
    }
    {
        const std::lock_guard q(m_queueMutex);
        m_stop = true;
    }
    m_wakeApplier.notify_all();
    m_applier.join();
    QString error;
    // Whatever the snapshot lacks is written now, so that a clean stop leaves no journal.
    const bool snapshotted = m_queue.empty() && (!m_snapshot.hasChanges() ||
                                                 m_snapshot.compactNow(m_applied, {}, &error));
    m_snapshot.close(); // no compaction (nor its journal clean-up) runs after this
    if (snapshotted) {
        if (!m_writer.checkpoint(&error))
            qCWarning(lcStore, "checkpoint at close failed: %s", qPrintable(error));
        m_journal->removeAll();
    } else if (m_queue.empty()) {
        qCWarning(lcStore,
                  "cannot write the snapshot at close (%s); the journal keeps "
                  "every change for the next start",
                  qPrintable(error));
        m_journal->close();
    } else {
        qCWarning(lcStore,
                  "closing with %zu batches not in SQLite (%s); the journal keeps "
                  "them for the next start",
                  size_t(m_queue.size()), qPrintable(m_applierError));
        m_journal->close();
    }
    m_queue.clear();
    m_spares.clear();
    m_queueBytes = 0;
    m_journal.reset();
    m_writer.close();
    {
        const std::lock_guard r(m_readMutex);
        m_reader.close();
    }
    ::close(m_lockFd); // releases the flock
    m_lockFd = -1;
    m_open = false;
}

bool SqliteStore::commit(const WriteBatch &batch, QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (batch.isEmpty())
        return true;
    for (const QByteArray &key : batch.removeTriplets) {
        if (key.count('\x1f') != 2) {
            *error = QStringLiteral("malformed triplet key in a removal");
            return false;
        }
    }
    for (const DocumentRecord &d : batch.documents) {
        if (!isDocumentKind(quint8(d.kind))) {
            *error = QStringLiteral("document of unknown kind %1").arg(int(d.kind));
            return false;
        }
    }
    // One record buffer reused across commits; a commit running beside another (the store is
    // thread-safe) encodes into its own.
    std::unique_lock recordLock(m_recordMutex, std::try_to_lock);
    QByteArray ownRecord;
    QByteArray &record = recordLock.owns_lock() ? m_record : ownRecord;
    JournalCodec::encode(batch, record);
    const auto releaseLarge = qScopeGuard([&record] {
        if (record.capacity() > kMaxKeptRecordBytes)
            record = QByteArray();
    });
    if (record.size() - JournalCodec::kHeaderSize > JournalCodec::kMaxPayload) {
        *error = QStringLiteral("batch of %1 bytes is too large").arg(record.size());
        return false;
    }
    const qint64 bytes = record.size() + kQueuedChangeOverhead * batch.size();
    WriteBatch queued;
    {
        // Back-pressure before taking the write lock, so a waiting commit holds up no one
        // the applier could still serve.
        std::unique_lock q(m_queueMutex);
        if (!m_spares.empty()) {
            queued = std::move(m_spares.back());
            m_spares.pop_back();
        }
        if (m_queueBytes > 0 && m_queueBytes + bytes > m_options.maxQueueBytes) {
            ++m_drainWaiters;
            m_wakeApplier.notify_one();
            const bool room = m_progress.wait_for(q, milliseconds(m_options.queueStallMs), [&] {
                return m_queueBytes == 0 || m_queueBytes + bytes <= m_options.maxQueueBytes ||
                       m_stop;
            });
            --m_drainWaiters;
            if (!room) {
                *error = QStringLiteral("store is stalled: SQLite has not taken committed "
                                        "batches for %1 ms (%2)")
                             .arg(m_options.queueStallMs)
                             .arg(m_applierError);
                return false;
            }
        }
    }
    // The queue gets its own copy of the records (their byte arrays shared), in lists the
    // applier has emptied: the caller's lists stay unshared, so neither side allocates.
    queued.copyRecordsFrom(batch);
    const std::lock_guard w(m_writeMutex);
    if (!m_accepting) {
        *error = QStringLiteral("store is not open");
        return false;
    }
    const quint64 sequence = m_nextSequence;
    JournalCodec::seal(record, sequence);
    if (!m_journal->append(record, sequence, error))
        return false;
    ++m_nextSequence;
    bool wake = false;
    {
        const std::lock_guard q(m_queueMutex);
        m_queue.push_back({sequence, std::move(queued), bytes, SteadyClock::now()});
        const qint64 before = m_queueBytes;
        m_queueBytes += bytes;
        m_committed = sequence;
        // Only two moments need the applier: the first commit after it went to sleep (it
        // must start its gather clock) and the queue reaching applyBytes while it gathers.
        // Any other commit it will find by itself; waking it would only put it back to
        // sleep, at the price of two context switches per commit.
        wake = m_applierState == ApplierState::Idle ||
               (m_applierState == ApplierState::Gathering && before < m_options.applyBytes &&
                m_queueBytes >= m_options.applyBytes);
        if (wake)
            m_applierState = ApplierState::Busy; // one wake-up is enough
    }
    if (wake)
        m_wakeApplier.notify_one();
    return true;
}

void SqliteStore::lowerApplierPriority() const
{
    const int nice = qBound(0, m_options.applierNice, 19);
    if (nice == 0)
        return;
    // Linux: the scheduling policy and the nice value are attributes of the thread, so
    // this leaves the deciding threads alone. SCHED_BATCH: the applier never preempts them
    // on wake-up.
    const sched_param param{};
    if (::sched_setscheduler(0, SCHED_BATCH, &param) != 0)
        qCDebug(lcStore, "applier: SCHED_BATCH refused: %s", std::strerror(errno));
    const pid_t tid = ::gettid();
    errno = 0;
    const int current = ::getpriority(PRIO_PROCESS, id_t(tid));
    if (errno == 0 && ::setpriority(PRIO_PROCESS, id_t(tid), qMin(19, current + nice)) != 0)
        qCDebug(lcStore, "applier: nice %d refused: %s", nice, std::strerror(errno));
}

void SqliteStore::checkpointIfDue()
{
    if (m_writer.walBytes() < m_options.walCheckpointBytes)
        return;
    QString error;
    if (!m_writer.checkpoint(&error, false))
        qCWarning(lcStore, "WAL checkpoint failed (will retry): %s", qPrintable(error));
}

// Segments whose records both SQLite and the snapshot hold are deleted: by the applier
// after a transaction, and by the compactor after a snapshot (so they go even when no
// transaction follows).
void SqliteStore::dropAppliedJournal()
{
    quint64 applied;
    {
        const std::lock_guard q(m_queueMutex);
        applied = m_applied;
    }
    QStringList files;
    {
        const std::lock_guard w(m_writeMutex);
        if (m_journal)
            files = m_journal->takeApplied(qMin(applied, m_snapshot.sequence()));
    }
    Journal::removeFiles(files); // unlinking a big file must not hold up commits
}

void SqliteStore::applierLoop()
{
    lowerApplierPriority();
    // At most half the queue per transaction: a commit blocked on a full queue waits for
    // half of it, not for all of it.
    const qint64 maxTransactionBytes = qMax(m_options.applyBytes, m_options.maxQueueBytes / 2);
    const int applyIntervalMs = m_options.applyIntervalMs >= 0     ? m_options.applyIntervalMs
                                : m_options.sync == SyncMode::Full ? 50
                                                                   : 500;
    milliseconds backoff(100);
    std::vector<WriteBatch> work;
    std::vector<WriteBatch> done; // applied, emptied outside the lock, then spares
    std::unique_lock q(m_queueMutex);
    for (;;) {
        m_applierState = ApplierState::Idle;
        m_wakeApplier.wait(q, [&] { return m_stop || !m_queue.empty() || pruneReady(); });
        if (m_queue.empty() && m_stop)
            break; // everything is applied; a retention not yet done waits for the next run
        if (m_queue.empty()) {
            pruneStep(q);
            continue;
        }
        // Gather: one transaction for everything committed within applyIntervalMs, unless
        // someone waits for the applier or the queue is already large.
        const auto deadline = m_queue.front().committedAt + milliseconds(applyIntervalMs);
        // Retention works in the time the gathering would sleep, so commits pay nothing.
        if (pruneReady() && !m_stop && m_drainWaiters == 0 && m_queueBytes < m_options.applyBytes &&
            SteadyClock::now() < deadline) {
            pruneStep(q);
            continue;
        }
        m_applierState = ApplierState::Gathering;
        m_wakeApplier.wait_until(q, deadline, [&] {
            return m_stop || m_drainWaiters > 0 || m_queueBytes >= m_options.applyBytes;
        });
        m_applierState = ApplierState::Busy;
        work.clear();
        qint64 bytes = 0;
        for (const Pending &p : std::as_const(m_queue)) {
            work.push_back(p.batch); // shares the lists, copies nothing
            bytes += p.bytes;
            if (bytes >= maxTransactionBytes)
                break;
        }
        const quint64 last = m_queue[work.size() - 1].sequence;
        q.unlock();

        QString error;
        bool ok = m_writer.begin(&error) && m_writer.applyMerged(work, &error) &&
                  m_writer.finish(last, &error);
        if (!ok)
            m_writer.rollback();
        else {
            // Sequences in the queue are consecutive: work[i] is last - (size - 1 - i).
            for (size_t i = 0; i < work.size(); ++i)
                m_snapshot.add(work[i], last - (work.size() - 1 - i));
            m_snapshot.compactIfDue();
            checkpointIfDue();
        }

        q.lock();
        if (ok) {
            for (size_t i = 0; i < work.size(); ++i) {
                m_queueBytes -= m_queue.front().bytes;
                if (qsizetype(done.size() + m_spares.size()) < kMaxSpareBatches)
                    done.push_back(std::move(m_queue.front().batch));
                m_queue.pop_front();
            }
            if (!done.empty()) {
                // Emptied without the lock (their records' byte arrays are freed here, on
                // this thread), once work no longer shares their lists.
                q.unlock();
                work.clear();
                for (WriteBatch &b : done)
                    b.clearKeepingCapacity(kMaxSpareRecords);
                q.lock();
                for (WriteBatch &b : done) {
                    if (qsizetype(m_spares.size()) < kMaxSpareBatches)
                        m_spares.push_back(std::move(b));
                }
                done.clear();
            }
            m_applied = last;
            if (!m_applierError.isEmpty())
                qCInfo(lcStore, "applier recovered; SQLite is at sequence %llu", last);
            m_applierError.clear();
            backoff = milliseconds(100);
            m_progress.notify_all();
            // Only now that m_applied says `last`: a snapshot written meanwhile reads it in
            // its own dropAppliedJournal(), or this one reads the snapshot's new sequence.
            // Dropping before it was published let both miss, and the segments stayed
            // until the next transaction.
            q.unlock();
            dropAppliedJournal();
            q.lock();
            continue;
        }
        if (error != m_applierError)
            qCWarning(lcStore,
                      "cannot apply committed batches to SQLite (will retry; the "
                      "journal keeps them): %s",
                      qPrintable(error));
        m_applierError = error;
        m_progress.notify_all();
        if (m_stop)
            break; // close(): give up, the next open() replays the journal
        m_applierState = ApplierState::Gathering; // commits need not wake a retry
        m_wakeApplier.wait_for(q, backoff, [&] { return m_stop; });
        m_applierState = ApplierState::Busy;
        backoff = std::min(backoff * 2, milliseconds(5'000));
    }
}

bool SqliteStore::pruneReady() const
{
    return m_pruneRequested > m_pruneDone && m_applied >= m_pruneSequence;
}

void SqliteStore::pruneStep(std::unique_lock<std::mutex> &q)
{
    m_applierState = ApplierState::Busy;
    const Seconds rejectionsBefore = m_pruneRejections;
    const Seconds auditBefore = m_pruneAudit;
    const quint64 ticket = m_pruneRequested;
    q.unlock();
    bool more = false;
    QString error;
    const bool ok = m_writer.prune(rejectionsBefore, auditBefore, kPruneChunk, &more, &error);
    if (ok)
        checkpointIfDue();
    q.lock();
    if (!ok) {
        if (error != m_applierError)
            qCWarning(lcStore, "cannot prune the logs (will retry): %s", qPrintable(error));
        m_applierError = error;
        m_progress.notify_all();
        m_applierState = ApplierState::Gathering; // a retry is no reason to wake up for
        m_wakeApplier.wait_for(q, std::chrono::seconds(1), [&] { return m_stop; });
        return;
    }
    // Done only if no newer request came in meanwhile: that one may reach further.
    if (!more && m_pruneRequested == ticket) {
        m_pruneDone = ticket;
        m_pruneRejections = m_pruneAudit = 0;
        m_progress.notify_all();
    }
}

bool SqliteStore::waitApplied(quint64 sequence, int timeoutMs, QString *error, quint64 pruneTicket)
{
    std::unique_lock q(m_queueMutex);
    const auto done = [&] {
        return m_applied >= sequence && m_pruneDone >= pruneTicket;
    };
    if (done())
        return true;
    ++m_drainWaiters;
    m_wakeApplier.notify_one();
    const bool ok = m_progress.wait_for(q, milliseconds(timeoutMs), done);
    --m_drainWaiters;
    if (!ok && error)
        *error = m_applied < sequence
                     ? QStringLiteral("SQLite is behind the journal (%1)").arg(m_applierError)
                     : QStringLiteral("pruning the logs is not done (%1)").arg(m_applierError);
    return ok;
}

bool SqliteStore::readable(QString *error)
{
    if (!m_open) {
        *error = QStringLiteral("store is not open");
        return false;
    }
    quint64 target;
    {
        const std::lock_guard q(m_queueMutex);
        target = m_committed;
    }
    return waitApplied(target, m_options.queueStallMs, error);
}

bool SqliteStore::flush(int timeoutMs, QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (!m_open) {
        *error = QStringLiteral("store is not open");
        return false;
    }
    quint64 target;
    quint64 pruneTicket;
    {
        const std::lock_guard q(m_queueMutex);
        target = m_committed;
        pruneTicket = m_pruneRequested;
    }
    return waitApplied(target, timeoutMs, error, pruneTicket);
}

SqliteStore::Stats SqliteStore::stats() const
{
    const TripletSnapshot::Stats snapshot = m_snapshot.stats();
    const std::lock_guard q(m_queueMutex);
    return {m_committed,         m_applied,         m_queueBytes,
            m_replayed,          snapshot.sequence, snapshot.pendingChanges,
            snapshot.compactions};
}

// Every read sees what was committed before it (read-your-writes): readable() waits until
// SQLite holds every committed batch, then the reader connection answers under its lock.
template <typename Result, typename Read>
Result SqliteStore::readCommitted(QString *error, Result failed, Read &&read)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (!readable(error))
        return failed;
    const std::lock_guard r(m_readMutex);
    return read(error);
}

bool SqliteStore::load(const std::function<void(TripletRecord &&)> &onTriplet,
                       const std::function<void(ClientRecord &&)> &onClient, QString *error)
{
    return readCommitted(error, false,
                         [&](QString *e) { return m_snapshot.load(onTriplet, onClient, e); });
}

QList<RejectionEntry> SqliteStore::rejections(const RejectionQuery &query, QString *error)
{
    return readCommitted(error, QList<RejectionEntry>{},
                         [&](QString *e) { return m_reader.rejections(query, e); });
}

bool SqliteStore::loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                                QString *error)
{
    return readCommitted(error, false, [&](QString *e) {
        const bool ok = m_reader.loadDocuments(onDocument, e);
        m_reader.releaseMemory(); // large group documents went through the cache
        return ok;
    });
}

bool SqliteStore::documentRevision(quint64 *revision, QString *error)
{
    return readCommitted(error, false,
                         [&](QString *e) { return m_reader.documentRevision(revision, e); });
}

QList<AuditRecord> SqliteStore::audit(const AuditQuery &query, QString *error)
{
    return readCommitted(error, QList<AuditRecord>{},
                         [&](QString *e) { return m_reader.audit(query, e); });
}

bool SqliteStore::pruneBefore(Seconds rejectionsBefore, Seconds auditBefore, QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (!m_open) {
        *error = QStringLiteral("store is not open");
        return false;
    }
    if (rejectionsBefore == 0 && auditBefore == 0)
        return true;
    {
        const std::lock_guard q(m_queueMutex);
        m_pruneRejections = laterCutoff(m_pruneRejections, rejectionsBefore);
        m_pruneAudit = laterCutoff(m_pruneAudit, auditBefore);
        m_pruneSequence = m_committed; // what was committed before the call goes too
        ++m_pruneRequested;
    }
    m_wakeApplier.notify_one();
    return true;
}

bool SqliteStore::checkIntegrity(QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    if (!m_open) {
        *error = QStringLiteral("store is not open");
        return false;
    }
    {
        const std::lock_guard r(m_readMutex);
        const bool ok = m_reader.integrityCheck(error);
        m_reader.releaseMemory(); // the whole database went through its cache
        if (!ok)
            return false;
    }
    if (!m_snapshot.verify(error))
        return false;
    QList<Journal::SegmentView> segments;
    {
        const std::lock_guard w(m_writeMutex);
        segments = m_journal->segments();
    }
    return Journal::verify(segments, error);
}

} // namespace greygate
