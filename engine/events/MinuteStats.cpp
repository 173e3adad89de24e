// SPDX-License-Identifier: GPL-3.0-or-later
#include "MinuteStats.h"

#include <QDataStream>
#include <QIODevice>
#include <algorithm>

namespace greygate {

namespace {

constexpr quint32 kMagic = 0x47474d53; // "GGMS"
constexpr quint32 kFormat = 1;

qint64 minuteOf(Seconds t)
{
    return t >= 0 ? t / 60 : (t - 59) / 60;
}

void saturatingAdd(quint32 &a, quint32 b)
{
    a = (a > 0xffffffffu - b) ? 0xffffffffu : a + b;
}

} // namespace

MinuteStats::Counts &MinuteStats::Counts::operator+=(const Counts &o)
{
    saturatingAdd(attempts, o.attempts);
    saturatingAdd(deferred, o.deferred);
    saturatingAdd(passed, o.passed);
    saturatingAdd(bypassed, o.bypassed);
    saturatingAdd(blocked, o.blocked);
    saturatingAdd(failedToRetry, o.failedToRetry);
    return *this;
}

MinuteStats::MinuteStats(qsizetype minutes)
    : m_ring(size_t(std::max<qsizetype>(minutes, 1)))
{}

MinuteStats::Counts &MinuteStats::at(Seconds time)
{
    const qint64 minute = minuteOf(time);
    Slot &slot = m_ring[size_t(((minute % qint64(m_ring.size())) + qint64(m_ring.size())) %
                               qint64(m_ring.size()))];
    if (slot.minute != minute) {
        // A minute this slot held one ring ago (or never): start it over. A clock stepping
        // back into an older minute lands here too and simply counts there again.
        slot.minute = minute;
        slot.counts = Counts{};
    }
    return slot.counts;
}

const MinuteStats::Counts *MinuteStats::find(qint64 minute) const
{
    const qint64 n = qint64(m_ring.size());
    const Slot &slot = m_ring[size_t(((minute % n) + n) % n)];
    return slot.minute == minute ? &slot.counts : nullptr;
}

MinuteStats::Counts MinuteStats::countsOf(AttemptOutcome outcome)
{
    Counts c;
    c.attempts = 1;
    switch (outcome) {
    case AttemptOutcome::Deferred:
        c.deferred = 1;
        break;
    case AttemptOutcome::Passed:
    case AttemptOutcome::PassedKnown:
    case AttemptOutcome::Whitelisted:
        c.passed = 1;
        break;
    case AttemptOutcome::Bypassed:
    case AttemptOutcome::Outbound:
        c.bypassed = 1;
        break;
    case AttemptOutcome::Blocked:
        c.blocked = 1;
        break;
    }
    return c;
}

void MinuteStats::countAttempt(Seconds time, AttemptOutcome outcome)
{
    at(time) += countsOf(outcome);
}

void MinuteStats::countFailedToRetry(Seconds time, quint32 count)
{
    saturatingAdd(at(time).failedToRetry, count);
}

QList<MinuteStats::Bucket> MinuteStats::range(Seconds from, Seconds to, qint64 stepMinutes) const
{
    QList<Bucket> out;
    stepMinutes = std::max<qint64>(stepMinutes, 1);
    const qint64 first = minuteOf(from);
    const qint64 end = minuteOf(to + 59); // exclusive, rounded up
    // Only minutes the ring can hold are looked at: a range of years costs no more than
    // the ring's size.
    const qint64 oldest = std::max(first, end - qint64(m_ring.size()));
    for (qint64 bucketStart = first; bucketStart < end; bucketStart += stepMinutes) {
        const qint64 bucketEnd = std::min(bucketStart + stepMinutes, end);
        if (bucketEnd <= oldest)
            continue;
        Counts sum;
        for (qint64 m = std::max(bucketStart, oldest); m < bucketEnd; ++m) {
            if (const Counts *c = find(m))
                sum += *c;
        }
        if (!sum.isZero())
            out.append(Bucket{bucketStart * 60, sum});
    }
    return out;
}

MinuteStats::Counts MinuteStats::sum(Seconds from, Seconds to) const
{
    Counts total;
    const qint64 span = std::max<qint64>((minuteOf(to + 59) - minuteOf(from)), 1);
    for (const Bucket &b : range(from, to, span))
        total += b.counts;
    return total;
}

QByteArray MinuteStats::save() const
{
    QByteArray bytes;
    QDataStream out(&bytes, QIODevice::WriteOnly);
    out.setVersion(QDataStream::Qt_6_4);
    qint32 used = 0;
    for (const Slot &s : m_ring)
        used += (s.minute >= 0 && !s.counts.isZero()) ? 1 : 0;
    out << kMagic << kFormat << used;
    for (const Slot &s : m_ring) {
        if (s.minute < 0 || s.counts.isZero())
            continue;
        out << qint64(s.minute) << s.counts.attempts << s.counts.deferred << s.counts.passed
            << s.counts.bypassed << s.counts.blocked << s.counts.failedToRetry;
    }
    return bytes;
}

bool MinuteStats::restore(QByteArrayView bytes)
{
    const QByteArray copy = bytes.toByteArray();
    QDataStream in(copy);
    in.setVersion(QDataStream::Qt_6_4);
    quint32 magic = 0;
    quint32 format = 0;
    qint32 used = 0;
    in >> magic >> format >> used;
    if (in.status() != QDataStream::Ok || magic != kMagic || format != kFormat || used < 0 ||
        used > qint32(m_ring.size()))
        return false;
    std::vector<Slot> ring(m_ring.size());
    for (qint32 i = 0; i < used; ++i) {
        Slot s;
        in >> s.minute >> s.counts.attempts >> s.counts.deferred >> s.counts.passed >>
            s.counts.bypassed >> s.counts.blocked >> s.counts.failedToRetry;
        if (in.status() != QDataStream::Ok || s.minute < 0)
            return false;
        const qint64 n = qint64(ring.size());
        ring[size_t(s.minute % n)] = s;
    }
    if (!in.atEnd())
        return false;
    m_ring = std::move(ring);
    return true;
}

} // namespace greygate
