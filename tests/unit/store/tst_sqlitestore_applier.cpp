// SPDX-License-Identifier: GPL-3.0-or-later
// The applier thread's schedule: it finds commits by itself (no flush needed), after an
// idle spell and when applyBytes pile up; a full queue holds commits back; close() drains
// it; it checkpoints the WAL on its own once it is large; it runs at a lower priority when
// asked. Every wait is bounded; none asserts a duration.
#include "SqliteRows.h"
#include "store/SqliteStore.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace greygate;

namespace {

using greygate::test::rejectionRowsInSqlite;

constexpr int kWaitMs = 30'000; // far beyond any gather interval used here

SqliteStoreOptions optionsFor(const QTemporaryDir &dir)
{
    SqliteStoreOptions o;
    o.dbdir = dir.path() + QStringLiteral("/db");
    return o;
}

// A triplet and a rejection: the rejection shows in SQLite once the applier took the batch
// (triplets go to the snapshot's delta, which another process cannot see).
WriteBatch tripletBatch(int n, int keyBytes = 20)
{
    WriteBatch b;
    const TripletKey key{QByteArray::number(n), QByteArray(keyBytes, 's'), "r"};
    b.upsertTriplets.append({key, {n, n, 0, 1, TripletStatus::Deferred}});
    b.rejections.append({n, "Sender Failed to Retry", key, 1, n});
    return b;
}

bool waitForApplied(const SqliteStore &store, quint64 sequence)
{
    QDeadlineTimer deadline(kWaitMs);
    while (store.stats().appliedSequence < sequence && !deadline.hasExpired())
        QThread::msleep(10);
    return store.stats().appliedSequence >= sequence;
}

// Fields of /proc/self/task/TID/stat after the command name: nice is field 19, the
// scheduling policy field 41 (counted from 1, as in proc(5)).
QList<QByteArray> taskStat(const QString &tid)
{
    QFile file(QStringLiteral("/proc/self/task/") + tid + QStringLiteral("/stat"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QByteArray line = file.readAll();
    return line.mid(line.lastIndexOf(')') + 2).split(' '); // [0] is field 3
}

} // namespace

class SqliteStoreApplierTest : public QObject
{
    Q_OBJECT

private slots:
    void commits_reach_sqlite_without_a_flush_also_after_the_applier_went_idle()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 100;
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        for (int round = 1; round <= 3; ++round) {
            for (int i = 0; i < 10; ++i)
                QVERIFY2(store.commit(tripletBatch(round * 100 + i), &error), qPrintable(error));
            // Nothing waits for the applier: it must wake up by itself for the first commit
            // into its empty queue, then apply what was gathered.
            QVERIFY(waitForApplied(store, store.stats().committedSequence));
            QCOMPARE(rejectionRowsInSqlite(options.dbdir), round * 10);
            QCOMPARE(store.stats().queuedBytes, 0);
        }
    }

    void reaching_apply_bytes_ends_the_gather_early()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 3'600'000; // only applyBytes can end this gather
        options.applyBytes = 4096;
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        // Put the applier to sleep on an empty queue, then give it a first commit: it starts
        // an hour's gather (the pause lets it get there; nothing depends on its length).
        QVERIFY2(store.commit(tripletBatch(0, 100), &error), qPrintable(error));
        QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error));
        QVERIFY2(store.commit(tripletBatch(1, 100), &error), qPrintable(error));
        QThread::msleep(50);
        int n = 2;
        while (store.stats().queuedBytes < options.applyBytes && n < 10'000)
            QVERIFY2(store.commit(tripletBatch(n++, 100), &error), qPrintable(error));
        QVERIFY(n > 3); // the threshold was crossed by later commits, not by the first one
        QVERIFY(waitForApplied(store, quint64(n)));
        QCOMPARE(rejectionRowsInSqlite(options.dbdir), n);
    }

    void a_full_queue_holds_commits_back_and_stays_bounded()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 3'600'000; // only back-pressure wakes the applier
        options.applyBytes = 1 << 30;
        options.maxQueueBytes = 64 << 10;
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        constexpr int kCommits = 3000; // ~1.2 MB of queued changes: many times the bound
        for (int i = 0; i < kCommits; ++i) {
            QVERIFY2(store.commit(tripletBatch(i, 200), &error), qPrintable(error));
            QVERIFY(store.stats().queuedBytes <= options.maxQueueBytes);
        }
        QVERIFY(store.stats().appliedSequence > 0);
        QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error));
        QCOMPARE(rejectionRowsInSqlite(options.dbdir), kCommits);
    }

    void close_drains_what_the_applier_was_still_gathering()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 3'600'000;
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            for (int i = 0; i < 100; ++i)
                QVERIFY2(store.commit(tripletBatch(i), &error), qPrintable(error));
            QCOMPARE(store.stats().appliedSequence, 0u); // still gathering
            store.close();
        }
        QCOMPARE(rejectionRowsInSqlite(options.dbdir), 100);
        QVERIFY(QDir(options.dbdir + QStringLiteral("/journal"))
                    .entryList({QStringLiteral("*.journal")}, QDir::Files)
                    .isEmpty());
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        QCOMPARE(store.stats().replayedAtOpen, 0u);
    }

    // commit() copies the records into a batch the applier emptied earlier: the caller's
    // lists stay its own (reused after clearKeepingCapacity), and every commit's records,
    // in recycled batches too, are what the store holds.
    void recycled_batches_carry_each_commits_own_records()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 10;
        QString error;
        WriteBatch batch;
        quint64 sequence = 0;
        int n = 0;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            for (int round = 0; round < 3; ++round) {
                for (int i = 0; i < 50; ++i, ++n) {
                    for (int k = 0; k < 1 + n % 5; ++k) {
                        const TripletKey key{QByteArray::number(n), QByteArray::number(k), "r"};
                        batch.upsertTriplets.append(
                            {key, {n, n, 0, quint32(k + 1), TripletStatus::Deferred}});
                    }
                    QVERIFY2(store.commit(batch, &error), qPrintable(error));
                    QVERIFY(batch.upsertTriplets.isDetached()); // not shared with the queue
                    batch.clearKeepingCapacity();
                    ++sequence;
                }
                QVERIFY(waitForApplied(store, sequence)); // its batches become spares
            }
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        QHash<QByteArray, quint32> attempts;
        QVERIFY2(store.load(
                     [&](TripletRecord &&r) { attempts.insert(r.key.joined(), r.state.attempts); },
                     [](ClientRecord &&) {}, &error),
                 qPrintable(error));
        int expected = 0;
        for (int i = 0; i < n; ++i) {
            for (int k = 0; k < 1 + i % 5; ++k, ++expected) {
                const TripletKey key{QByteArray::number(i), QByteArray::number(k), "r"};
                QCOMPARE(attempts.value(key.joined()), quint32(k + 1));
            }
        }
        QCOMPARE(attempts.size(), expected);
    }

    void the_applier_checkpoints_the_wal_once_it_is_large_data()
    {
        QTest::addColumn<qint64>("walCheckpointBytes");
        QTest::addColumn<bool>("checkpointed");
        QTest::newRow("past the limit") << qint64(256 << 10) << true;
        QTest::newRow("below the limit") << qint64(1LL << 30) << false;
    }
    void the_applier_checkpoints_the_wal_once_it_is_large()
    {
        QFETCH(qint64, walCheckpointBytes);
        QFETCH(bool, checkpointed);
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.walCheckpointBytes = walCheckpointBytes;
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        const QString db = options.dbdir + QStringLiteral("/greygate.db");
        const qint64 emptySize = QFileInfo(db).size();
        // ~2 MB of rows in 40 transactions: with SQLite's own checkpoints off, only the
        // applier's moves them from the WAL into the database file while it is open.
        for (int t = 0; t < 40; ++t) {
            WriteBatch batch;
            for (int i = 0; i < 100; ++i)
                batch.rejections.append(tripletBatch(t * 100 + i, 400).rejections[0]);
            QVERIFY2(store.commit(batch, &error), qPrintable(error));
            QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error));
        }
        const qint64 grown = QFileInfo(db).size() - emptySize;
        QVERIFY2((grown > (1 << 20)) == checkpointed,
                 qPrintable(QStringLiteral("database file grew by %1 bytes").arg(grown)));
        QCOMPARE(rejectionRowsInSqlite(options.dbdir), 4000);
    }

    void applier_nice_lowers_only_the_applier_thread()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applierNice = 7;
        const QString self = QString::number(::getpid());
        const QStringList before =
            QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        QVERIFY2(store.commit(tripletBatch(1), &error), qPrintable(error));
        QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error)); // the applier has started
        const qint64 mainNice = taskStat(self).value(16).toLongLong();
        int lowered = 0;
        const QStringList tasks =
            QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &tid : tasks) {
            if (before.contains(tid))
                continue; // not the store's
            const QList<QByteArray> stat = taskStat(tid);
            if (stat.value(16).toLongLong() == qMin<qint64>(19, mainNice + 7)) {
                ++lowered;
                QCOMPARE(stat.value(38).toInt(), 3); // SCHED_BATCH
            }
        }
        QCOMPARE(lowered, 1);
        QCOMPARE(taskStat(self).value(16).toLongLong(), mainNice); // the caller's unchanged
        QCOMPARE(rejectionRowsInSqlite(options.dbdir), 1);
    }
};

QTEST_GUILESS_MAIN(SqliteStoreApplierTest)
#include "tst_sqlitestore_applier.moc"
