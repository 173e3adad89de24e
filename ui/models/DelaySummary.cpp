// SPDX-License-Identifier: GPL-3.0-or-later
#include "DelaySummary.h"

#include <QCoreApplication>
#include <algorithm>

namespace greygate {

namespace {

constexpr qint64 kMaxSeconds = 366LL * 86400; // a year: beyond that the figure is garbage
constexpr qint64 kMaxCount = qint64(1) << 53;

qint64 clamped(const QJsonObject &o, const char *key, qint64 max)
{
    return std::clamp<qint64>(o.value(QLatin1String(key)).toInteger(), 0, max);
}

} // namespace

DelaySummary DelaySummary::fromJson(const QJsonObject &o)
{
    DelaySummary s;
    s.count = clamped(o, "count", kMaxCount);
    s.p50 = clamped(o, "p50", kMaxSeconds);
    s.p95 = clamped(o, "p95", kMaxSeconds);
    s.max = clamped(o, "max", kMaxSeconds);
    s.mean = clamped(o, "mean", kMaxSeconds);
    return s;
}

QString DelaySummary::format(qint64 seconds)
{
    const auto tr = [](const char *text) {
        return QCoreApplication::translate("greygate::DelaySummary", text);
    };
    if (seconds < 60)
        return tr("%1 s").arg(seconds);
    if (seconds < 3600)
        return tr("%1 min %2 s").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
    if (seconds < 86400)
        return tr("%1 h %2 min")
            .arg(seconds / 3600)
            .arg((seconds % 3600) / 60, 2, 10, QLatin1Char('0'));
    return tr("%1 d %2 h").arg(seconds / 86400).arg((seconds % 86400) / 3600);
}

} // namespace greygate
