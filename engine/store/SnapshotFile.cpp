// SPDX-License-Identifier: GPL-3.0-or-later
#include "SnapshotFile.h"

#include "Crc32.h"

#include <QFile>
#include <QFileInfo>
#include <QtEndian>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace greygate {

namespace {

constexpr char kMagic[8] = {'G', 'G', 'S', 'N', 'A', 'P', '0', '1'};
constexpr qsizetype kHeaderSize = 16;
constexpr qsizetype kBlockBytes = 1 << 20;        // written blocks: large sequential writes
constexpr qsizetype kMaxBlockBytes = 64 << 20;    // what a reader accepts
constexpr qsizetype kMaxKeyBytes = 0xffff;        // TripletKey::joined() is far shorter
constexpr qsizetype kTrailerSize = 4 + 8 + 8 + 4; // end marker, counts, CRC

QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

void putVarint(QByteArray &out, quint64 v)
{
    char buf[10];
    int n = 0;
    while (v >= 0x80) {
        buf[n++] = char(quint8(v) | 0x80);
        v >>= 7;
    }
    buf[n++] = char(v);
    out.append(buf, n);
}

quint64 zigzag(qint64 v)
{
    return (quint64(v) << 1) ^ quint64(v >> 63);
}

qint64 unzigzag(quint64 v)
{
    return qint64(v >> 1) ^ -qint64(v & 1);
}

// Bounds-checked parsing of one record's fields.
class Cursor
{
public:
    Cursor(const char *p, const char *end)
        : m_p(p)
        , m_end(end)
    {}
    bool ok() const { return m_ok; }
    const char *position() const { return m_p; }
    quint8 u8()
    {
        if (m_p >= m_end)
            return fail();
        return quint8(*m_p++);
    }
    quint64 varint()
    {
        quint64 v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p >= m_end)
                return fail();
            const auto b = quint8(*m_p++);
            v |= quint64(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        return fail();
    }
    QByteArrayView bytes(quint64 n)
    {
        if (n > quint64(m_end - m_p)) {
            fail();
            return {};
        }
        const QByteArrayView v(m_p, qsizetype(n));
        m_p += n;
        return v;
    }

private:
    quint8 fail()
    {
        m_ok = false;
        m_p = m_end;
        return 0;
    }
    const char *m_p;
    const char *m_end;
    bool m_ok = true;
};

// Parses the record at the cursor; false if it is not a well-formed record.
bool parseRecord(Cursor &c, SnapshotFile::RawRecord *out)
{
    const char *start = c.position();
    out->type = c.u8();
    const quint64 keyLength = c.varint();
    if (!c.ok() || keyLength > quint64(kMaxKeyBytes))
        return false;
    out->key = c.bytes(keyLength);
    if (out->type == SnapshotFile::kTriplet) {
        c.varint();
        c.varint();
        c.varint();
        c.varint();
        if (c.u8() > 1)
            return false;
    } else if (out->type == SnapshotFile::kClient) {
        c.varint();
        c.varint();
    } else {
        return false;
    }
    out->raw = QByteArrayView(start, c.position() - start);
    return c.ok();
}

quint32 trailerCrc(quint64 sequence, quint64 triplets, quint64 clients)
{
    char buf[24];
    qToLittleEndian(sequence, buf);
    qToLittleEndian(triplets, buf + 8);
    qToLittleEndian(clients, buf + 16);
    return crc32(buf, sizeof buf);
}

} // namespace

SnapshotFile::Reader::Reader(QString path)
    : m_path(std::move(path))
{}

SnapshotFile::Reader::~Reader()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

bool SnapshotFile::Reader::readFully(char *data, qsizetype size, QString *error)
{
    while (size > 0) {
        const ssize_t n = ::read(m_fd, data, size_t(size));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error = n < 0 ? QStringLiteral("cannot read snapshot %1: %2").arg(m_path, errnoText())
                           : QStringLiteral("snapshot %1 is truncated").arg(m_path);
            return false;
        }
        data += n;
        size -= n;
    }
    return true;
}

bool SnapshotFile::Reader::open(QString *error)
{
    m_fd = ::open(QFile::encodeName(m_path).constData(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) {
        *error = QStringLiteral("cannot open snapshot %1: %2").arg(m_path, errnoText());
        return false;
    }
    char header[kHeaderSize];
    if (!readFully(header, kHeaderSize, error))
        return false;
    if (std::memcmp(header, kMagic, sizeof kMagic) != 0) {
        *error = QStringLiteral("%1 is not a greygate snapshot").arg(m_path);
        return false;
    }
    m_sequence = qFromLittleEndian<quint64>(header + 8);
    return true;
}

bool SnapshotFile::Reader::read(const std::function<bool(const RawRecord &)> &onRecord,
                                QString *error)
{
    QByteArray block;
    quint64 triplets = 0;
    quint64 clients = 0;
    for (;;) {
        char head[8];
        if (!readFully(head, 4, error))
            return false;
        const quint32 length = qFromLittleEndian<quint32>(head);
        if (length == 0)
            break;
        if (!readFully(head + 4, 4, error))
            return false;
        if (qsizetype(length) > kMaxBlockBytes) {
            *error = QStringLiteral("snapshot %1 is damaged (a block of %2 bytes)")
                         .arg(m_path)
                         .arg(length);
            return false;
        }
        block.resize(length);
        if (!readFully(block.data(), length, error))
            return false;
        if (crc32(block.constData(), length) != qFromLittleEndian<quint32>(head + 4)) {
            *error = QStringLiteral("snapshot %1 is damaged (checksum mismatch)").arg(m_path);
            return false;
        }
        Cursor c(block.constData(), block.constData() + length);
        while (c.position() < block.constData() + length) {
            RawRecord record;
            if (!parseRecord(c, &record)) {
                *error = QStringLiteral("snapshot %1 is damaged (a bad record)").arg(m_path);
                return false;
            }
            ++(record.type == kTriplet ? triplets : clients);
            if (!onRecord(record)) {
                *error = QStringLiteral("reading snapshot %1 was stopped").arg(m_path);
                return false;
            }
        }
    }
    char trailer[kTrailerSize - 4];
    if (!readFully(trailer, sizeof trailer, error))
        return false;
    const quint64 wantTriplets = qFromLittleEndian<quint64>(trailer);
    const quint64 wantClients = qFromLittleEndian<quint64>(trailer + 8);
    if (trailerCrc(m_sequence, wantTriplets, wantClients) !=
            qFromLittleEndian<quint32>(trailer + 16) ||
        wantTriplets != triplets || wantClients != clients) {
        *error = QStringLiteral("snapshot %1 is damaged (its end does not match)").arg(m_path);
        return false;
    }
    return true;
}

SnapshotFile::Writer::Writer(QString path)
    : m_path(std::move(path))
    , m_temporary(m_path + QStringLiteral(".tmp"))
{}

SnapshotFile::Writer::~Writer()
{
    if (m_fd >= 0) {
        ::close(m_fd);
        ::unlink(QFile::encodeName(m_temporary).constData());
    }
}

bool SnapshotFile::Writer::writeAll(const char *data, qsizetype size, QString *error)
{
    while (size > 0) {
        const ssize_t n = ::write(m_fd, data, size_t(size));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *error = QStringLiteral("cannot write snapshot %1: %2").arg(m_temporary, errnoText());
            return false;
        }
        data += n;
        size -= n;
    }
    return true;
}

bool SnapshotFile::Writer::open(quint64 sequence, QString *error)
{
    m_fd = ::open(QFile::encodeName(m_temporary).constData(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        *error = QStringLiteral("cannot create snapshot %1: %2").arg(m_temporary, errnoText());
        return false;
    }
    m_sequence = sequence;
    char header[kHeaderSize];
    std::memcpy(header, kMagic, sizeof kMagic);
    qToLittleEndian(sequence, header + 8);
    m_block.reserve(kBlockBytes + 1024);
    return writeAll(header, kHeaderSize, error);
}

bool SnapshotFile::Writer::flushBlock(QString *error)
{
    if (m_block.isEmpty())
        return true;
    char head[8];
    qToLittleEndian(quint32(m_block.size()), head);
    qToLittleEndian(crc32(m_block.constData(), m_block.size()), head + 4);
    const bool ok =
        writeAll(head, 8, error) && writeAll(m_block.constData(), m_block.size(), error);
    m_block.resize(0);
    return ok;
}

bool SnapshotFile::Writer::maybeFlush(QString *error)
{
    return m_block.size() < kBlockBytes || flushBlock(error);
}

bool SnapshotFile::Writer::appendTriplet(QByteArrayView joinedKey, const TripletState &state,
                                         QString *error)
{
    if (joinedKey.size() > kMaxKeyBytes)
        return true; // the engine never holds such a key
    m_block.append(char(kTriplet));
    putVarint(m_block, quint64(joinedKey.size()));
    m_block.append(joinedKey.data(), joinedKey.size());
    putVarint(m_block, zigzag(state.firstSeen));
    putVarint(m_block, zigzag(state.lastSeen));
    putVarint(m_block, zigzag(state.passedAt));
    putVarint(m_block, state.attempts);
    m_block.append(char(state.status == TripletStatus::Passed ? 1 : 0));
    ++m_triplets;
    return maybeFlush(error);
}

bool SnapshotFile::Writer::append(const TripletRecord &record, QString *error)
{
    return appendTriplet(record.key.joined(), record.state, error);
}

bool SnapshotFile::Writer::append(const ClientRecord &record, QString *error)
{
    if (record.client.size() > kMaxKeyBytes)
        return true;
    m_block.append(char(kClient));
    putVarint(m_block, quint64(record.client.size()));
    m_block.append(record.client);
    putVarint(m_block, record.passes);
    putVarint(m_block, zigzag(record.lastSeen));
    ++m_clients;
    return maybeFlush(error);
}

bool SnapshotFile::Writer::appendRaw(const RawRecord &record, QString *error)
{
    m_block.append(record.raw.data(), record.raw.size());
    ++(record.type == kTriplet ? m_triplets : m_clients);
    return maybeFlush(error);
}

bool SnapshotFile::Writer::commit(QString *error)
{
    char trailer[kTrailerSize];
    qToLittleEndian(quint32(0), trailer);
    qToLittleEndian(m_triplets, trailer + 4);
    qToLittleEndian(m_clients, trailer + 12);
    qToLittleEndian(trailerCrc(m_sequence, m_triplets, m_clients), trailer + 20);
    if (!flushBlock(error) || !writeAll(trailer, kTrailerSize, error))
        return false;
    // Synced before the rename and before the journal it replaces is deleted, whatever the
    // sync mode: losing a snapshot would lose every triplet, not the last few seconds.
    if (::fdatasync(m_fd) != 0) {
        *error = QStringLiteral("cannot sync snapshot %1: %2").arg(m_temporary, errnoText());
        return false;
    }
    ::close(m_fd);
    m_fd = -1;
    const QByteArray from = QFile::encodeName(m_temporary);
    if (::rename(from.constData(), QFile::encodeName(m_path).constData()) != 0) {
        *error = QStringLiteral("cannot rename snapshot %1: %2").arg(m_temporary, errnoText());
        ::unlink(from.constData());
        return false;
    }
    const QByteArray dir = QFile::encodeName(QFileInfo(m_path).absolutePath());
    if (const int fd = ::open(dir.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
        ::fsync(fd); // the new name must survive a power loss too
        ::close(fd);
    }
    return true;
}

bool SnapshotFile::decodeTriplet(const RawRecord &record, TripletRecord *out)
{
    Cursor c(record.raw.data(), record.raw.data() + record.raw.size());
    c.u8();
    c.bytes(c.varint());
    out->state.firstSeen = unzigzag(c.varint());
    out->state.lastSeen = unzigzag(c.varint());
    out->state.passedAt = unzigzag(c.varint());
    out->state.attempts = quint32(qMin<quint64>(c.varint(), 0xffffffffu));
    out->state.status = c.u8() == 1 ? TripletStatus::Passed : TripletStatus::Deferred;
    std::optional<TripletKey> key = TripletKey::split(record.key.toByteArray());
    if (!c.ok() || record.type != kTriplet || !key)
        return false;
    out->key = std::move(*key);
    return true;
}

bool SnapshotFile::decodeClient(const RawRecord &record, ClientRecord *out)
{
    Cursor c(record.raw.data(), record.raw.data() + record.raw.size());
    c.u8();
    c.bytes(c.varint());
    out->passes = quint32(qMin<quint64>(c.varint(), 0xffffffffu));
    out->lastSeen = unzigzag(c.varint());
    out->client = record.key.toByteArray();
    return c.ok() && record.type == kClient;
}

} // namespace greygate
