// SPDX-License-Identifier: GPL-3.0-or-later
#include "CrashBatches.h"
#include "TestSupport.h"
#include "store/SqliteStore.h"

#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <csignal>

using namespace greygate;
using namespace greygate::test;

class SqliteStoreCrashTest : public QObject
{
    Q_OBJECT

private slots:
    // The real thing: a writer process committing as fast as it can is killed with SIGKILL
    // at random moments; every batch it reported committed must be back, whole. With tiny
    // snapshot thresholds, most kills land while a triplet snapshot is being written (or
    // renamed, or its journal deleted).
    void every_reported_commit_survives_kill_9_data()
    {
        QTest::addColumn<int>("applyIntervalMs");
        QTest::addColumn<qint64>("snapshotChanges");
        QTest::newRow("default snapshot schedule") << -1 << qint64(0);
        QTest::newRow("a snapshot every 50 changes") << 5 << qint64(50);
    }
    void every_reported_commit_survives_kill_9()
    {
        QFETCH(int, applyIntervalMs);
        QFETCH(qint64, snapshotChanges);
        QTemporaryDir dir;
        const QString dbdir = dir.path() + QStringLiteral("/db");
        const quint32 seed = QRandomGenerator::global()->generate();
        qInfo("seed %u", seed);
        QRandomGenerator random(seed);
        SqliteStoreOptions options;
        options.dbdir = dbdir;
        options.segmentBytes = 64 << 10; // rotations and deletions under fire
        if (snapshotChanges > 0)
            options.snapshotMinChanges = options.snapshotMaxChanges = snapshotChanges;
        QList<CrashRun> runs;
        qint64 total = 0;
        constexpr int kRounds = 8;
        for (int round = 0; round < kRounds; ++round) {
            const qint64 first = (round + 1) * kCrashRunStride;
            const QString outPath = dir.path() + QStringLiteral("/out%1").arg(round);
            QProcess writer;
            writer.setStandardOutputFile(outPath);
            QStringList args{dbdir, QString::number(first), QString::number(options.segmentBytes)};
            if (snapshotChanges > 0)
                args << QStringLiteral("0") << QString::number(applyIntervalMs)
                     << QString::number(snapshotChanges);
            writer.start(program(QStringLiteral("store_crash_writer")), args);
            QVERIFY2(writer.waitForStarted(10'000), qPrintable(writer.errorString()));
            // Some kills land in open() (recovering the previous crash), most in the loop.
            QThread::msleep(random.bounded(20, 1500));
            QCOMPARE(::kill(pid_t(writer.processId()), SIGKILL), 0);
            QVERIFY(writer.waitForFinished(10'000));
            QCOMPARE(writer.exitStatus(), QProcess::CrashExit);

            CrashRun run{first, {}};
            QFile out(outPath);
            QVERIFY(out.open(QIODevice::ReadOnly));
            const QByteArray text = out.readAll();
            const QList<QByteArray> lines = text.split('\n');
            // A line without its newline was cut by the kill mid-printf: its commit had
            // returned, but a partial number is not a number; ignore it.
            for (qsizetype i = 0; i + 1 < lines.size(); ++i)
                run.reported.append(lines[i].toLongLong());
            total += run.reported.size();
            qInfo("round %d: %lld batches reported committed", round, qint64(run.reported.size()));
            runs.append(run);

            // Check every other round here; in the others the next writer has to recover
            // the crashed journal itself.
            if (round % 2 == 0 && round != kRounds - 1)
                continue;
            SqliteStore store(options);
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            CrashState state;
            QVERIFY2(loadCrashState(store, &state, &error), qPrintable(error));
            const QString problem = checkCrashRuns(state, runs);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
            if (snapshotChanges > 0)
                QVERIFY(store.stats().snapshotSequence > 0);
        }
        QVERIFY2(total > 0, "the writer never got to commit anything");
    }
};

QTEST_GUILESS_MAIN(SqliteStoreCrashTest)
#include "tst_sqlitestore_crash.moc"
