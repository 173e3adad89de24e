// SPDX-License-Identifier: GPL-3.0-or-later
#include "JournalBytes.h"
#include "store/JournalCodec.h"
#include "store/SqliteStore.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <sqlite3.h>

using namespace greygate;

namespace {

struct Snapshot
{
    QHash<QByteArray, TripletState> triplets; // by TripletKey::joined()
    QHash<QByteArray, ClientRecord> clients;
};

Snapshot loadAll(SqliteStore &store)
{
    Snapshot s;
    QString error;
    const bool ok =
        store.load([&](TripletRecord &&t) { s.triplets.insert(t.key.joined(), t.state); },
                   [&](ClientRecord &&c) { s.clients.insert(c.client, c); }, &error);
    if (!ok)
        qWarning("load failed: %s", qPrintable(error));
    return s;
}

SqliteStoreOptions optionsFor(const QTemporaryDir &dir)
{
    SqliteStoreOptions o;
    o.dbdir = dir.path() + QStringLiteral("/db");
    return o;
}

int journalFiles(const SqliteStoreOptions &o)
{
    return int(QDir(o.dbdir + QStringLiteral("/journal"))
                   .entryList({QStringLiteral("*.journal")}, QDir::Files)
                   .size());
}

} // namespace

class SqliteStoreTest : public QObject
{
    Q_OBJECT

private slots:
    void every_record_type_round_trips_through_a_reopen_data()
    {
        QTest::addColumn<QByteArray>("client");
        QTest::addColumn<QByteArray>("sender");
        QTest::addColumn<QByteArray>("recipient");
        QTest::addColumn<qint64>("time");
        QTest::addColumn<quint32>("count");

        QTest::newRow("plain") << QByteArrayLiteral("192.0.2.0/24")
                               << QByteArrayLiteral("bounce@example.com")
                               << QByteArrayLiteral("user@example.org") << qint64(1'800'000'000)
                               << 3u;
        QTest::newRow("null sender")
            << QByteArrayLiteral("2001:db8::/64") << QByteArray()
            << QByteArrayLiteral("postmaster@example.org") << qint64(1) << 1u;
        QTest::newRow("odd bytes") << QByteArray("\0\x01\xff", 3) << QByteArray("a\0b\nc\r", 6)
                                   << QByteArray("\xc3\x28 not utf-8 \x7f", 15) << qint64(-1) << 0u;
        QTest::newRow("extremes") << QByteArray(4096, 'x') << QByteArray(1, '\0')
                                  << QByteArray(300, '\xee') << std::numeric_limits<qint64>::max()
                                  << 0xFFFFFFFFu;
    }
    void every_record_type_round_trips_through_a_reopen()
    {
        QFETCH(QByteArray, client);
        QFETCH(QByteArray, sender);
        QFETCH(QByteArray, recipient);
        QFETCH(qint64, time);
        QFETCH(quint32, count);
        QTemporaryDir dir;
        const SqliteStoreOptions options = optionsFor(dir);
        const TripletKey key{client, sender, recipient};
        const TripletState state{time, time, time, count, TripletStatus::Passed};
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            WriteBatch batch;
            batch.upsertTriplets.append({key, state});
            batch.upsertClients.append({client, count, time});
            batch.rejections.append({time, sender + recipient, key, count, time});
            QVERIFY2(store.commit(batch, &error), qPrintable(error));
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        const Snapshot s = loadAll(store);
        QCOMPARE(s.triplets.size(), 1);
        QCOMPARE(s.triplets.begin().key(), key.joined());
        QVERIFY(s.triplets.value(key.joined()) == state);
        QCOMPARE(s.clients.size(), 1);
        QCOMPARE(s.clients.begin()->client, client);
        QCOMPARE(s.clients.begin()->passes, count);
        QCOMPARE(s.clients.begin()->lastSeen, time);
        const QList<RejectionEntry> rejections =
            store.rejections({std::numeric_limits<qint64>::min(), 0, 0, 10}, &error);
        QCOMPARE(rejections.size(), 1);
        QCOMPARE(rejections[0].time, time);
        QCOMPARE(rejections[0].reason, sender + recipient);
        QCOMPARE(rejections[0].key, key);
        QCOMPARE(rejections[0].attempts, count);
        QCOMPARE(rejections[0].firstSeen, time);
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }

    void upsert_overwrites_the_earlier_state()
    {
        QTemporaryDir dir;
        SqliteStore store(optionsFor(dir));
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        const TripletKey key{"10.0.0.0/24", "a@b", "c@d"};
        WriteBatch first;
        first.upsertTriplets.append({key, {1, 1, 0, 1, TripletStatus::Deferred}});
        first.upsertClients.append({"10.0.0.0/24", 1, 1});
        QVERIFY(store.commit(first, &error));
        WriteBatch second; // the same key twice in one batch: the later one wins
        second.upsertTriplets.append({key, {1, 70, 70, 2, TripletStatus::Passed}});
        second.upsertTriplets.append({key, {1, 80, 70, 3, TripletStatus::Passed}});
        second.upsertClients.append({"10.0.0.0/24", 5, 80});
        QVERIFY(store.commit(second, &error));
        const Snapshot s = loadAll(store);
        QCOMPARE(s.triplets.size(), 1);
        QVERIFY(s.triplets.value(key.joined()) ==
                (TripletState{1, 80, 70, 3, TripletStatus::Passed}));
        QCOMPARE(s.clients.value("10.0.0.0/24").passes, 5u);
        QCOMPARE(s.clients.value("10.0.0.0/24").lastSeen, 80);
    }

    void removals_delete_triplets_and_clients()
    {
        QTemporaryDir dir;
        SqliteStore store(optionsFor(dir));
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        const TripletKey keep{"1", "", "r"};
        const TripletKey drop{"2", "", "r"};
        WriteBatch add;
        add.upsertTriplets.append({keep, {1, 1, 0, 1, TripletStatus::Deferred}});
        add.upsertTriplets.append({drop, {1, 1, 0, 1, TripletStatus::Deferred}});
        add.upsertClients.append({"keep", 1, 1});
        add.upsertClients.append({"drop", 1, 1});
        QVERIFY(store.commit(add, &error));
        WriteBatch remove;
        remove.removeTriplets.append(drop.joined());
        remove.removeTriplets.append(TripletKey{"never", "seen", "key"}.joined()); // harmless
        remove.removeClients.append("drop");
        QVERIFY2(store.commit(remove, &error), qPrintable(error));
        const Snapshot s = loadAll(store);
        QCOMPARE(s.triplets.keys(), QList<QByteArray>{keep.joined()});
        QCOMPARE(s.clients.keys(), QList<QByteArray>{"keep"});
    }

    void a_malformed_removal_key_is_refused_and_nothing_committed()
    {
        QTemporaryDir dir;
        SqliteStore store(optionsFor(dir));
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        WriteBatch bad;
        bad.upsertTriplets.append({{"1", "", "r"}, {1, 1, 0, 1, TripletStatus::Deferred}});
        bad.removeTriplets.append("no separators");
        QVERIFY(!store.commit(bad, &error));
        QVERIFY(error.contains(u"malformed"));
        QVERIFY(loadAll(store).triplets.isEmpty());
    }

    void reopen_returns_the_same_state_as_a_model()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.segmentBytes = 4096; // many rotations on the way
        QRandomGenerator random(4242);
        Snapshot model;
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            for (int b = 0; b < 300; ++b) {
                WriteBatch batch;
                for (int i = 0; i < 8; ++i) {
                    const TripletKey key{QByteArray::number(random.bounded(200)), "s",
                                         QByteArray::number(random.bounded(3))};
                    if (random.bounded(4) == 0) {
                        batch.removeTriplets.append(key.joined());
                        model.triplets.remove(key.joined());
                    } else {
                        const Seconds t = random.bounded(1'000'000);
                        const TripletState state{t, t + 1, 0, quint32(b), TripletStatus::Deferred};
                        batch.upsertTriplets.append({key, state});
                        model.triplets.insert(key.joined(), state);
                    }
                }
                const ClientRecord client{QByteArray::number(random.bounded(20)), quint32(b), b};
                batch.upsertClients.append(client);
                model.clients.insert(client.client, client);
                QVERIFY2(store.commit(batch, &error), qPrintable(error));
            }
            QCOMPARE(loadAll(store).triplets, model.triplets); // while open
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        QCOMPARE(store.stats().replayedAtOpen, 0u); // close() drained the applier
        const Snapshot s = loadAll(store);
        QCOMPARE(s.triplets, model.triplets);
        QCOMPARE(s.clients.keys().size(), model.clients.size());
        for (const ClientRecord &c : std::as_const(model.clients))
            QCOMPARE(s.clients.value(c.client).passes, c.passes);
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }

    void rejections_page_by_time_range_and_see_batches_in_flight()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 60'000; // the applier would wait: queries must not
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        // 250 entries at times 1000..1249, committed out of order in batches of 10.
        QList<int> times;
        for (int t = 1000; t < 1250; ++t)
            times.append(t);
        std::shuffle(times.begin(), times.end(), *QRandomGenerator::global());
        for (int i = 0; i < times.size(); i += 10) {
            WriteBatch batch;
            for (int k = i; k < i + 10; ++k)
                batch.rejections.append({times[k],
                                         "Sender Failed to Retry",
                                         {QByteArray::number(times[k]), "", "r"},
                                         1,
                                         0});
            QVERIFY(store.commit(batch, &error));
        }
        QList<Seconds> seen;
        for (int page = 0; page < 10; ++page) {
            const QList<RejectionEntry> rows =
                store.rejections({1010, 1200, page * 50, 50}, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QVERIFY(rows.size() <= 50);
            for (const RejectionEntry &r : rows) {
                seen.append(r.time);
                QCOMPARE(r.key.client, QByteArray::number(r.time));
            }
            if (rows.size() < 50)
                break;
        }
        QCOMPARE(seen.size(), 190); // [1010, 1200)
        for (qsizetype i = 0; i < seen.size(); ++i)
            QCOMPARE(seen[i], Seconds(1010 + i));
        QCOMPARE(store.rejections({1200, 0, 0, 1000}, &error).size(), 50); // open-ended
        QVERIFY(store.rejections({0, 0, 0, 0}, &error).isEmpty());
        QVERIFY(store.rejections({2000, 0, 0, 10}, &error).isEmpty());
    }

    void applied_journal_segments_are_deleted()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.segmentBytes = 4096;
        options.snapshotMinChanges = options.snapshotMaxChanges = 1; // a snapshot whenever idle
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        for (int i = 0; i < 500; ++i) {
            WriteBatch batch;
            batch.upsertTriplets.append(
                {{QByteArray::number(i), QByteArray(40, 's'), "r"}, {i, i, 0, 1, {}}});
            QVERIFY(store.commit(batch, &error));
        }
        QVERIFY2(store.flush(10'000, &error), qPrintable(error));
        QCOMPARE(store.stats().appliedSequence, store.stats().committedSequence);
        // Once a snapshot holds the triplets too, only the segment being written is left.
        QTRY_COMPARE_WITH_TIMEOUT(store.stats().snapshotSequence, store.stats().committedSequence,
                                  10'000);
        QTRY_COMPARE_WITH_TIMEOUT(journalFiles(options), 1, 10'000);
        QVERIFY(store.stats().snapshots > 0);
        store.close();
        QCOMPARE(journalFiles(options), 0);
    }

    void a_second_store_on_the_same_directory_is_refused()
    {
        QTemporaryDir dir;
        SqliteStore first(optionsFor(dir));
        SqliteStore second(optionsFor(dir));
        QString error;
        QVERIFY2(first.open(&error), qPrintable(error));
        QVERIFY(!second.open(&error));
        QVERIFY2(error.contains(u"in use"), qPrintable(error));
        first.close();
        QVERIFY2(second.open(&error), qPrintable(error));
    }

    void a_newer_schema_is_refused()
    {
        QTemporaryDir dir;
        const SqliteStoreOptions options = optionsFor(dir);
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
        }
        sqlite3 *db = nullptr;
        const QByteArray path = QFile::encodeName(options.dbdir + QStringLiteral("/greygate.db"));
        QCOMPARE(sqlite3_open(path.constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr),
                 SQLITE_OK);
        sqlite3_close(db);
        SqliteStore store(options);
        QVERIFY(!store.open(&error));
        QVERIFY2(error.contains(u"newer"), qPrintable(error));
    }

    void commit_after_close_fails_and_empty_batches_commit_trivially()
    {
        QTemporaryDir dir;
        SqliteStore store(optionsFor(dir));
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        QVERIFY(store.commit(WriteBatch{}, &error));
        QCOMPARE(store.stats().committedSequence, 0u);
        store.close();
        WriteBatch batch;
        batch.upsertClients.append({"x", 1, 1});
        QVERIFY(!store.commit(batch, &error));
        QVERIFY(error.contains(u"not open"));
    }

    void integrity_check_notices_a_damaged_journal()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 60'000;
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        WriteBatch batch;
        batch.upsertClients.append({"x", 1, 1});
        QVERIFY(store.commit(batch, &error));
        QVERIFY(store.commit(batch, &error));
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
        const QString segment = options.dbdir + QStringLiteral("/journal/") +
                                QDir(options.dbdir + QStringLiteral("/journal"))
                                    .entryList({QStringLiteral("*.journal")}, QDir::Files)
                                    .constFirst();
        QFile file(segment);
        QVERIFY(file.open(QIODevice::ReadWrite));
        // The segment is mapped and reserved ahead: its records end before the zeros.
        const qint64 end = test::recordsEnd(file.readAll());
        QVERIFY(file.seek(end - 3));
        QVERIFY(file.write("\x55") == 1); // a flipped byte in the last record's payload
        file.close();
        QVERIFY(!store.checkIntegrity(&error));
        QVERIFY2(error.contains(u"CRC"), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(SqliteStoreTest)
#include "tst_sqlitestore.moc"
