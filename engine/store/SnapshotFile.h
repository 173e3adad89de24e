// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Triplet.h"

#include <QByteArray>
#include <QString>
#include <functional>

namespace greygate {

// The on-disk form of a triplet snapshot (DBDIR/triplets.snap): every triplet and client as
// of one journal sequence.
//
//   header  8 bytes magic "GGSNAP01", u64 sequence (little-endian)
//   blocks  u32 payload length (> 0), u32 CRC-32 of the payload, payload: whole records
//   end     u32 0, u64 triplet count, u64 client count, u32 CRC-32 of sequence and counts
//
// Record: u8 type (1 triplet, 2 client), varint key length, key bytes (a triplet's
// TripletKey::joined()), then a triplet's zigzag-varint firstSeen, lastSeen, passedAt,
// varint attempts, u8 status; a client's varint passes, zigzag-varint lastSeen. Varints
// are LEB128: a snapshot of a million triplets is ~75 MB, read and written sequentially.
//
// A file is written under a temporary name, synced and renamed into place, so a snapshot
// that exists is whole; the CRCs and the end's counts catch a disk that damaged it anyway.
class SnapshotFile
{
public:
    static constexpr quint8 kTriplet = 1;
    static constexpr quint8 kClient = 2;

    // One record as read: the key and, undecoded, what follows it (raw: the whole record,
    // for copying into a new snapshot without re-encoding it).
    struct RawRecord
    {
        quint8 type = 0;
        QByteArrayView key;
        QByteArrayView raw;
    };

    // Streams an existing file. Every failure (I/O, bad magic, CRC, truncation, a record
    // that does not parse, counts that do not match) is an error naming the file.
    class Reader
    {
    public:
        explicit Reader(QString path);
        ~Reader();
        Reader(const Reader &) = delete;
        Reader &operator=(const Reader &) = delete;
        bool open(QString *error); // reads the header
        quint64 sequence() const { return m_sequence; }
        // Hands every record to onRecord in file order; stops (and fails) when it returns
        // false.
        bool read(const std::function<bool(const RawRecord &)> &onRecord, QString *error);

    private:
        bool readFully(char *data, qsizetype size, QString *error);
        QString m_path;
        int m_fd = -1;
        quint64 m_sequence = 0;
    };

    // Writes a new file at path + ".tmp"; commit() syncs it and renames it over path.
    class Writer
    {
    public:
        explicit Writer(QString path);
        ~Writer(); // an uncommitted file is removed
        Writer(const Writer &) = delete;
        Writer &operator=(const Writer &) = delete;
        bool open(quint64 sequence, QString *error);
        bool append(const TripletRecord &record, QString *error);
        bool append(const ClientRecord &record, QString *error);
        bool appendTriplet(QByteArrayView joinedKey, const TripletState &state, QString *error);
        bool appendRaw(const RawRecord &record, QString *error);
        bool commit(QString *error);
        quint64 triplets() const { return m_triplets; }
        quint64 clients() const { return m_clients; }

    private:
        bool flushBlock(QString *error);
        bool writeAll(const char *data, qsizetype size, QString *error);
        bool maybeFlush(QString *error);
        QString m_path;
        QString m_temporary;
        int m_fd = -1;
        quint64 m_sequence = 0;
        QByteArray m_block;
        quint64 m_triplets = 0;
        quint64 m_clients = 0;
    };

    static bool decodeTriplet(const RawRecord &record, TripletRecord *out);
    static bool decodeClient(const RawRecord &record, ClientRecord *out);
};

} // namespace greygate
