// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace greygate {

// How far a successful commit() is guaranteed to survive.
enum class SyncMode
{
    // write() to the journal only: survives kill -9 of the process (the data is in the
    // kernel's page cache), not a power loss or kernel crash. The default: the
    // greylisting of a few mails again after a power cut is harmless.
    Process,
    // write() plus fdatasync() per commit, and SQLite with synchronous=FULL: survives a
    // power loss, at the price of one disk flush per commit (group commit amortises it).
    Full,
};

struct SqliteStoreOptions
{
    QString dbdir; // holds greygate.db, its WAL and journal/
    SyncMode sync = SyncMode::Process;
    qint64 segmentBytes = 64 << 20; // a journal segment is rotated once it is this large
    // Committed batches wait in memory for the applier. Past this many bytes (an estimate of
    // the memory the queued batches hold) commit() blocks until the applier catches up, so
    // memory stays bounded when SQLite is slow; past queueStallMs of blocking it fails
    // instead of hanging.
    qint64 maxQueueBytes = 16 << 20;
    int queueStallMs = 10'000;
    // The applier gathers commits for up to this long (or until applyBytes are queued)
    // before one SQLite transaction: with random keys nearly every change dirties its own
    // B-tree page, so the longer the gather, the more changes to one key (and one page) are
    // merged into one write. The journal, not SQLite, makes commits durable, so the delay
    // costs nothing but a little memory. -1: 500 ms with SyncMode::Process, 50 ms with Full,
    // where every commit already waits for the disk and large WAL syncs of the applier
    // (synchronous=FULL) were measured to slow the journal's fdatasync down tenfold.
    int applyIntervalMs = -1;
    qint64 applyBytes = 4 << 20;
    // The applier checkpoints the WAL into the database once it holds this much, instead of
    // SQLite's default of every 4 MB, so that a page changed by several transactions is
    // written back once. Also the size the WAL file is cut back to after a checkpoint.
    qint64 walCheckpointBytes = 32 << 20;
    // SQLite page cache of each connection, in KiB. The engine answers from its own memory;
    // SQLite only needs the B-tree's inner pages cached.
    int cacheKiB = 4 << 10;
    // The applier thread runs this much nicer than the rest of the process (and as
    // SCHED_BATCH), so that deciding and answering win the CPU when it is short; 0 keeps it
    // at the process's priority. Back-pressure (maxQueueBytes) still bounds how far behind
    // it may fall.
    int applierNice = 0;
    // Triplets and clients live in a snapshot file plus the journal (TripletSnapshot): a
    // new snapshot is written once the changes since the last one reach a quarter of its
    // records, but at least snapshotMinChanges and at most snapshotMaxChanges (each held
    // in memory, ~130 bytes a key, twice while a snapshot is being written).
    qsizetype snapshotMinChanges = 16 << 10;
    qsizetype snapshotMaxChanges = 192 << 10;
};

} // namespace greygate
