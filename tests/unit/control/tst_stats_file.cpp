// SPDX-License-Identifier: GPL-3.0-or-later
// DBDIR/stats.bin: the per-minute statistics saved and restored whole; no file on first
// start; a damaged, foreign or oversized file refused (the statistics stay empty); a save
// replaces the file in one rename, leaving no temporary file behind.
#include "events/MinuteStats.h"
#include "events/StatsFile.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

class StatsFileTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void savedStatisticsComeBack();
    void noFileIsAFirstStart();
    void aBadFileIsRefused_data();
    void aBadFileIsRefused();
    void aSaveReplacesTheFileWhole();
};

namespace {

constexpr Seconds kT0 = 1'800'000'000;

MinuteStats sample()
{
    MinuteStats s;
    s.countAttempt(kT0, AttemptOutcome::Deferred);
    s.countAttempt(kT0 + 5, AttemptOutcome::Deferred);
    s.countAttempt(kT0 + 3600, AttemptOutcome::Passed);
    s.countAttempt(kT0 + 86400, AttemptOutcome::Blocked);
    s.countFailedToRetry(kT0 + 7200, 3);
    return s;
}

} // namespace

void StatsFileTest::savedStatisticsComeBack()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = StatsFile::path(dir.path());
    QCOMPARE(path, dir.filePath(QStringLiteral("stats.bin")));
    const MinuteStats before = sample();
    QString error;
    QVERIFY2(StatsFile::save(before, path, &error), qPrintable(error));

    MinuteStats after;
    bool restored = false;
    QVERIFY2(StatsFile::restore(after, path, &restored, &error), qPrintable(error));
    QVERIFY(restored);
    const MinuteStats::Counts all = after.sum(kT0 - 60, kT0 + 2 * 86400);
    QCOMPARE(all.deferred, quint32(2));
    QCOMPARE(all.passed, quint32(1));
    QCOMPARE(all.blocked, quint32(1));
    QCOMPARE(all.failedToRetry, quint32(3));
    QCOMPARE(all, before.sum(kT0 - 60, kT0 + 2 * 86400));
    // Minute by minute too, not only the sum.
    QCOMPARE(after.range(kT0 - 60, kT0 + 2 * 86400, 1).size(),
             before.range(kT0 - 60, kT0 + 2 * 86400, 1).size());
    QCOMPARE(after.sum(kT0 + 3600, kT0 + 3660).passed, quint32(1));
}

void StatsFileTest::noFileIsAFirstStart()
{
    QTemporaryDir dir;
    MinuteStats stats;
    bool restored = true;
    QString error;
    QVERIFY(StatsFile::restore(stats, StatsFile::path(dir.path()), &restored, &error));
    QVERIFY(!restored);
}

void StatsFileTest::aBadFileIsRefused_data()
{
    QTest::addColumn<QByteArray>("content");
    const QByteArray good = sample().save();
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("truncated") << good.first(good.size() - 3);
    QTest::newRow("trailing bytes") << good + "x";
    QTest::newRow("foreign") << QByteArray("SQLite format 3\0", 16) + QByteArray(100, '\0');
    QByteArray wrongFormat = good;
    wrongFormat[7] = char(wrongFormat[7] + 1); // the format number after the magic
    QTest::newRow("another format") << wrongFormat;
    QTest::newRow("oversized") << QByteArray(StatsFile::maxBytes(MinuteStats()) + 1, 'x');
}

void StatsFileTest::aBadFileIsRefused()
{
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    const QString path = StatsFile::path(dir.path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(content), content.size());
    f.close();
    MinuteStats stats;
    stats.countAttempt(kT0, AttemptOutcome::Deferred);
    bool restored = true;
    QString error;
    QVERIFY(!StatsFile::restore(stats, path, &restored, &error));
    QVERIFY(!restored);
    QVERIFY(error.contains(path));
    // Refused whole: what was counted is untouched.
    QCOMPARE(stats.sum(kT0, kT0 + 60).deferred, quint32(1));
}

void StatsFileTest::aSaveReplacesTheFileWhole()
{
    QTemporaryDir dir;
    const QString path = StatsFile::path(dir.path());
    QString error;
    QVERIFY(StatsFile::save(sample(), path, &error));
    MinuteStats more = sample();
    more.countAttempt(kT0 + 60, AttemptOutcome::Bypassed);
    QVERIFY(StatsFile::save(more, path, &error));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
             QStringList{QStringLiteral("stats.bin")});
    MinuteStats back;
    bool restored = false;
    QVERIFY(StatsFile::restore(back, path, &restored, &error));
    QCOMPARE(back.sum(kT0, kT0 + 120).bypassed, quint32(1));
    // An unwritable place fails with the path named, and leaves the old file.
    QVERIFY(!StatsFile::save(more, dir.filePath(QStringLiteral("missing/stats.bin")), &error));
    QVERIFY(error.contains(QStringLiteral("missing/stats.bin")));
}

QTEST_GUILESS_MAIN(StatsFileTest)
#include "tst_stats_file.moc"
