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
    // Committed batches wait in memory for the applier. Past this many bytes (journal
    // record sizes) commit() blocks until the applier catches up, so memory stays bounded
    // when SQLite is slow; past queueStallMs of blocking it fails instead of hanging.
    qint64 maxQueueBytes = 64 << 20;
    int queueStallMs = 10'000;
    // The applier gathers commits for up to this long (or until applyBytes are queued)
    // before one SQLite transaction, so that many small commits cost one transaction.
    int applyIntervalMs = 50;
    qint64 applyBytes = 4 << 20;
    // SQLite page cache of each connection, in KiB.
    int cacheKiB = 32 << 10;
};

} // namespace greygate
