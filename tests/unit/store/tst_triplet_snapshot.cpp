// SPDX-License-Identifier: GPL-3.0-or-later
// The triplet snapshot on its own: the delta merged over the file gives each key's latest
// state whatever the compactions in between, a reopened file holds what was compacted,
// and a damaged file is refused with an error that says so (never a partial load).
#include "store/SnapshotFile.h"
#include "store/TripletSnapshot.h"

#include <QFile>
#include <QHash>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace greygate;

namespace {

struct State
{
    QHash<QByteArray, TripletState> triplets; // by TripletKey::joined()
    QHash<QByteArray, quint32> clients;       // passes
};

bool loadAll(TripletSnapshot &snapshot, State *out, QString *error)
{
    *out = {};
    bool duplicate = false;
    const bool ok = snapshot.load(
        [&](TripletRecord &&t) {
            duplicate |= out->triplets.contains(t.key.joined());
            out->triplets.insert(t.key.joined(), t.state);
        },
        [&](ClientRecord &&c) {
            duplicate |= out->clients.contains(c.client);
            out->clients.insert(c.client, c.passes);
        },
        error);
    if (duplicate)
        *error = QStringLiteral("a key was loaded twice");
    return ok && !duplicate;
}

// Random upserts and removals over a small key space, so that keys change many times and
// across compactions. A batch's removals apply after its upserts, as in the store.
WriteBatch randomBatch(QRandomGenerator &random, int b, State &model)
{
    WriteBatch batch;
    for (int i = 0; i < 6; ++i) {
        const TripletKey key{"10.0." + QByteArray::number(random.bounded(30)) + ".0/24",
                             "s" + QByteArray::number(random.bounded(5)) + "@example.org",
                             QByteArray::number(random.bounded(4))};
        if (random.bounded(5) == 0) {
            batch.removeTriplets.append(key.joined());
        } else {
            // Negative and large times round-trip too (zigzag varints).
            const Seconds t = random.bounded(2) ? -Seconds(b) : (Seconds(1) << 40) + b;
            const TripletState state{t, t + 1, b % 3 ? 0 : t + 2, quint32(b),
                                     b % 3 ? TripletStatus::Deferred : TripletStatus::Passed};
            batch.upsertTriplets.append({key, state});
            model.triplets.insert(key.joined(), state);
        }
    }
    // A batch's removals apply after its upserts (as WriteBatch says).
    for (const QByteArray &joined : std::as_const(batch.removeTriplets))
        model.triplets.remove(joined);
    const QByteArray client = "10.0." + QByteArray::number(random.bounded(30)) + ".0/24";
    if (random.bounded(4) == 0) {
        batch.removeClients.append(client);
        model.clients.remove(client);
    } else {
        batch.upsertClients.append({client, quint32(b), b});
        model.clients.insert(client, quint32(b));
    }
    return batch;
}

} // namespace

class TripletSnapshotTest : public QObject
{
    Q_OBJECT

private slots:
    void load_gives_the_latest_state_of_every_key_across_compactions()
    {
        QTemporaryDir dir;
        QRandomGenerator random(777);
        State model;
        QString error;
        {
            TripletSnapshot snapshot(dir.path(), 40, 40);
            QVERIFY2(snapshot.open(&error), qPrintable(error));
            QVERIFY(!snapshot.exists());
            for (int b = 1; b <= 600; ++b) {
                snapshot.add(randomBatch(random, b, model), quint64(b));
                snapshot.compactIfDue();
                if (b % 20 == 0)
                    QThread::msleep(20); // lets the compactor get through some in between
                if (b % 97 == 0) {       // while compactions come and go
                    State loaded;
                    QVERIFY2(loadAll(snapshot, &loaded, &error), qPrintable(error));
                    QCOMPARE(loaded.triplets, model.triplets);
                    QCOMPARE(loaded.clients, model.clients);
                }
            }
            QTRY_VERIFY_WITH_TIMEOUT(snapshot.stats().compactions > 3, 10'000);
            QVERIFY(snapshot.exists());
            QVERIFY(snapshot.sequence() > 0);
            QVERIFY2(snapshot.compactNow(600, {}, &error), qPrintable(error));
            QCOMPARE(snapshot.sequence(), 600u);
            QCOMPARE(snapshot.stats().pendingChanges, 0);
            QVERIFY2(snapshot.verify(&error), qPrintable(error));
        }
        TripletSnapshot reopened(dir.path(), 40, 40);
        QVERIFY2(reopened.open(&error), qPrintable(error));
        QCOMPARE(reopened.sequence(), 600u);
        State loaded;
        QVERIFY2(loadAll(reopened, &loaded, &error), qPrintable(error));
        QCOMPARE(loaded.triplets, model.triplets);
        QCOMPARE(loaded.clients, model.clients);
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("triplets.snap.tmp"))));
    }

    void a_base_reader_is_merged_under_the_delta()
    {
        QTemporaryDir dir;
        TripletSnapshot snapshot(dir.path(), 1000, 1000);
        QString error;
        QVERIFY2(snapshot.open(&error), qPrintable(error));
        WriteBatch batch;
        batch.upsertTriplets.append({{"a", "s", "r"}, {5, 6, 0, 2, TripletStatus::Deferred}});
        batch.removeTriplets.append(TripletKey{"b", "s", "r"}.joined());
        snapshot.add(batch, 9);
        // What an older store's SQLite tables held, as of an earlier sequence.
        const auto base = [](const TripletSnapshot::TripletSink &t,
                             const TripletSnapshot::ClientSink &c, QString *) {
            t({{"a", "s", "r"}, {1, 1, 0, 1, TripletStatus::Deferred}});
            t({{"b", "s", "r"}, {1, 1, 0, 1, TripletStatus::Deferred}});
            t({{"c", "s", "r"}, {1, 3, 2, 3, TripletStatus::Passed}});
            c({"c", 4, 3});
            return true;
        };
        QVERIFY2(snapshot.compactNow(9, base, &error), qPrintable(error));
        State loaded;
        QVERIFY2(loadAll(snapshot, &loaded, &error), qPrintable(error));
        QCOMPARE(loaded.triplets.size(), 2);
        QCOMPARE(loaded.triplets.value(TripletKey{"a", "s", "r"}.joined()).attempts, 2u);
        QCOMPARE(loaded.triplets.value(TripletKey{"c", "s", "r"}.joined()).status,
                 TripletStatus::Passed);
        QCOMPARE(loaded.clients.value("c"), 4u);
    }

    void a_damaged_snapshot_is_refused_data()
    {
        QTest::addColumn<QString>("damage");
        QTest::newRow("a flipped byte") << QStringLiteral("flip");
        QTest::newRow("cut short") << QStringLiteral("truncate");
        QTest::newRow("not a snapshot") << QStringLiteral("magic");
    }
    void a_damaged_snapshot_is_refused()
    {
        QFETCH(QString, damage);
        QTemporaryDir dir;
        QString error;
        {
            TripletSnapshot snapshot(dir.path(), 1000, 1000);
            QVERIFY2(snapshot.open(&error), qPrintable(error));
            QRandomGenerator random(5);
            State model;
            for (int b = 1; b <= 50; ++b)
                snapshot.add(randomBatch(random, b, model), quint64(b));
            QVERIFY2(snapshot.compactNow(50, {}, &error), qPrintable(error));
        }
        QFile file(dir.filePath(QStringLiteral("triplets.snap")));
        QVERIFY(file.open(QIODevice::ReadWrite));
        QByteArray bytes = file.readAll();
        QVERIFY(bytes.size() > 100);
        if (damage == u"flip")
            bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0x20);
        else if (damage == u"truncate")
            bytes.chop(30);
        else
            bytes[0] = 'X';
        QVERIFY(file.resize(0));
        QVERIFY(file.seek(0));
        QCOMPARE(file.write(bytes), bytes.size());
        file.close();

        TripletSnapshot snapshot(dir.path(), 1000, 1000);
        State loaded;
        const bool opened = snapshot.open(&error);
        if (damage == u"magic") {
            QVERIFY(!opened);
            QVERIFY2(error.contains(u"not a greygate snapshot"), qPrintable(error));
            return;
        }
        QVERIFY2(opened, qPrintable(error));
        QVERIFY(!loadAll(snapshot, &loaded, &error));
        QVERIFY2(error.contains(u"damaged") || error.contains(u"truncated"), qPrintable(error));
        error.clear();
        QVERIFY(!snapshot.verify(&error));
        QVERIFY(!error.isEmpty());
    }

    void records_round_trip_through_the_file_format()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("f.snap"));
        QString error;
        {
            SnapshotFile::Writer writer(path);
            QVERIFY2(writer.open(42, &error), qPrintable(error));
            QVERIFY(
                writer.append(TripletRecord{{"192.0.2.0/24", "", "postmaster@x"},
                                            {-7, 0, 1LL << 50, 0xffffffffu, TripletStatus::Passed}},
                              &error));
            QVERIFY(writer.append(ClientRecord{"2001:db8::/64", 0xffffffffu, -1}, &error));
            QVERIFY2(writer.commit(&error), qPrintable(error));
        }
        SnapshotFile::Reader reader(path);
        QVERIFY2(reader.open(&error), qPrintable(error));
        QCOMPARE(reader.sequence(), 42u);
        int records = 0;
        QVERIFY2(reader.read(
                     [&](const SnapshotFile::RawRecord &r) {
                         ++records;
                         if (r.type == SnapshotFile::kTriplet) {
                             TripletRecord t;
                             return SnapshotFile::decodeTriplet(r, &t) &&
                                    t.key == TripletKey{"192.0.2.0/24", "", "postmaster@x"} &&
                                    t.state == TripletState{-7, 0, 1LL << 50, 0xffffffffu,
                                                            TripletStatus::Passed};
                         }
                         ClientRecord c;
                         return SnapshotFile::decodeClient(r, &c) && c.client == "2001:db8::/64" &&
                                c.passes == 0xffffffffu && c.lastSeen == -1;
                     },
                     &error),
                 qPrintable(error));
        QCOMPARE(records, 2);
    }
};

QTEST_GUILESS_MAIN(TripletSnapshotTest)
#include "tst_triplet_snapshot.moc"
