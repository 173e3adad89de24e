// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "JournalPrefaulter.h"
#include "SqliteStoreOptions.h"

#include <QList>
#include <QString>
#include <functional>

namespace greygate {

// The append-only journal in front of SQLite: what makes commit() cheap. A committed batch
// is one record (JournalCodec) appended to the current segment DIR/<first sequence>.journal.
// A segment is mapped MAP_SHARED whole and backed by disk blocks in steps as records arrive
// (posix_fallocate), so an append is a copy into the page cache, without a system call on
// most commits, as durable against a killed process as a write(); where it cannot be
// mapped, records go in with write(). The next step is reserved half a step ahead and its
// pages faulted in by another thread (JournalPrefaulter), so the appends rarely wait for
// the file system. Segments are rotated by
// size, cut to their records when closed and deleted once SQLite holds all their records.
// Not thread-safe: SqliteStore serialises access.
class Journal
{
public:
    Journal(QString dir, SyncMode sync, qint64 segmentBytes);
    ~Journal();
    Journal(const Journal &) = delete;
    Journal &operator=(const Journal &) = delete;

    using RecordHandler =
        std::function<bool(quint64 sequence, const char *payload, qsizetype size, QString *error)>;
    // Reads every segment, oldest first, and hands each valid record to onRecord. A tail of
    // zeros (the unwritten rest of a segment that was never closed) is cut off silently, a
    // torn or corrupt one (a crash in the middle of an append) with a warning; only an I/O
    // error or onRecord's refusal fails. lastSequence: the highest sequence seen.
    bool recover(const RecordHandler &onRecord, quint64 *lastSequence, QString *error);

    // Deletes every segment (SQLite holds all of them) and starts an empty one whose first
    // record will be firstSequence.
    bool reset(quint64 firstSequence, QString *error);

    // Appends a sealed record: copied into the mapped segment and msync()ed in
    // SyncMode::Full, or, where it does not fit or the segment is not mapped, with one
    // write() (looping on partial writes and EINTR) and fdatasync() in SyncMode::Full. A
    // record that does not fit the mapped rest starts a new segment; space that cannot be
    // reserved (a full disk) is an error. On failure nothing of the record stays in
    // the file, so a failed commit can never leave a half record ahead of later good ones.
    bool append(const QByteArray &record, quint64 sequence, QString *error);

    // Forgets rotated segments whose records are all at or below appliedSequence and
    // returns their paths: the caller deletes them (removeFiles) outside its lock.
    QStringList takeApplied(quint64 appliedSequence);
    static void removeFiles(const QStringList &paths);
    // Closes the current segment and deletes every segment: SQLite holds all records.
    void removeAll();
    void close();

    struct SegmentView
    {
        QString path;
        qint64 size = 0; // bytes committed; anything beyond is still being written
    };
    QList<SegmentView> segments() const;
    // Checks every record up to each segment's committed size: magic, length, CRC and
    // increasing sequence numbers. Segments deleted meanwhile are skipped (applied).
    static bool verify(const QList<SegmentView> &segments, QString *error);

private:
    struct Closed
    {
        QString path;
        qint64 size = 0;
        quint64 lastSequence = 0;
    };
    bool openSegment(quint64 firstSequence, QString *error);
    void closeSegment();
    bool reserve(qint64 end, QString *error);
    void reserveAhead();
    bool writeRecord(const QByteArray &record, QString *error);
    bool rollback(qint64 size);
    void syncDirectory() const;
    QString segmentPath(quint64 firstSequence) const;

    QString m_dir;
    SyncMode m_sync;
    qint64 m_segmentBytes;
    QList<Closed> m_closed;
    int m_fd = -1;
    char *m_map = nullptr; // the current segment's first m_mapped bytes, or none
    qint64 m_mapped = 0;
    qint64 m_released = 0; // mapped pages below this were handed back (see append)
    qint64 m_reserved = 0; // the file's size: the mapped bytes backed by blocks
    QString m_path;
    qint64 m_size = 0;
    quint64 m_lastSequence = 0;
    bool m_tailDirty = false;    // a failed append whose bytes could not be cut off yet
    bool m_aheadRefused = false; // no space ahead: wait for a commit that needs it
    JournalPrefaulter m_prefaulter;
};

} // namespace greygate
