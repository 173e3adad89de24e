// SPDX-License-Identifier: GPL-3.0-or-later
#include "CrashBatches.h"
#include "JournalBytes.h"
#include "TestSupport.h"
#include "store/JournalCodec.h"
#include "store/SqliteStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <sqlite3.h>
#include <sys/resource.h>

using namespace greygate;
using namespace greygate::test;

namespace {

// Runs store_crash_writer until it kills itself after `count` commits, with an applier
// that waits an hour: everything it committed is only in the journal.
CrashRun writeAndDie(const QString &dbdir, qint64 first, int count)
{
    QProcess writer;
    writer.setStandardOutputFile(dbdir + QStringLiteral(".out"));
    writer.start(program(QStringLiteral("store_crash_writer")),
                 {dbdir, QString::number(first), QString::number(64 << 20), QString::number(count),
                  QString::number(3'600'000)});
    CrashRun run{first, {}};
    if (!writer.waitForFinished(30'000)) {
        writer.kill();
        writer.waitForFinished(5'000);
        return run;
    }
    if (writer.exitStatus() != QProcess::CrashExit)
        qWarning("writer exited normally: %s", writer.readAllStandardError().constData());
    QFile out(dbdir + QStringLiteral(".out"));
    if (out.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : out.readAll().split('\n'))
            if (!line.isEmpty())
                run.reported.append(line.toLongLong());
    }
    return run;
}

QString lastSegment(const QString &dbdir)
{
    const QStringList files =
        QDir(dbdir + QStringLiteral("/journal"))
            .entryList({QStringLiteral("*.journal")}, QDir::Files, QDir::Name);
    return files.isEmpty() ? QString() : dbdir + QStringLiteral("/journal/") + files.last();
}

QString onlySegment(const QString &dbdir)
{
    const QStringList files = QDir(dbdir + QStringLiteral("/journal"))
                                  .entryList({QStringLiteral("*.journal")}, QDir::Files);
    return files.size() == 1 ? dbdir + QStringLiteral("/journal/") + files.first() : QString();
}

// Where the last record of a journal segment starts.
qint64 lastRecordStart(const QByteArray &journal)
{
    const qint64 end = recordsEnd(journal);
    qint64 pos = 0;
    for (;;) {
        const JournalCodec::Header h = JournalCodec::parseHeader(journal.constData() + pos);
        const qint64 next = pos + JournalCodec::kHeaderSize + h.length;
        if (next >= end)
            return pos;
        pos = next;
    }
}

} // namespace

class SqliteStoreRecoveryTest : public QObject
{
    Q_OBJECT

private slots:
    void journal_is_replayed_when_the_applier_never_ran()
    {
        QTemporaryDir dir;
        const QString dbdir = dir.path() + QStringLiteral("/db");
        const CrashRun run = writeAndDie(dbdir, 0, 200);
        QCOMPARE(run.reported.size(), 200);

        SqliteStoreOptions options;
        options.dbdir = dbdir;
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        QCOMPARE(store.stats().replayedAtOpen, 200u);
        CrashState state;
        QVERIFY2(loadCrashState(store, &state, &error), qPrintable(error));
        const QString problem = checkCrashRuns(state, {run});
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(state.triplets.size(), 200 * 2 - 200 / 5 + 1); // minus removals (not id 0)
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }

    void damaged_tail_is_cut_off_and_everything_before_it_recovered_data()
    {
        QTest::addColumn<int>("cut");         // bytes removed from the end of the journal
        QTest::addColumn<QByteArray>("junk"); // then appended
        QTest::addColumn<int>("survivors");   // batches expected back

        QTest::newRow("cut mid-payload") << 7 << QByteArray() << 99;
        QTest::newRow("cut to a lone header byte") << -1 << QByteArray() << 99;
        QTest::newRow("cut to a bare header") << -2 << QByteArray() << 99;
        QTest::newRow("garbage appended") << 0 << QByteArray(100, '\xa5') << 100;
        QTest::newRow("cut and garbage") << 7 << QByteArrayLiteral("GGJ1\0\0junk") << 99;
        QTest::newRow("header promising 4 GiB")
            << 0 << QByteArray("\x47\x47\x4a\x31\xff\xff\xff\xff\x65\0\0\0\0\0\0\0\0\0\0\0", 20)
            << 100;
    }
    void damaged_tail_is_cut_off_and_everything_before_it_recovered()
    {
        QFETCH(int, cut);
        QFETCH(QByteArray, junk);
        QFETCH(int, survivors);
        QTemporaryDir dir;
        const QString dbdir = dir.path() + QStringLiteral("/db");
        CrashRun run = writeAndDie(dbdir, 0, 100);
        QCOMPARE(run.reported.size(), 100);
        const QString segment = onlySegment(dbdir);
        QVERIFY(!segment.isEmpty());
        QFile file(segment);
        QVERIFY(file.open(QIODevice::ReadWrite));
        // cut -1 keeps one byte of the last record, -2 its header without the payload. The
        // damage lands where the records end, before the zeros of the mapped segment's rest,
        // as a kill in the middle of an append leaves it.
        const QByteArray bytes = file.readAll();
        const qint64 size = recordsEnd(bytes);
        const qint64 last = lastRecordStart(bytes);
        const qint64 keep =
            cut >= 0 ? size - cut : last + (cut == -1 ? 1 : JournalCodec::kHeaderSize);
        QVERIFY(file.seek(keep));
        const QByteArray damage = junk + QByteArray(size - keep, '\0');
        QCOMPARE(file.write(damage), damage.size());
        file.close();

        SqliteStoreOptions options;
        options.dbdir = dbdir;
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error)); // a warning, never a refusal
            QCOMPARE(store.stats().replayedAtOpen, quint64(survivors));
            CrashState state;
            QVERIFY2(loadCrashState(store, &state, &error), qPrintable(error));
            run.reported.resize(survivors);
            const QString problem = checkCrashRuns(state, {run});
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            QCOMPARE(state.triplets.contains(crashKeyA(survivors).joined()), false);
            QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
            // The store goes on from there.
            QVERIFY2(store.commit(crashBatch(500, 0), &error), qPrintable(error));
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        CrashState state;
        QVERIFY2(loadCrashState(store, &state, &error), qPrintable(error));
        QVERIFY(state.triplets.contains(crashKeyA(500).joined()));
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }

    void a_failed_write_returns_false_and_leaves_no_half_record()
    {
        // A full disk without root: RLIMIT_FSIZE makes reserving space in the next segment
        // fail (EFBIG), which is what ENOSPC looks like to the journal. The commits that
        // still fit the space reserved in the current segment succeed.
        std::signal(SIGXFSZ, SIG_IGN);
        QTemporaryDir dir;
        SqliteStoreOptions options;
        options.dbdir = dir.path() + QStringLiteral("/db");
        options.applyIntervalMs = 3'600'000; // keep SQLite out of the way
        options.segmentBytes = 16 << 10;
        QString error;
        QList<qint64> committed;
        qint64 failed = 10;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            for (qint64 id = 0; id < 10; ++id) {
                QVERIFY2(store.commit(crashBatch(id, 0), &error), qPrintable(error));
                committed.append(id);
            }
            const QString segment = lastSegment(options.dbdir);
            rlimit old{};
            QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
            rlimit tight = old;
            tight.rlim_cur = rlim_t(options.segmentBytes - 10);
            QCOMPARE(setrlimit(RLIMIT_FSIZE, &tight), 0);
            while (failed < 1000 && store.commit(crashBatch(failed, 0), &error))
                committed.append(failed++);
            QFile file(segment);
            const bool read = file.open(QIODevice::ReadOnly);
            const QByteArray after = file.readAll();
            QCOMPARE(setrlimit(RLIMIT_FSIZE, &old), 0);
            QVERIFY(read);
            QVERIFY(failed < 1000);
            QVERIFY2(error.contains(u"cannot reserve"), qPrintable(error));
            QCOMPARE(recordsEnd(after), after.size()); // closed: cut to its records
            QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
            for (qint64 id = failed + 1; id < failed + 50; ++id) { // room again: commits go on
                QVERIFY2(store.commit(crashBatch(id, 0), &error), qPrintable(error));
                committed.append(id);
            }
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        CrashState state;
        QVERIFY2(loadCrashState(store, &state, &error), qPrintable(error));
        const QString problem = checkCrashRuns(state, {{0, committed}});
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(!state.triplets.contains(crashKeyA(failed).joined()));
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(SqliteStoreRecoveryTest)
#include "tst_sqlitestore_recovery.moc"
