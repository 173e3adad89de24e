// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <cstdint>

namespace greygate {

// A log-linear latency histogram in the manner of HdrHistogram: values below 128 ns are
// exact, above that every power of two is split into 64 buckets, so any reported percentile
// is within 1.6 % of the true value while recording costs a few instructions and no
// allocation (it runs once per request in the load generator's hot loop).
class LatencyHistogram
{
public:
    void record(std::uint64_t nanoseconds);
    void merge(const LatencyHistogram &other);

    std::uint64_t count() const { return m_count; }
    std::uint64_t max() const { return m_max; }
    std::uint64_t min() const { return m_count ? m_min : 0; }
    double mean() const { return m_count ? double(m_sum) / double(m_count) : 0.0; }
    // The upper bound of the bucket holding the q-quantile (q in [0, 1]): never optimistic.
    std::uint64_t quantile(double q) const;

private:
    static constexpr int SubBits = 6;
    static constexpr int Half = 1 << SubBits; // 64
    static constexpr int Buckets = (64 - SubBits) * Half;

    static int indexOf(std::uint64_t value);
    static std::uint64_t upperBoundOf(int index);

    std::array<std::uint64_t, Buckets> m_buckets{};
    std::uint64_t m_count = 0;
    std::uint64_t m_sum = 0;
    std::uint64_t m_min = UINT64_MAX;
    std::uint64_t m_max = 0;
};

} // namespace greygate
