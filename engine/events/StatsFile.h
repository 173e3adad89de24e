// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace greygate {

class EventLog;
class MinuteStats;

// The per-minute statistics on disk (DBDIR/stats.bin), so the dashboard's history survives
// a restart. save() writes a new file and renames it over the old one (QSaveFile), so a
// crash mid-write leaves the previous file whole; the daemon saves every kSaveIntervalMs and
// at shutdown, so a kill -9 loses at most that interval. restore() refuses a file that is
// too large or malformed (MinuteStats::restore), leaving the statistics empty.
class StatsFile
{
public:
    static constexpr int kSaveIntervalMs = 5 * 60 * 1000;

    static QString path(const QString &dbdir);

    static bool save(const MinuteStats &stats, const QString &path, QString *error);
    // True with *restored false when there is no file yet (first start).
    static bool restore(MinuteStats &stats, const QString &path, bool *restored, QString *error);
    // The largest file restore() reads for these statistics.
    static qint64 maxBytes(const MinuteStats &stats);

    // The event log's statistics: the per-minute figures in `path` and the hourly breakdown
    // (HourlyBreakdown) beside it in hourlyPath(path), saved and restored together. A missing
    // hourly file (an older version's dbdir) restores the minutes alone.
    static QString hourlyPath(const QString &path);
    static bool save(const EventLog &events, const QString &path, QString *error);
    static bool restore(EventLog &events, const QString &path, bool *restored, QString *error);
};

} // namespace greygate
