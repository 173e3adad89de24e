// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QString>

namespace greygate {

// How long greylisting held up accepted mail, for one bucket, domain or policy of
// `delay.stats` (docs/api.md): the count and the p50/p95/max/mean delay in seconds.
struct DelaySummary
{
    qint64 count = 0;
    qint64 p50 = 0;
    qint64 p95 = 0;
    qint64 max = 0;
    qint64 mean = 0;

    // Negative or absurd values from the proxy are clamped: it is not trusted to be sane.
    static DelaySummary fromJson(const QJsonObject &o);
    // "7 min 12 s", "1 h 05 min", "40 s"
    static QString format(qint64 seconds);
    bool operator==(const DelaySummary &) const = default;
};

} // namespace greygate
