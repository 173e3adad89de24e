// SPDX-License-Identifier: GPL-3.0-or-later
#include "Journal.h"

#include "JournalCodec.h"
#include "StoreLog.h"

#include <QDir>
#include <QFile>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace greygate {

namespace {

const QString kSuffix = QStringLiteral(".journal");

// Pages of the mapped segment below the committed end are handed back to the page cache
// every this many bytes: they are never touched again, and would otherwise count as the
// daemon's resident memory (a whole segment's worth) until the segment is closed.
constexpr qint64 kReleaseBytes = 1 << 20;

qint64 pageSize()
{
    static const qint64 size = ::sysconf(_SC_PAGESIZE);
    return size;
}

// Segment space is reserved on disk in steps of this size as records arrive.
constexpr qint64 kReserveBytes = 64 << 10;

qint64 roundDown(qint64 n, qint64 to)
{
    return n / to * to;
}

qint64 roundUp(qint64 n, qint64 to)
{
    return (n + to - 1) / to * to;
}

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

enum class ScanEnd
{
    Clean,     // the file ends after a complete record
    Unwritten, // only zeros from validEnd on: the reserved, unused rest of a segment
    Torn,      // a partial or corrupt record from validEnd on
    IoError,   // the file could not be read
    Refused,   // the record handler failed
};

// Whether bytes [from, end) of file are all zero. A read error counts as not zero: the
// caller then reports the tail as torn.
bool zeroFrom(QFile &file, qint64 from, qint64 end)
{
    if (!file.seek(from))
        return false;
    static const char zeros[64 << 10] = {};
    char buf[sizeof zeros];
    for (qint64 pos = from; pos < end;) {
        const qint64 want = qMin<qint64>(sizeof buf, end - pos);
        if (file.read(buf, want) != want || std::memcmp(buf, zeros, size_t(want)) != 0)
            return false;
        pos += want;
    }
    return true;
}

// Reads records from path up to limit bytes (-1: the whole file). validEnd is where the
// last good record ends; reason tells why a Torn scan stopped.
ScanEnd scanSegment(const QString &path, qint64 limit, quint64 *previous,
                    const Journal::RecordHandler &onRecord, qint64 *validEnd, QString *reason)
{
    QFile file(path);
    *validEnd = 0;
    if (!file.open(QIODevice::ReadOnly)) {
        *reason = file.errorString();
        return file.exists() ? ScanEnd::IoError : ScanEnd::Clean;
    }
    const qint64 end = limit < 0 ? file.size() : qMin(limit, file.size());
    // A kill or a power loss leaves a mapped segment's never-written rest as zeros: no
    // record was lost there, unlike in a tail with anything else in it.
    const auto torn = [&](QString why) {
        if (zeroFrom(file, *validEnd, end))
            return ScanEnd::Unwritten;
        *reason = std::move(why);
        return ScanEnd::Torn;
    };
    QByteArray payload;
    qint64 pos = 0;
    while (pos < end) {
        char header[JournalCodec::kHeaderSize];
        if (end - pos < JournalCodec::kHeaderSize)
            return torn(QStringLiteral("partial record header"));
        if (file.read(header, sizeof header) != qint64(sizeof header)) {
            *reason = file.errorString();
            return ScanEnd::IoError;
        }
        const JournalCodec::Header h = JournalCodec::parseHeader(header);
        if (h.magic != JournalCodec::kMagic)
            return torn(QStringLiteral("bad record magic"));
        if (qint64(h.length) > JournalCodec::kMaxPayload ||
            qint64(h.length) > end - pos - JournalCodec::kHeaderSize)
            return torn(QStringLiteral("record of %1 bytes runs past the end").arg(h.length));
        payload.resize(h.length);
        if (file.read(payload.data(), h.length) != qint64(h.length)) {
            *reason = file.errorString();
            return ScanEnd::IoError;
        }
        if (!JournalCodec::verify(h, payload.constData()))
            return torn(QStringLiteral("CRC mismatch in record %1").arg(h.sequence));
        if (h.sequence <= *previous)
            return torn(QStringLiteral("sequence %1 after %2").arg(h.sequence).arg(*previous));
        if (onRecord && !onRecord(h.sequence, payload.constData(), payload.size(), reason))
            return ScanEnd::Refused;
        *previous = h.sequence;
        pos += JournalCodec::kHeaderSize + h.length;
        *validEnd = pos;
    }
    return ScanEnd::Clean;
}

QStringList segmentFiles(const QString &dir)
{
    // Names are zero-padded sequence numbers, so name order is journal order.
    return QDir(dir).entryList({QStringLiteral("*.journal")}, QDir::Files, QDir::Name);
}

} // namespace

Journal::Journal(QString dir, SyncMode sync, qint64 segmentBytes)
    : m_dir(std::move(dir))
    , m_sync(sync)
    , m_segmentBytes(qMax<qint64>(segmentBytes, 4096))
{}

Journal::~Journal()
{
    close();
}

QString Journal::segmentPath(quint64 firstSequence) const
{
    return m_dir + u'/' + QStringLiteral("%1").arg(firstSequence, 20, 10, QChar(u'0')) + kSuffix;
}

bool Journal::recover(const RecordHandler &onRecord, quint64 *lastSequence, QString *error)
{
    quint64 previous = 0;
    const QStringList files = segmentFiles(m_dir);
    for (const QString &name : files) {
        const QString path = m_dir + u'/' + name;
        qint64 validEnd = 0;
        QString reason;
        switch (scanSegment(path, -1, &previous, onRecord, &validEnd, &reason)) {
        case ScanEnd::Clean:
            break;
        case ScanEnd::IoError:
        case ScanEnd::Refused:
            *error = QStringLiteral("journal %1: %2").arg(path, reason);
            return false;
        case ScanEnd::Unwritten:
            // Cut so that the segment looks like a closed one: nothing may ever be appended
            // after the zeros.
            if (!QFile::resize(path, validEnd)) {
                *error = QStringLiteral("journal %1: cannot cut off its unwritten rest").arg(path);
                return false;
            }
            break;
        case ScanEnd::Torn: {
            QFile file(path);
            const qint64 size = file.size();
            // Expected after a crash in the middle of a write: that record was never
            // acknowledged. Anywhere but the last segment it means lost data: say so louder.
            if (name == files.last())
                qCWarning(lcStore, "journal %s: %s at offset %lld; cutting off %lld bytes",
                          qPrintable(path), qPrintable(reason), validEnd, size - validEnd);
            else
                qCCritical(lcStore,
                           "journal %s: %s at offset %lld in a middle segment; cutting off "
                           "%lld bytes",
                           qPrintable(path), qPrintable(reason), validEnd, size - validEnd);
            if (!file.resize(validEnd)) {
                *error = QStringLiteral("journal %1: cannot cut off a torn record: %2")
                             .arg(path, file.errorString());
                return false;
            }
            break;
        }
        }
    }
    *lastSequence = previous;
    return true;
}

bool Journal::reset(quint64 firstSequence, QString *error)
{
    removeAll();
    return openSegment(firstSequence, error);
}

void Journal::removeAll()
{
    close();
    const QStringList files = segmentFiles(m_dir);
    for (const QString &name : files) {
        if (!QFile::remove(m_dir + u'/' + name))
            qCWarning(lcStore, "cannot remove applied journal %s/%s", qPrintable(m_dir),
                      qPrintable(name));
    }
    m_closed.clear();
    m_size = 0;
    m_tailDirty = false;
}

bool Journal::openSegment(quint64 firstSequence, QString *error)
{
    const QString path = segmentPath(firstSequence);
    const QByteArray name = QFile::encodeName(path);
    const int fd = ::open(name.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = QStringLiteral("cannot create journal %1: %2").arg(path, errnoText(errno));
        return false;
    }
    struct stat st = {};
    const qint64 size = ::fstat(fd, &st) == 0 ? st.st_size : 0;
    char *map = nullptr;
    qint64 mapped = 0;
    // A file left from before (it could not be removed) is appended to as it is. A new one
    // is mapped whole, but only its first bytes are backed by blocks (reserve()): a segment
    // takes disk space as records arrive, so a small disk still starts the daemon.
    if (size == 0) {
        mapped = roundUp(m_segmentBytes, pageSize());
        void *p = ::mmap(nullptr, size_t(mapped), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            qCWarning(lcStore, "cannot map journal %s (%s); appending to it with write()",
                      qPrintable(path), std::strerror(errno));
            mapped = 0;
        } else {
            map = static_cast<char *>(p);
        }
    }
    if (m_fd >= 0) {
        closeSegment();
        m_closed.append({m_path, m_size, m_lastSequence});
    }
    m_fd = fd;
    m_map = map;
    m_mapped = mapped;
    m_released = 0;
    m_reserved = size;
    m_path = path;
    m_size = size;
    if (m_sync == SyncMode::Full)
        syncDirectory(); // the new file's name must survive a power loss too
    return true;
}

void Journal::closeSegment()
{
    if (m_map) {
        m_prefaulter.cancel();
        ::munmap(m_map, size_t(m_mapped));
        // A closed segment holds its records and nothing else, as if written with write().
        if (::ftruncate(m_fd, m_size) != 0)
            qCWarning(lcStore, "journal %s: cannot cut off its unused rest: %s", qPrintable(m_path),
                      std::strerror(errno));
    }
    ::close(m_fd);
    m_fd = -1;
    m_map = nullptr;
    m_mapped = 0;
}

bool Journal::reserve(qint64 end, QString *error)
{
    // The blocks must exist before the mapping is written: a full disk fails this commit
    // here, not a copy later with a SIGBUS. Small steps keep a nearly full disk usable.
    const qint64 upTo = qMin(m_mapped, roundUp(end, kReserveBytes));
    const int failed = ::posix_fallocate(m_fd, m_reserved, upTo - m_reserved);
    if (failed != 0) {
        *error = QStringLiteral("cannot reserve %1 bytes for journal %2: %3")
                     .arg(upTo - m_reserved)
                     .arg(m_path, errnoText(failed));
        return false;
    }
    // The new size must survive a power loss before any record relies on it.
    if (m_sync == SyncMode::Full && ::fdatasync(m_fd) != 0) {
        *error = QStringLiteral("cannot flush journal %1: %2").arg(m_path, errnoText(errno));
        return false;
    }
    if (m_map) {
        const qint64 from = roundUp(m_reserved, pageSize());
        if (upTo > from)
            m_prefaulter.request(m_map + from, size_t(upTo - from));
    }
    m_reserved = upTo;
    return true;
}

void Journal::reserveAhead()
{
    // Best effort: the commit that really needs the space reports a full disk.
    if (!m_map || m_aheadRefused || m_reserved >= m_mapped ||
        m_reserved - m_size >= kReserveBytes / 2)
        return;
    QString ignored;
    if (!reserve(m_reserved + 1, &ignored))
        m_aheadRefused = true;
}

bool Journal::append(const QByteArray &record, quint64 sequence, QString *error)
{
    if (m_fd < 0) {
        *error = QStringLiteral("journal is closed");
        return false;
    }
    if (m_tailDirty && !rollback(m_size)) {
        *error = QStringLiteral("journal %1 has an unremovable partial record: %2")
                     .arg(m_path, errnoText(errno));
        return false;
    }
    const qint64 size = record.size();
    if (m_size > 0 && (m_size >= m_segmentBytes || (m_map && m_size + size > m_mapped))) {
        QString rotateError;
        if (!openSegment(sequence, &rotateError))
            qCWarning(lcStore, "%s; staying on %s", qPrintable(rotateError), qPrintable(m_path));
    }
    if (m_map && m_size + size <= m_mapped) {
        if (m_size + size > m_reserved) {
            if (!reserve(m_size + size, error))
                return false;
            m_aheadRefused = false;
        }
        // The page cache holds the copy as it would hold a write(): it outlives the process.
        std::memcpy(m_map + m_size, record.constData(), size_t(size));
        if (m_sync == SyncMode::Full) {
            const qint64 from = roundDown(m_size, pageSize());
            if (::msync(m_map + from, size_t(m_size + size - from), MS_SYNC) != 0) {
                const int saved = errno;
                rollback(m_size);
                *error =
                    QStringLiteral("cannot flush journal %1: %2").arg(m_path, errnoText(saved));
                return false;
            }
        }
    } else if (!writeRecord(record, error)) {
        return false;
    }
    m_size += size;
    m_reserved = qMax(m_reserved, m_size);
    m_lastSequence = sequence;
    reserveAhead();
    if (m_map && m_size - m_released >= kReleaseBytes) {
        // The pages stay in the page cache, dirty ones included: only the mapping lets go.
        const qint64 upTo = qMin(roundDown(m_size, pageSize()), m_mapped);
        if (upTo > m_released)
            ::madvise(m_map + m_released, size_t(upTo - m_released), MADV_DONTNEED);
        m_released = upTo;
    }
    return true;
}

bool Journal::writeRecord(const QByteArray &record, QString *error)
{
    const char *p = record.constData();
    qsizetype left = record.size();
    off_t at = m_size;
    while (left > 0) {
        const ssize_t n = ::pwrite(m_fd, p, size_t(left), at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int saved = n < 0 ? errno : ENOSPC;
            rollback(m_size);
            *error = QStringLiteral("cannot write journal %1: %2").arg(m_path, errnoText(saved));
            return false;
        }
        p += n;
        left -= n;
        at += n;
    }
    if (m_sync == SyncMode::Full && ::fdatasync(m_fd) != 0) {
        // After a failed flush the page cache may lie about what is on disk: drop the
        // record, so the caller's "not committed" is the truth.
        const int saved = errno;
        rollback(m_size);
        *error = QStringLiteral("cannot flush journal %1: %2").arg(m_path, errnoText(saved));
        return false;
    }
    return true;
}

bool Journal::rollback(qint64 size)
{
    // Cutting the file also zeroes what the mapping showed past the cut; a later append
    // reserves the space again before copying, so the mapping stays usable.
    m_prefaulter.cancel();
    if (::ftruncate(m_fd, size) == 0) {
        m_reserved = size;
        m_tailDirty = false;
        return true;
    }
    m_tailDirty = true;
    qCWarning(lcStore, "journal %s: cannot cut off a failed write: %s", qPrintable(m_path),
              std::strerror(errno));
    return false;
}

QStringList Journal::takeApplied(quint64 appliedSequence)
{
    QStringList paths;
    while (!m_closed.isEmpty() && m_closed.first().lastSequence <= appliedSequence)
        paths.append(m_closed.takeFirst().path);
    return paths;
}

void Journal::removeFiles(const QStringList &paths)
{
    for (const QString &path : paths) {
        if (!QFile::remove(path))
            qCWarning(lcStore, "cannot remove applied journal %s", qPrintable(path));
    }
}

void Journal::close()
{
    if (m_fd >= 0)
        closeSegment();
}

QList<Journal::SegmentView> Journal::segments() const
{
    QList<SegmentView> out;
    for (const Closed &c : m_closed)
        out.append({c.path, c.size});
    if (m_fd >= 0)
        out.append({m_path, m_size});
    return out;
}

bool Journal::verify(const QList<SegmentView> &segments, QString *error)
{
    quint64 previous = 0;
    for (const SegmentView &s : segments) {
        qint64 validEnd = 0;
        QString reason;
        // Zeros inside the committed bytes are a hole, not an unwritten rest: the size
        // check below reports them.
        ScanEnd end = scanSegment(s.path, s.size, &previous, {}, &validEnd, &reason);
        if (end == ScanEnd::Unwritten)
            end = ScanEnd::Clean;
        if (end == ScanEnd::Clean && (validEnd == s.size || !QFile::exists(s.path)))
            continue;
        if (end == ScanEnd::Clean)
            reason =
                QStringLiteral("only %1 of %2 committed bytes present").arg(validEnd).arg(s.size);
        *error = QStringLiteral("journal %1: %2 at offset %3").arg(s.path, reason).arg(validEnd);
        return false;
    }
    return true;
}

void Journal::syncDirectory() const
{
    const int fd = ::open(QFile::encodeName(m_dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

} // namespace greygate
