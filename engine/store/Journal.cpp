// SPDX-License-Identifier: GPL-3.0-or-later
#include "Journal.h"

#include "JournalCodec.h"
#include "StoreLog.h"

#include <QDir>
#include <QFile>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace greygate {

namespace {

const QString kSuffix = QStringLiteral(".journal");

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

enum class ScanEnd
{
    Clean,   // the file ends after a complete record
    Torn,    // a partial or corrupt record from validEnd on
    IoError, // the file could not be read
    Refused, // the record handler failed
};

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
    QByteArray payload;
    qint64 pos = 0;
    while (pos < end) {
        char header[JournalCodec::kHeaderSize];
        if (end - pos < JournalCodec::kHeaderSize) {
            *reason = QStringLiteral("partial record header");
            return ScanEnd::Torn;
        }
        if (file.read(header, sizeof header) != qint64(sizeof header)) {
            *reason = file.errorString();
            return ScanEnd::IoError;
        }
        const JournalCodec::Header h = JournalCodec::parseHeader(header);
        if (h.magic != JournalCodec::kMagic) {
            *reason = QStringLiteral("bad record magic");
            return ScanEnd::Torn;
        }
        if (qint64(h.length) > JournalCodec::kMaxPayload ||
            qint64(h.length) > end - pos - JournalCodec::kHeaderSize) {
            *reason = QStringLiteral("record of %1 bytes runs past the end").arg(h.length);
            return ScanEnd::Torn;
        }
        payload.resize(h.length);
        if (file.read(payload.data(), h.length) != qint64(h.length)) {
            *reason = file.errorString();
            return ScanEnd::IoError;
        }
        if (!JournalCodec::verify(h, payload.constData())) {
            *reason = QStringLiteral("CRC mismatch in record %1").arg(h.sequence);
            return ScanEnd::Torn;
        }
        if (h.sequence <= *previous) {
            *reason = QStringLiteral("sequence %1 after %2").arg(h.sequence).arg(*previous);
            return ScanEnd::Torn;
        }
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
    const int fd = ::open(QFile::encodeName(path).constData(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = QStringLiteral("cannot create journal %1: %2").arg(path, errnoText(errno));
        return false;
    }
    const off_t size = ::lseek(fd, 0, SEEK_END);
    if (m_fd >= 0) {
        m_closed.append({m_path, m_size, m_lastSequence});
        ::close(m_fd);
    }
    m_fd = fd;
    m_path = path;
    m_size = size < 0 ? 0 : size;
    if (m_sync == SyncMode::Full)
        syncDirectory(); // the new file's name must survive a power loss too
    return true;
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
    if (m_size >= m_segmentBytes) {
        QString rotateError;
        if (!openSegment(sequence, &rotateError))
            qCWarning(lcStore, "%s; staying on %s", qPrintable(rotateError), qPrintable(m_path));
    }
    const char *p = record.constData();
    qsizetype left = record.size();
    while (left > 0) {
        const ssize_t n = ::write(m_fd, p, size_t(left));
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
    }
    if (m_sync == SyncMode::Full && ::fdatasync(m_fd) != 0) {
        // After a failed flush the page cache may lie about what is on disk: drop the
        // record, so the caller's "not committed" is the truth.
        const int saved = errno;
        rollback(m_size);
        *error = QStringLiteral("cannot flush journal %1: %2").arg(m_path, errnoText(saved));
        return false;
    }
    m_size += record.size();
    m_lastSequence = sequence;
    return true;
}

bool Journal::rollback(qint64 size)
{
    if (::ftruncate(m_fd, size) == 0) {
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
        ::close(m_fd);
    m_fd = -1;
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
        const ScanEnd end = scanSegment(s.path, s.size, &previous, {}, &validEnd, &reason);
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
