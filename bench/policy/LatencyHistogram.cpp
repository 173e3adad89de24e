// SPDX-License-Identifier: GPL-3.0-or-later
#include "LatencyHistogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace greygate {

int LatencyHistogram::indexOf(std::uint64_t value)
{
    if (value < 2 * Half)
        return int(value);
    const int msb = 63 - std::countl_zero(value);
    const int shift = msb - SubBits; // value >> shift lies in [Half, 2 * Half)
    return (shift + 1) * Half + int((value >> shift) - Half);
}

std::uint64_t LatencyHistogram::upperBoundOf(int index)
{
    if (index < 2 * Half)
        return std::uint64_t(index);
    const int shift = index / Half - 1;
    const std::uint64_t sub = std::uint64_t(index % Half + Half);
    return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::record(std::uint64_t nanoseconds)
{
    const int index = std::min(indexOf(nanoseconds), Buckets - 1);
    ++m_buckets[std::size_t(index)];
    ++m_count;
    m_sum += nanoseconds;
    m_min = std::min(m_min, nanoseconds);
    m_max = std::max(m_max, nanoseconds);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    for (std::size_t i = 0; i < m_buckets.size(); ++i)
        m_buckets[i] += other.m_buckets[i];
    m_count += other.m_count;
    m_sum += other.m_sum;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
}

std::uint64_t LatencyHistogram::quantile(double q) const
{
    if (m_count == 0)
        return 0;
    const auto rank =
        std::max<std::uint64_t>(1, std::uint64_t(std::ceil(std::clamp(q, 0.0, 1.0) * m_count)));
    std::uint64_t seen = 0;
    for (int i = 0; i < Buckets; ++i) {
        seen += m_buckets[std::size_t(i)];
        if (seen >= rank)
            return std::min(upperBoundOf(i), m_max);
    }
    return m_max;
}

} // namespace greygate
