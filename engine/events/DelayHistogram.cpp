// SPDX-License-Identifier: GPL-3.0-or-later
#include "DelayHistogram.h"

#include <algorithm>
#include <cmath>

namespace greygate {

namespace {

const std::array<Seconds, DelayHistogram::kBins> &edges()
{
    // Bin 0 holds delays of at most 1 s; bin i those up to ceil(1.1^i) s (distinct edges).
    static const std::array<Seconds, DelayHistogram::kBins> table = [] {
        std::array<Seconds, DelayHistogram::kBins> e{};
        double edge = 1.0;
        Seconds last = 0;
        for (int i = 0; i < DelayHistogram::kBins; ++i) {
            Seconds s = Seconds(std::ceil(edge));
            if (s <= last)
                s = last + 1;
            e[size_t(i)] = std::min(s, DelayHistogram::kMaxDelay);
            last = s;
            edge *= 1.1;
        }
        e[size_t(DelayHistogram::kBins - 1)] = DelayHistogram::kMaxDelay;
        return e;
    }();
    return table;
}

} // namespace

Seconds DelayHistogram::upperEdge(int bin)
{
    return edges()[size_t(std::clamp(bin, 0, kBins - 1))];
}

int DelayHistogram::binOf(Seconds delay)
{
    const auto &e = edges();
    return int(std::lower_bound(e.begin(), e.end() - 1, delay) - e.begin());
}

void DelayHistogram::add(Seconds delay)
{
    delay = clamped(delay);
    addToBin(binOf(delay), delay);
}

void DelayHistogram::addToBin(int binIndex, Seconds delay)
{
    quint32 &bin = m_bins[size_t(binIndex)];
    if (bin == 0xffffffffu)
        return; // saturated: four billion passes in one key and hour
    ++bin;
    ++m_count;
    m_sum += quint64(delay);
    m_max = std::max(m_max, delay);
}

void DelayHistogram::merge(const DelayHistogram &other)
{
    for (int i = 0; i < kBins; ++i) {
        const quint64 sum = quint64(m_bins[size_t(i)]) + other.m_bins[size_t(i)];
        m_bins[size_t(i)] = quint32(std::min<quint64>(sum, 0xffffffffu));
    }
    m_count += other.m_count;
    m_sum += other.m_sum;
    m_max = std::max(m_max, other.m_max);
}

Seconds DelayHistogram::percentile(double share) const
{
    if (m_count == 0)
        return 0;
    // The smallest bin at which at least `share` of the count has been seen (nearest rank).
    const quint64 rank = std::max<quint64>(1, quint64(std::ceil(share * double(m_count))));
    quint64 seen = 0;
    for (int i = 0; i < kBins; ++i) {
        seen += m_bins[size_t(i)];
        if (seen >= rank)
            return std::min(upperEdge(i), m_max);
    }
    return m_max;
}

DelayHistogram::Summary DelayHistogram::summary() const
{
    Summary s;
    s.count = m_count;
    s.p50 = percentile(0.50);
    s.p95 = percentile(0.95);
    s.max = m_max;
    s.mean = m_count ? Seconds(m_sum / m_count) : 0;
    return s;
}

void DelayHistogram::write(QDataStream &out) const
{
    quint16 used = 0;
    for (quint32 b : m_bins)
        used += b ? 1 : 0;
    out << m_count << m_sum << qint64(m_max) << used;
    for (int i = 0; i < kBins; ++i) {
        if (m_bins[size_t(i)])
            out << quint16(i) << m_bins[size_t(i)];
    }
}

bool DelayHistogram::read(QDataStream &in)
{
    *this = DelayHistogram{};
    qint64 max = 0;
    quint16 used = 0;
    in >> m_count >> m_sum >> max >> used;
    if (in.status() != QDataStream::Ok || used > kBins || max < 0 || max > kMaxDelay)
        return false;
    m_max = max;
    quint64 total = 0;
    for (quint16 n = 0; n < used; ++n) {
        quint16 bin = 0;
        quint32 value = 0;
        in >> bin >> value;
        if (in.status() != QDataStream::Ok || bin >= kBins)
            return false;
        m_bins[bin] = value;
        total += value;
    }
    return total == m_count;
}

} // namespace greygate
