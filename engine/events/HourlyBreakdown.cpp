// SPDX-License-Identifier: GPL-3.0-or-later
#include "HourlyBreakdown.h"

#include "greylist/ControlBytes.h"

#include <QDataStream>
#include <QIODevice>
#include <algorithm>

namespace greygate {

namespace {

constexpr quint32 kMagic = 0x47474842; // "GGHB"
constexpr quint32 kFormat = 1;
constexpr qint64 kHour = 3600;

qint64 hourOf(Seconds t)
{
    return t >= 0 ? t / kHour : (t - (kHour - 1)) / kHour;
}

void writeCounts(QDataStream &out, const MinuteStats::Counts &c)
{
    out << c.attempts << c.deferred << c.passed << c.bypassed << c.blocked;
}

void readCounts(QDataStream &in, MinuteStats::Counts *c)
{
    in >> c->attempts >> c->deferred >> c->passed >> c->bypassed >> c->blocked;
}

} // namespace

HourlyBreakdown::HourlyBreakdown(qsizetype hours)
    : m_ring(size_t(std::max<qsizetype>(hours, 1)))
{}

quint64 HourlyBreakdown::keyOf(Decider d)
{
    return (quint64(d.by) << 56) | (quint64(d.id) & 0x00ff'ffff'ffff'ffffULL);
}

HourlyBreakdown::Decider HourlyBreakdown::deciderOf(quint64 key)
{
    return Decider{DecidedBy(key >> 56), qint64(key & 0x00ff'ffff'ffff'ffffULL)};
}

QByteArrayView HourlyBreakdown::domainOf(QByteArrayView sender)
{
    const qsizetype at = sender.lastIndexOf('@');
    if (at < 0 || at + 1 >= sender.size())
        return {};
    return sender.sliced(at + 1);
}

HourlyBreakdown::Slot &HourlyBreakdown::at(qint64 hour)
{
    const qint64 n = qint64(m_ring.size());
    Slot &slot = m_ring[size_t(((hour % n) + n) % n)];
    if (slot.hour != hour) {
        slot = Slot{};
        slot.hour = hour;
    }
    return slot;
}

void HourlyBreakdown::close(Slot &slot)
{
    slot.closed = true;
    if (slot.domains.size() <= kTopDomains)
        return;
    std::vector<std::pair<quint64, QByteArray>> all;
    all.reserve(size_t(slot.domains.size()));
    for (auto it = slot.domains.cbegin(); it != slot.domains.cend(); ++it)
        all.emplace_back(it.value(), it.key());
    // Largest first; equal counts by name, so what is kept does not depend on hashing.
    std::partial_sort(all.begin(), all.begin() + kTopDomains, all.end(),
                      [](const auto &a, const auto &b) {
                          return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    slot.domains.clear();
    for (size_t i = 0; i < all.size(); ++i) {
        if (i < size_t(kTopDomains))
            slot.domains.insert(all[i].second, all[i].first);
        else
            slot.otherDeferred += all[i].first;
    }
}

void HourlyBreakdown::count(const Event &attempt)
{
    const qint64 hour = hourOf(attempt.time);
    if (hour != m_currentHour) {
        // The hour before is over: trim it once, so only the live hour holds many domains.
        if (m_currentHour >= 0) {
            const qint64 n = qint64(m_ring.size());
            Slot &previous = m_ring[size_t(((m_currentHour % n) + n) % n)];
            if (previous.hour == m_currentHour && !previous.closed)
                close(previous);
        }
        m_currentHour = hour;
    }
    Slot &slot = at(hour);
    Decider decider{attempt.decidedBy, attempt.ref};
    if (decider.by == DecidedBy::None || decider.by == DecidedBy::AutoAllow ||
        decider.by == DecidedBy::Outbound)
        decider.id = 0;
    quint64 key = keyOf(decider);
    if (slot.deciders.size() >= size_t(kMaxDeciders) && !slot.deciders.contains(key))
        key = keyOf(Decider{DecidedBy::Other, 0});
    slot.deciders[key] += MinuteStats::countsOf(attempt.outcome);

    if (attempt.outcome != AttemptOutcome::Deferred)
        return;
    const QByteArrayView domain = domainOf(attempt.sender);
    if (domain.isEmpty() || domain.size() > kMaxDomainBytes) {
        ++slot.otherDeferred;
        return;
    }
    // Lowered into a reused key: a domain costs an allocation only when the hour first sees it.
    m_domainKey.resize(domain.size());
    copyLoweredAscii(domain, m_domainKey.data());
    const auto it = slot.domains.find(m_domainKey);
    if (it != slot.domains.end())
        ++it.value();
    else if (slot.domains.size() < (slot.closed ? kTopDomains : kMaxLiveDomains))
        slot.domains.insert(QByteArray(m_domainKey.constData(), m_domainKey.size()), 1);
    else
        ++slot.otherDeferred;
}

HourlyBreakdown::Result HourlyBreakdown::query(Seconds from, Seconds to, int limit) const
{
    Result result;
    if (to <= from)
        return result;
    const qint64 first = hourOf(from);
    const qint64 last = hourOf(to - 1);
    const qint64 n = qint64(m_ring.size());
    std::unordered_map<quint64, MinuteStats::Counts> deciders;
    QHash<QByteArray, quint64> domains;
    // Only hours the ring can still hold: an older range reads as empty.
    for (qint64 h = std::max(first, last - n + 1); h <= last; ++h) {
        const Slot &slot = m_ring[size_t(((h % n) + n) % n)];
        if (slot.hour != h)
            continue;
        for (const auto &[key, counts] : slot.deciders)
            deciders[key] += counts;
        for (auto it = slot.domains.cbegin(); it != slot.domains.cend(); ++it)
            domains[it.key()] += it.value();
        result.otherDeferred += slot.otherDeferred;
    }
    for (const auto &[key, counts] : deciders)
        result.deciders.append(DeciderCounts{deciderOf(key), counts});
    std::sort(result.deciders.begin(), result.deciders.end(), [](const auto &a, const auto &b) {
        if (a.counts.attempts != b.counts.attempts)
            return a.counts.attempts > b.counts.attempts;
        return keyOf(a.decider) < keyOf(b.decider);
    });
    for (auto it = domains.cbegin(); it != domains.cend(); ++it)
        result.domains.append(DomainCount{it.key(), it.value()});
    std::sort(result.domains.begin(), result.domains.end(), [](const auto &a, const auto &b) {
        return a.deferred != b.deferred ? a.deferred > b.deferred : a.domain < b.domain;
    });
    const qsizetype keep = std::max(0, limit);
    for (qsizetype i = keep; i < result.domains.size(); ++i)
        result.otherDeferred += result.domains[i].deferred;
    if (result.domains.size() > keep)
        result.domains.resize(keep);
    return result;
}

QByteArray HourlyBreakdown::save() const
{
    QByteArray bytes;
    QDataStream out(&bytes, QIODevice::WriteOnly);
    out.setVersion(QDataStream::Qt_6_0);
    quint32 used = 0;
    for (const Slot &slot : m_ring)
        used += slot.hour >= 0 ? 1 : 0;
    out << kMagic << kFormat << quint32(m_ring.size()) << used;
    for (const Slot &slot : m_ring) {
        if (slot.hour < 0)
            continue;
        out << slot.hour << slot.otherDeferred << quint32(slot.deciders.size());
        for (const auto &[key, counts] : slot.deciders) {
            out << key;
            writeCounts(out, counts);
        }
        out << quint32(slot.domains.size());
        for (auto it = slot.domains.cbegin(); it != slot.domains.cend(); ++it)
            out << it.key() << it.value();
    }
    return bytes;
}

qint64 HourlyBreakdown::maxBytes() const
{
    // Per slot: its header, every decider (key and five counters), every domain (a length,
    // the name and its count).
    const qint64 slot = 8 + 8 + 4 + qint64(kMaxDeciders) * (8 + 5 * 4) + 4 +
                        qint64(kMaxLiveDomains) * (4 + kMaxDomainBytes + 8);
    return 16 + qint64(m_ring.size()) * slot;
}

bool HourlyBreakdown::restore(QByteArrayView bytes)
{
    const QByteArray data = bytes.toByteArray();
    QDataStream in(data);
    in.setVersion(QDataStream::Qt_6_0);
    quint32 magic = 0, format = 0, ringSize = 0, used = 0;
    in >> magic >> format >> ringSize >> used;
    if (in.status() != QDataStream::Ok || magic != kMagic || format != kFormat || used > ringSize ||
        ringSize > 100'000)
        return false;
    std::vector<Slot> ring(m_ring.size());
    const qint64 n = qint64(ring.size());
    for (quint32 i = 0; i < used; ++i) {
        Slot slot;
        quint32 deciders = 0;
        in >> slot.hour >> slot.otherDeferred >> deciders;
        if (in.status() != QDataStream::Ok || slot.hour < 0 || deciders > quint32(kMaxDeciders))
            return false;
        for (quint32 d = 0; d < deciders; ++d) {
            quint64 key = 0;
            MinuteStats::Counts counts;
            in >> key;
            readCounts(in, &counts);
            if (deciderOf(key).by > DecidedBy::Other)
                return false;
            slot.deciders[key] = counts;
        }
        quint32 domains = 0;
        in >> domains;
        if (in.status() != QDataStream::Ok || domains > quint32(kMaxLiveDomains))
            return false;
        for (quint32 d = 0; d < domains; ++d) {
            QByteArray name;
            quint64 deferred = 0;
            in >> name >> deferred;
            if (in.status() != QDataStream::Ok || name.isEmpty() || name.size() > kMaxDomainBytes)
                return false;
            slot.domains.insert(name, deferred);
        }
        slot.closed = slot.domains.size() <= kTopDomains;
        Slot &target = ring[size_t(((slot.hour % n) + n) % n)];
        if (slot.hour > target.hour)
            target = std::move(slot);
    }
    if (in.status() != QDataStream::Ok || !in.atEnd())
        return false;
    m_ring = std::move(ring);
    m_currentHour = -1;
    return true;
}

} // namespace greygate
