// SPDX-License-Identifier: GPL-3.0-or-later
#include "DelayStats.h"

#include "greylist/ControlBytes.h"

#include <QIODevice>
#include <QMap>
#include <algorithm>

namespace greygate {

namespace {

constexpr quint32 kMagic = 0x4747444c; // "GGDL"
constexpr quint32 kFormat = 1;
constexpr qint64 kHour = 3600;

} // namespace

DelayStats::DelayStats(qsizetype hours)
    : m_ring(hours)
{}

void DelayStats::close(Slot &slot)
{
    if (slot.closed)
        return;
    slot.closed = true;
    if (slot.domains.size() <= kTopDomains)
        return;
    QList<std::pair<quint64, QByteArray>> order;
    for (auto it = slot.domains.cbegin(); it != slot.domains.cend(); ++it) {
        if (it.key() != kOther)
            order.append({it.value().count(), it.key()});
    }
    std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    DelayHistogram other = slot.domains.take(kOther);
    for (qsizetype i = kTopDomains - 1; i < order.size(); ++i)
        other.merge(slot.domains.take(order[i].second));
    slot.domains.insert(kOther, other);
}

void DelayStats::count(Seconds time, QByteArrayView sender, qint64 policy, Seconds delay)
{
    // The hour that just ended is closed; older ones were closed when their turn came.
    Slot *counted = m_ring.slotFor(HourRing<Slot>::hourOf(time), &DelayStats::close);
    if (!counted)
        return; // older than the ring holds
    Slot &slot = *counted;
    // One bin search for the three histograms the delay goes into.
    delay = DelayHistogram::clamped(delay);
    const int bin = DelayHistogram::binOf(delay);
    slot.total.addToBin(bin, delay);
    // The domain is lowered into a reused key and looked up once; only a domain seen for
    // the first time this hour is copied (into the hash, apart from the reused key).
    const qsizetype at = lastIndexOfByte(sender, '@');
    const QByteArrayView domain = at < 0 || at + 1 >= sender.size()
                                      ? QByteArrayView("(none)") // the null sender, no domain
                                      : sender.sliced(at + 1);
    if (domain.size() > kMaxDomainBytes) {
        slot.domains[kOther].addToBin(bin, delay);
    } else {
        m_domainKey.resize(domain.size());
        char *key = m_domainKey.data();
        copyLoweredAscii(domain, key);
        auto it = slot.domains.find(m_domainKey);
        if (it == slot.domains.end())
            it = slot.domains.size() >= kMaxLiveDomains
                     ? slot.domains.find(kOther)
                     : slot.domains.insert(QByteArray(key, m_domainKey.size()), {});
        if (it == slot.domains.end())
            it = slot.domains.insert(kOther, {});
        it->addToBin(bin, delay);
    }
    // One lookup for a policy already counted this hour (nearly every pass).
    auto policyIt = slot.policies.find(policy);
    if (policyIt == slot.policies.end())
        policyIt = slot.policies.size() >= kMaxPolicies ? slot.policies.find(kOtherPolicy)
                                                        : slot.policies.insert(policy, {});
    if (policyIt == slot.policies.end())
        policyIt = slot.policies.insert(kOtherPolicy, {});
    policyIt->addToBin(bin, delay);
}

DelayStats::Result DelayStats::query(Seconds from, Seconds to, Seconds stepSeconds, int limit) const
{
    Result r;
    const qint64 first = HourRing<Slot>::hourOf(from);
    const qint64 last = HourRing<Slot>::hourOf(to - 1);
    const qint64 stepHours = std::max<qint64>(1, stepSeconds / kHour);
    DelayHistogram total;
    QHash<QByteArray, DelayHistogram> domains;
    QHash<qint64, DelayHistogram> policies;
    QMap<qint64, DelayHistogram> steps;
    for (const Slot &slot : m_ring.entries()) {
        if (slot.hour < first || slot.hour > last || slot.total.count() == 0)
            continue;
        total.merge(slot.total);
        const qint64 step = first + (slot.hour - first) / stepHours * stepHours;
        steps[step].merge(slot.total);
        for (auto it = slot.domains.cbegin(); it != slot.domains.cend(); ++it)
            domains[it.key()].merge(it.value());
        for (auto it = slot.policies.cbegin(); it != slot.policies.cend(); ++it)
            policies[it.key()].merge(it.value());
    }
    r.total = total.summary();
    for (auto it = steps.cbegin(); it != steps.cend(); ++it)
        r.series.append(Point{it.key() * kHour, it.value().summary()});

    QList<std::pair<quint64, QByteArray>> order;
    for (auto it = domains.cbegin(); it != domains.cend(); ++it) {
        if (it.key() != kOther)
            order.append({it.value().count(), it.key()});
    }
    std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    DelayHistogram other = domains.value(kOther);
    for (qsizetype i = 0; i < order.size(); ++i) {
        if (i < limit)
            r.domains.append(Domain{order[i].second, domains.value(order[i].second).summary()});
        else
            other.merge(domains.value(order[i].second));
    }
    if (other.count() > 0)
        r.domains.append(Domain{kOther, other.summary()});
    for (auto it = policies.cbegin(); it != policies.cend(); ++it)
        r.policies.append(PolicyDelay{it.key(), it.value().summary()});
    std::sort(r.policies.begin(), r.policies.end(), [](const auto &a, const auto &b) {
        return a.summary.count != b.summary.count ? a.summary.count > b.summary.count
                                                  : a.policy < b.policy;
    });
    return r;
}

QByteArray DelayStats::save() const
{
    QByteArray bytes;
    QDataStream out(&bytes, QIODevice::WriteOnly);
    out.setVersion(QDataStream::Qt_6_0);
    quint32 used = 0;
    for (const Slot &slot : m_ring.entries())
        used += slot.hour >= 0 ? 1 : 0;
    out << kMagic << kFormat << quint32(m_ring.hours()) << used << m_ring.currentHour();
    for (const Slot &slot : m_ring.entries()) {
        if (slot.hour < 0)
            continue;
        out << slot.hour << slot.closed;
        slot.total.write(out);
        out << quint32(slot.domains.size());
        for (auto it = slot.domains.cbegin(); it != slot.domains.cend(); ++it) {
            out << it.key();
            it.value().write(out);
        }
        out << quint32(slot.policies.size());
        for (auto it = slot.policies.cbegin(); it != slot.policies.cend(); ++it) {
            out << it.key();
            it.value().write(out);
        }
    }
    return bytes;
}

qint64 DelayStats::maxBytes() const
{
    const qint64 h = DelayHistogram::maxBytes();
    const qint64 slot = 8 + 1 + h + 4 + qint64(kMaxLiveDomains + 1) * (4 + kMaxDomainBytes + h) +
                        4 + qint64(kMaxPolicies + 1) * (8 + h);
    return 32 + qint64(m_ring.hours()) * slot;
}

bool DelayStats::restore(QByteArrayView bytes)
{
    const QByteArray data = bytes.toByteArray();
    QDataStream in(data);
    in.setVersion(QDataStream::Qt_6_0);
    quint32 magic = 0, format = 0, ringSize = 0, used = 0;
    qint64 current = -1;
    in >> magic >> format >> ringSize >> used >> current;
    const auto fail = [this] {
        *this = DelayStats(m_ring.hours());
        return false;
    };
    if (in.status() != QDataStream::Ok || magic != kMagic || format != kFormat || used > ringSize ||
        ringSize > 100'000)
        return fail();
    std::vector<Slot> read;
    for (quint32 n = 0; n < used; ++n) {
        Slot slot;
        in >> slot.hour >> slot.closed;
        quint32 domainCount = 0, policyCount = 0;
        if (!slot.total.read(in))
            return fail();
        in >> domainCount;
        if (in.status() != QDataStream::Ok || slot.hour < 0 || domainCount > kMaxLiveDomains + 1)
            return fail();
        for (quint32 d = 0; d < domainCount; ++d) {
            QByteArray domain;
            DelayHistogram h;
            in >> domain;
            if (in.status() != QDataStream::Ok || domain.size() > kMaxDomainBytes || !h.read(in))
                return fail();
            slot.domains.insert(domain, h);
        }
        in >> policyCount;
        if (in.status() != QDataStream::Ok || policyCount > kMaxPolicies + 1)
            return fail();
        for (quint32 p = 0; p < policyCount; ++p) {
            qint64 policy = 0;
            DelayHistogram h;
            in >> policy;
            if (in.status() != QDataStream::Ok || !h.read(in))
                return fail();
            slot.policies.insert(policy, h);
        }
        read.push_back(std::move(slot));
    }
    if (!in.atEnd())
        return fail();
    m_ring.reset(current);
    for (Slot &slot : read)
        m_ring.put(std::move(slot));
    return true;
}

} // namespace greygate
