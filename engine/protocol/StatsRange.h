// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Counters.h"

#include <QList>

namespace greygate::protocol {

// "stats" params: per-minute figures over [from, to), summed into buckets of `step` minutes.
struct StatsQuery
{
    static constexpr qint64 kMaxBuckets = 20'000;

    qint64 from = 0; // seconds since the epoch; rounded down to the minute
    qint64 to = 0;   // exclusive
    qint64 stepMinutes = 1;

    QJsonObject toJson() const;
    // Also checks from < to and that the range holds at most kMaxBuckets buckets.
    static std::optional<StatsQuery> fromJson(const QJsonObject &params, ProtocolError *error);
};

struct StatsBucket
{
    qint64 time = 0; // the bucket's first second
    Counters counters;
};

// "stats" result (and "report", which sums them into one bucket). Only buckets with
// something in them are listed; the others are zero.
struct StatsRange
{
    qint64 from = 0;
    qint64 to = 0;
    qint64 stepMinutes = 1;
    QList<StatsBucket> buckets;
    Counters total;

    QJsonObject toJson() const;
    static std::optional<StatsRange> fromJson(const QJsonObject &o, ProtocolError *error);
};

} // namespace greygate::protocol
