// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QDataStream>
#include <algorithm>
#include <array>

namespace greygate {

// The delays greylisting added to accepted mail, as a log-scale histogram: bin edges grow by
// 10 % from 1 s up to 8 days, so a percentile read from it is within 10 % of the true one
// (and never above the exact maximum, which is kept). Merging two is adding their bins, so
// an hour's, a day's or a week's figures come from the hours' histograms without keeping
// every delay.
class DelayHistogram
{
public:
    static constexpr int kBins = 130;
    static constexpr Seconds kMaxDelay = 8 * 86400;

    struct Summary
    {
        quint64 count = 0;
        Seconds p50 = 0;
        Seconds p95 = 0;
        Seconds max = 0;
        Seconds mean = 0;
    };

    void add(Seconds delay);
    // add() with the bin found already: `delay` clamped to [0, kMaxDelay] and `bin` its
    // binOf(), so that one delay counted into several histograms is searched for once.
    void addToBin(int bin, Seconds delay);
    static Seconds clamped(Seconds delay) { return delay < 0 ? 0 : std::min(delay, kMaxDelay); }
    void merge(const DelayHistogram &other);
    quint64 count() const { return m_count; }
    Seconds max() const { return m_max; }
    // The delay below which `share` (0..1) of the mail fell: the upper edge of its bin,
    // capped at the maximum seen.
    Seconds percentile(double share) const;
    Summary summary() const;

    // Only the bins in use (a few of them for most keys).
    void write(QDataStream &out) const;
    bool read(QDataStream &in);
    static qint64 maxBytes() { return 8 + 8 + 8 + 2 + qint64(kBins) * 6; }

    static Seconds upperEdge(int bin);
    static int binOf(Seconds delay);

private:
    std::array<quint32, kBins> m_bins{};
    quint64 m_count = 0;
    quint64 m_sum = 0;
    Seconds m_max = 0;
};

} // namespace greygate
