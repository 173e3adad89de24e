// SPDX-License-Identifier: GPL-3.0-or-later
// An upgrade at a site: the database and the journal left by the store before policies were
// stored (schema 1, journal format 1; the samples in data/ were written by that code) are
// taken over whole, and the store goes on from there.
#include "V1Samples.h"
#include "store/SqliteStore.h"

#include <QDir>
#include <QHash>
#include <QTemporaryDir>
#include <QTest>
#include <sqlite3.h>

using namespace greygate;
using namespace greygate::test;

namespace {

struct Model
{
    QHash<QByteArray, TripletState> triplets; // by TripletKey::joined()
    QHash<QByteArray, ClientRecord> clients;
    QList<RejectionEntry> rejections; // in time order (the samples' times increase)

    void apply(const WriteBatch &b)
    {
        for (const TripletRecord &t : b.upsertTriplets)
            triplets.insert(t.key.joined(), t.state);
        for (const QByteArray &k : b.removeTriplets)
            triplets.remove(k);
        for (const ClientRecord &c : b.upsertClients)
            clients.insert(c.client, c);
        rejections += b.rejections;
    }
};

Model modelOfBatches(qint64 first, qint64 last)
{
    Model m;
    for (qint64 id = first; id <= last; ++id)
        m.apply(v1SampleBatch(id));
    return m;
}

// The store's triplets, clients and rejections compared with the model; empty when equal.
QString differences(SqliteStore &store, const Model &model)
{
    Model s;
    QString error;
    if (!store.load([&](TripletRecord &&t) { s.triplets.insert(t.key.joined(), t.state); },
                    [&](ClientRecord &&c) { s.clients.insert(c.client, c); }, &error))
        return error;
    s.rejections = store.rejections({std::numeric_limits<Seconds>::min(), 0, 0, 1000}, &error);
    if (!error.isEmpty())
        return error;
    if (s.triplets != model.triplets)
        return QStringLiteral("triplets differ");
    if (s.clients.keys().size() != model.clients.size())
        return QStringLiteral("clients differ");
    for (const ClientRecord &c : model.clients) {
        const ClientRecord got = s.clients.value(c.client);
        if (got.passes != c.passes || got.lastSeen != c.lastSeen)
            return QStringLiteral("client %1 differs").arg(QLatin1String(c.client));
    }
    if (s.rejections.size() != model.rejections.size())
        return QStringLiteral("%1 rejections, expected %2")
            .arg(s.rejections.size())
            .arg(model.rejections.size());
    for (qsizetype i = 0; i < s.rejections.size(); ++i) {
        const RejectionEntry &a = s.rejections[i];
        const RejectionEntry &b = model.rejections[i];
        if (a.time != b.time || a.reason != b.reason || !(a.key == b.key) ||
            a.attempts != b.attempts || a.firstSeen != b.firstSeen)
            return QStringLiteral("rejection %1 differs").arg(i);
    }
    return {};
}

qint64 schemaVersion(const QString &dbdir)
{
    sqlite3 *db = nullptr;
    const QByteArray path = QFile::encodeName(dbdir + QStringLiteral("/greygate.db"));
    qint64 version = -1;
    if (sqlite3_open_v2(path.constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt *stmt = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            version = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return version;
}

bool copyFile(const QString &from, const QString &to)
{
    // QFile::copy keeps the source's read-only mode for files from a read-only checkout.
    QFile::remove(to);
    return QFile::copy(from, to) &&
           QFile::setPermissions(to, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
}

// A database directory as the old store left it: the database, the journal or both.
bool plantV1(const QString &dbdir, bool database, bool journal)
{
    if (!QDir().mkpath(dbdir + QStringLiteral("/journal")))
        return false;
    if (database &&
        !copyFile(v1SamplePath("v1_greygate.db"), dbdir + QStringLiteral("/greygate.db")))
        return false;
    // The journal's segment name is the sequence of its first record.
    return !journal || copyFile(v1SamplePath("v1_journal.bin"),
                                dbdir + QStringLiteral("/journal/00000000000000000004.journal"));
}

QList<DocumentRecord> allDocuments(SqliteStore &store)
{
    QList<DocumentRecord> out;
    QString error;
    if (!store.loadDocuments([&](DocumentRecord &&d) { out.append(std::move(d)); }, &error))
        qWarning("loadDocuments: %s", qPrintable(error));
    return out;
}

} // namespace

class SqliteStoreMigrationTest : public QObject
{
    Q_OBJECT

private slots:
    void the_samples_are_what_the_old_store_wrote()
    {
        QTemporaryDir dir;
        const QString dbdir = dir.path() + QStringLiteral("/db");
        QVERIFY(plantV1(dbdir, true, true));
        QCOMPARE(schemaVersion(dbdir), 1);
        QCOMPARE(readV1Sample("v1_journal.bin").at(20), char(1)); // the first payload's version
    }

    // Each row: what the old store left behind, and which batches must be found.
    void an_old_database_directory_is_taken_over_whole_data()
    {
        QTest::addColumn<bool>("database");
        QTest::addColumn<bool>("journal");
        QTest::addColumn<int>("firstBatch");
        QTest::addColumn<int>("replayed");

        QTest::newRow("schema 1 database") << true << false << 1 << 0;
        QTest::newRow("schema 1 database and format 1 journal") << true << true << 1 << 3;
        QTest::newRow("format 1 journal alone") << false << true << 4 << 3;
    }
    void an_old_database_directory_is_taken_over_whole()
    {
        QFETCH(bool, database);
        QFETCH(bool, journal);
        QFETCH(int, firstBatch);
        QFETCH(int, replayed);
        QTemporaryDir dir;
        SqliteStoreOptions options;
        options.dbdir = dir.path() + QStringLiteral("/db");
        QVERIFY(plantV1(options.dbdir, database, journal));
        const Model old = modelOfBatches(firstBatch, journal ? 6 : 3);
        QString error;
        const DocumentRecord policy{DocumentKind::Policy, "1", false, 1, 1, "{\"id\":1}"};
        const AuditRecord created{1, 7000, "admin", "policy.create", "policy:1", {}, "{}"};
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            QCOMPARE(store.stats().replayedAtOpen, quint64(replayed));
            QCOMPARE(schemaVersion(options.dbdir), 2);
            const QString problem = differences(store, old);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            QVERIFY(allDocuments(store).isEmpty());
            quint64 revision = 99;
            QVERIFY2(store.documentRevision(&revision, &error), qPrintable(error));
            QCOMPARE(revision, 0u);
            QVERIFY2(store.checkIntegrity(&error), qPrintable(error));

            // The store goes on after the old sequence numbers, with documents.
            WriteBatch batch;
            batch.documents.append(policy);
            batch.audit.append(created);
            QVERIFY2(store.commit(batch, &error), qPrintable(error));
            QCOMPARE(store.stats().committedSequence, journal ? 7u : 4u);
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        QCOMPARE(store.stats().replayedAtOpen, 0u);
        const QString problem = differences(store, old);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(allDocuments(store), QList<DocumentRecord>{policy});
        AuditQuery all;
        QCOMPARE(store.audit(all, &error), QList<AuditRecord>{created});
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(SqliteStoreMigrationTest)
#include "tst_sqlitestore_migration.moc"
