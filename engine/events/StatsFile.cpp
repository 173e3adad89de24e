// SPDX-License-Identifier: GPL-3.0-or-later
#include "StatsFile.h"

#include "EventLog.h"
#include "MinuteStats.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>

namespace greygate {

QString StatsFile::path(const QString &dbdir)
{
    return QDir(dbdir).filePath(QStringLiteral("stats.bin"));
}

qint64 StatsFile::maxBytes(const MinuteStats &stats)
{
    // The header, then per used minute its number and six counters (MinuteStats::save).
    return 64 + qint64(stats.minutes()) * (8 + 6 * 4);
}

bool StatsFile::save(const MinuteStats &stats, const QString &path, QString *error)
{
    QSaveFile file(path);
    const QByteArray bytes = stats.save();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        *error = path + u": " + file.errorString();
        return false;
    }
    return true;
}

bool StatsFile::restore(MinuteStats &stats, const QString &path, bool *restored, QString *error)
{
    *restored = false;
    QFile file(path);
    if (!file.exists())
        return true;
    if (!file.open(QIODevice::ReadOnly)) {
        *error = path + u": " + file.errorString();
        return false;
    }
    if (file.size() > maxBytes(stats)) {
        *error =
            path + QStringLiteral(": larger than any statistics file (%1 bytes)").arg(file.size());
        return false;
    }
    const QByteArray bytes = file.read(maxBytes(stats) + 1);
    if (!stats.restore(bytes)) {
        *error = path + u": not a statistics file of this version, or damaged";
        return false;
    }
    *restored = true;
    return true;
}

QString StatsFile::hourlyPath(const QString &path)
{
    QString hourly = path;
    if (hourly.endsWith(u".bin"))
        hourly.chop(4);
    return hourly + u"-hourly.bin";
}

bool StatsFile::save(const EventLog &events, const QString &path, QString *error)
{
    if (!save(events.stats(), path, error) ||
        !events.attempts().save(AttemptHistory::path(path), error))
        return false;
    QSaveFile file(hourlyPath(path));
    const QByteArray bytes = events.breakdown().save();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        *error = file.fileName() + u": " + file.errorString();
        return false;
    }
    return true;
}

bool StatsFile::restore(EventLog &events, const QString &path, bool *restored, QString *error)
{
    // The attempts policy.replay looks at: a damaged file leaves them empty (restore() says
    // so), costing replay its past and nothing else.
    bool attempts = false;
    QString attemptsError;
    events.attempts().restore(AttemptHistory::path(path), &attempts, &attemptsError);
    if (!restore(events.stats(), path, restored, error))
        return false;
    QFile file(hourlyPath(path));
    if (!file.exists())
        return true;
    const qint64 max = events.breakdown().maxBytes();
    if (!file.open(QIODevice::ReadOnly) || file.size() > max) {
        *error = file.fileName() + u": " +
                 (file.isOpen() ? QStringLiteral("larger than any breakdown file")
                                : file.errorString()) +
                 u" (the per-minute statistics were restored)";
        return false;
    }
    if (!events.breakdown().restore(file.read(max + 1))) {
        *error = file.fileName() +
                 u": not a breakdown file of this version, or damaged (the per-minute "
                 u"statistics were restored)";
        return false;
    }
    return true;
}

} // namespace greygate
