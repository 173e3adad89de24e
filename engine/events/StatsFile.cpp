// SPDX-License-Identifier: GPL-3.0-or-later
#include "StatsFile.h"

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

} // namespace greygate
