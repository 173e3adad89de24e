// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReportData.h"

#include <map>

namespace greygate {

protocol::Counters ReportData::total() const
{
    protocol::Counters sum;
    for (const ReportProxy &p : proxies) {
        if (p.error.isEmpty())
            sum += p.total;
    }
    return sum;
}

QList<protocol::StatsBucket> ReportData::combinedBuckets() const
{
    const qint64 step = qMax<qint64>(1, stepMinutes) * 60;
    const qint64 first = from - from % 60;
    std::map<qint64, protocol::Counters> byTime;
    // At most a few thousand buckets: the builder picks the step so (see ReportBuilder).
    for (qint64 t = first; t < to && byTime.size() < 20'000; t += step)
        byTime[t] = {};
    for (const ReportProxy &p : proxies) {
        if (!p.error.isEmpty())
            continue;
        for (const protocol::StatsBucket &b : p.buckets)
            byTime[b.time] += b.counters;
    }
    QList<protocol::StatsBucket> out;
    out.reserve(qsizetype(byTime.size()));
    for (const auto &[time, counters] : byTime)
        out.append(protocol::StatsBucket{time, counters});
    return out;
}

int ReportData::rejectionCount() const
{
    int n = 0;
    for (const ReportProxy &p : proxies)
        n += int(p.rejections.size());
    return n;
}

int ReportData::answered() const
{
    int n = 0;
    for (const ReportProxy &p : proxies)
        n += p.error.isEmpty() ? 1 : 0;
    return n;
}

} // namespace greygate
