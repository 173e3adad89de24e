// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QtGlobal>

namespace greygate {

// A sliding range of the dashboard, "the last hour/day/week", and the bucket size that keeps
// it to a hundred or two points: enough for a chart, little enough to refetch every minute.
struct StatsWindow
{
    qint64 spanSeconds = 3600;
    qint64 stepMinutes = 1;

    qint64 bucketSeconds() const { return stepMinutes * 60; }
    int bucketCount() const { return int((spanSeconds + bucketSeconds() - 1) / bucketSeconds()); }
    // The first second of the window whose last bucket holds `now`, aligned to the step, so
    // the buckets the server sums start where this model's rows do.
    qint64 fromFor(qint64 now) const
    {
        const qint64 lastStart = now - now % bucketSeconds();
        return lastStart - qint64(bucketCount() - 1) * bucketSeconds();
    }

    static StatsWindow lastHour() { return {3600, 1}; }
    static StatsWindow lastDay() { return {86400, 15}; }
    static StatsWindow lastWeek() { return {7 * 86400, 60}; }

    friend bool operator==(const StatsWindow &, const StatsWindow &) = default;
};

} // namespace greygate
