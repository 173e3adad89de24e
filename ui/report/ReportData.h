// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "protocol/Counters.h"
#include "protocol/RejectionMessages.h"
#include "protocol/StatsRange.h"

#include <QDateTime>
#include <QList>
#include <QMetaType>

namespace greygate {

// What one proxy told for a report: its `report` figures (totals and buckets) and its
// rejection log over the range (bounded: a report is read by people).
struct ReportProxy
{
    QString id;
    QString name;
    QString error; // why this proxy is missing from the figures; empty when it answered
    protocol::Counters total;
    QList<protocol::StatsBucket> buckets;
    QList<protocol::RejectionRow> rejections;
    bool rejectionsTruncated = false; // more than kMaxRejections in the range
};

// A report over [from, to) for the proxies chosen: the figures of each, and together.
struct ReportData
{
    static constexpr int kMaxRejections = 10'000; // per proxy

    qint64 from = 0;
    qint64 to = 0;
    qint64 stepMinutes = 60;
    QDateTime generatedAt;
    QList<ReportProxy> proxies;

    // Every proxy that answered, summed.
    protocol::Counters total() const;
    // The buckets of every proxy that answered, summed by time, oldest first; every bucket of
    // the range is listed, the empty ones as zero (a chart needs the gaps).
    QList<protocol::StatsBucket> combinedBuckets() const;
    int rejectionCount() const;
    int answered() const; // proxies without an error
};

} // namespace greygate

Q_DECLARE_METATYPE(greygate::ReportData)
