// SPDX-License-Identifier: GPL-3.0-or-later
#include "AttemptHistory.h"

#include "ReleasePrefetch.h"

#include <QDataStream>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace greygate {

namespace {

constexpr quint32 kMagic = 0x47474154; // "GGAT"
constexpr quint32 kFormat = 1;
// time, outcome, decidedBy, ref, three length-prefixed fields
constexpr qint64 kFixedBytes = 8 + 1 + 1 + 8 + 3 * 4;

QByteArray bounded(const QByteArray &field)
{
    return field.size() <= AttemptHistory::kMaxField ? field
                                                     : field.left(AttemptHistory::kMaxField);
}

} // namespace

AttemptHistory::AttemptHistory(qsizetype capacity)
    : m_capacity(std::max<qsizetype>(capacity, 1))
{}

void AttemptHistory::put(AttemptRecord record)
{
    if (m_ring.size() < size_t(m_capacity)) {
        m_ring.push_back(std::move(record));
        return;
    }
    m_ring[m_next] = std::move(record);
    m_next = (m_next + 1) % m_ring.size();
    prefetchSlot(m_ring[(m_next + 8) % m_ring.size()]);
    AttemptRecord &later = m_ring[(m_next + 4) % m_ring.size()];
    for (QByteArray *bytes : {&later.client, &later.sender, &later.recipient})
        prefetchRelease(*bytes);
}

void AttemptHistory::append(const Event &e)
{
    if (e.type != EventType::Attempt)
        return;
    put(AttemptRecord{e.time, e.outcome, e.decidedBy, e.ref, bounded(e.client), bounded(e.sender),
                      bounded(e.recipient)});
}

const AttemptRecord &AttemptHistory::at(qsizetype i) const
{
    return m_ring[(m_next + size_t(i)) % m_ring.size()];
}

Seconds AttemptHistory::oldest() const
{
    return m_ring.empty() ? 0 : at(0).time;
}

void AttemptHistory::clear()
{
    m_ring.clear();
    m_next = 0;
}

QList<AttemptRecord> AttemptHistory::since(Seconds from, qsizetype max) const
{
    // Times only grow along the ring (one clock, appended as decided): find the first
    // record in range from the newest end, bounded by max.
    QList<AttemptRecord> out;
    qsizetype first = size();
    while (first > 0 && size() - first < max && at(first - 1).time >= from)
        --first;
    out.reserve(size() - first);
    for (qsizetype i = first; i < size(); ++i)
        out.append(at(i));
    return out;
}

QString AttemptHistory::path(const QString &statsPath)
{
    return QFileInfo(statsPath).dir().filePath(QStringLiteral("attempts.bin"));
}

qint64 AttemptHistory::maxBytes() const
{
    return 12 + qint64(m_capacity) * (kFixedBytes + 3 * kMaxField);
}

bool AttemptHistory::save(const QString &path, QString *error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    QDataStream out(&file);
    out.setVersion(QDataStream::Qt_6_4);
    out << kMagic << kFormat << quint32(size());
    for (qsizetype i = 0; i < size(); ++i) {
        const AttemptRecord &r = at(i);
        out << qint64(r.time) << quint8(r.outcome) << quint8(r.decidedBy) << qint64(r.ref);
        for (const QByteArray *field : {&r.client, &r.sender, &r.recipient}) {
            out << quint32(field->size());
            out.writeRawData(field->constData(), int(field->size()));
        }
    }
    if (out.status() != QDataStream::Ok || !file.commit()) {
        *error = path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    return true;
}

bool AttemptHistory::restore(const QString &path, bool *restored, QString *error)
{
    *restored = false;
    QFile file(path);
    if (!file.exists())
        return true;
    if (file.size() > maxBytes()) {
        *error = path + QStringLiteral(": larger than %1 bytes").arg(maxBytes());
        return false;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        *error = path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    QDataStream in(&file);
    in.setVersion(QDataStream::Qt_6_4);
    quint32 magic = 0, format = 0, count = 0;
    in >> magic >> format >> count;
    if (magic != kMagic || format != kFormat || count > quint32(m_capacity)) {
        *error = path + QStringLiteral(": not an attempts file of this version");
        return false;
    }
    std::vector<AttemptRecord> records;
    records.reserve(count);
    for (quint32 n = 0; n < count; ++n) {
        AttemptRecord r;
        qint64 time = 0, ref = 0;
        quint8 outcome = 0, by = 0;
        in >> time >> outcome >> by >> ref;
        if (outcome > quint8(AttemptOutcome::Blocked) || by > quint8(DecidedBy::Other)) {
            *error = path + QStringLiteral(": record %1 is malformed").arg(n);
            return false;
        }
        r.time = time;
        r.outcome = AttemptOutcome(outcome);
        r.decidedBy = DecidedBy(by);
        r.ref = ref;
        for (QByteArray *field : {&r.client, &r.sender, &r.recipient}) {
            quint32 length = 0;
            in >> length;
            if (length > quint32(kMaxField)) {
                *error = path + QStringLiteral(": record %1 is malformed").arg(n);
                return false;
            }
            field->resize(qsizetype(length));
            if (in.readRawData(field->data(), int(length)) != int(length)) {
                *error = path + QStringLiteral(": truncated at record %1").arg(n);
                return false;
            }
        }
        if (in.status() != QDataStream::Ok) {
            *error = path + QStringLiteral(": truncated at record %1").arg(n);
            return false;
        }
        records.push_back(std::move(r));
    }
    clear();
    for (AttemptRecord &r : records)
        put(std::move(r));
    *restored = true;
    return true;
}

} // namespace greygate
