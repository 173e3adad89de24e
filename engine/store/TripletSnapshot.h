// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "WriteBatch.h"
#include "greylist/KeyedSlotTable.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace greygate {

// Where the store keeps triplets and auto-whitelisted clients: a snapshot file
// (DBDIR/triplets.snap, SnapshotFile) holding them as of one journal sequence, plus the
// changes of the journal records committed after it, merged per key in memory (the delta).
// The journal, not this class, makes those changes durable: the store deletes a journal
// segment only once sequence() covers it.
//
// When the delta has grown to a quarter of the snapshot (bounded by minChanges and
// maxChanges), a compactor thread writes a new snapshot: it streams the old file, copies
// every record the delta does not override, appends the delta, syncs and renames. The
// delta is frozen meanwhile and new changes go to a fresh one, so the applier never waits.
// This replaced a random B-tree update per change (a 4 KiB page copied in and out of the
// kernel for ~100 bytes of state) by sequential writes of a few records per change.
//
// Thread-safe: add() and compactIfDue() from the store's applier; load(), verify(),
// compactNow() from any thread.
class TripletSnapshot
{
public:
    using TripletSink = std::function<void(TripletRecord &&)>;
    using ClientSink = std::function<void(ClientRecord &&)>;
    // Streams triplets and clients from elsewhere (the SQLite tables of older versions).
    using BaseReader = std::function<bool(const TripletSink &, const ClientSink &, QString *)>;

    TripletSnapshot(QString dbdir, qsizetype minChanges, qsizetype maxChanges);
    ~TripletSnapshot();
    TripletSnapshot(const TripletSnapshot &) = delete;
    TripletSnapshot &operator=(const TripletSnapshot &) = delete;

    // Reads the snapshot's header, if there is one, and starts the compactor.
    bool open(QString *error);
    // Stops the compactor after the compaction it runs; what was not written stays in the
    // journal.
    void close();
    bool exists() const;
    // Every journal record up to this sequence is in the file.
    quint64 sequence() const { return m_sequence.load(); }

    // The triplet and client changes of the committed batch `sequence`, newer than
    // everything added before.
    void add(const WriteBatch &batch, quint64 sequence);
    // Starts a background compaction covering everything added so far when the delta is
    // large enough and none runs (a compaction that ends with enough new changes starts
    // the next one itself). onWritten runs on the compactor thread after each one.
    void compactIfDue();
    void setOnWritten(std::function<void(quint64 sequence)> onWritten);
    // Waits for a running compaction, then writes everything added so far as of sequence,
    // from base (when given, instead of the file) and the delta.
    bool compactNow(quint64 sequence, const BaseReader &base, QString *error);
    bool hasChanges() const;

    // Streams the file merged with the delta: each key once, with its latest state.
    bool load(const TripletSink &onTriplet, const ClientSink &onClient, QString *error);
    // Reads the whole file, checking every CRC and record.
    bool verify(QString *error);

    struct Stats
    {
        quint64 sequence = 0;
        qsizetype pendingChanges = 0; // keys in the deltas
        quint64 compactions = 0;
        quint64 snapshotRecords = 0;
    };
    Stats stats() const;

private:
    struct TripletChange
    {
        TripletState state;
        bool removed = false;
    };
    struct ClientChange
    {
        Seconds lastSeen = 0;
        quint32 passes = 0;
        bool removed = false;
    };
    struct Delta
    {
        KeyedSlotTable<TripletChange> triplets; // key: TripletKey::joined()
        KeyedSlotTable<ClientChange> clients;
        qsizetype size() const { return qsizetype(triplets.size()) + clients.size(); }
        void clear()
        {
            triplets.clear();
            clients.clear();
        }
        bool overrides(quint8 type, QByteArrayView key) const;
        void putTriplet(QByteArrayView key, const TripletChange &change);
        void putClient(QByteArrayView key, const ClientChange &change);
    };

    QString path() const;
    qsizetype threshold() const; // with m_mutex held
    bool startIfDue();           // with m_mutex held
    void compactorLoop();
    bool write(quint64 sequence, const BaseReader &base, QString *error);
    void finish(bool ok, quint64 sequence, const QString &error); // with m_mutex held
    void unfreeze();                                              // with m_mutex held

    const QString m_dbdir;
    const qsizetype m_minChanges;
    const qsizetype m_maxChanges;
    std::atomic<quint64> m_sequence = 0;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake; // the compactor: a target or stop
    std::condition_variable m_idle; // compactNow(): the compactor is done
    std::unique_ptr<Delta> m_active = std::make_unique<Delta>();
    std::unique_ptr<Delta> m_frozen = std::make_unique<Delta>(); // being written
    bool m_exists = false;
    bool m_compacting = false;
    quint64 m_target = 0; // a compaction the compactor is asked for
    quint64 m_added = 0;  // the sequence of the last batch added
    std::function<void(quint64)> m_onWritten;
    quint64 m_records = 0;        // in the file
    quint64 m_pendingRecords = 0; // in the file being written
    quint64 m_compactions = 0;
    bool m_stop = false;
    std::chrono::steady_clock::time_point m_retryAt{};
    QString m_lastError;
    std::thread m_compactor;
};

} // namespace greygate
