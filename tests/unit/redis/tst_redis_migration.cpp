// SPDX-License-Identifier: GPL-3.0-or-later
// --migrate-store's engine: an SQLite store copied into a real redis-server and back into a
// second SQLite store holds the same triplets, clients, documents, rejections and audit.

#include "RedisTestServer.h"
#include "store/SqliteStore.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisSyncClient.h"
#include "store/redis/StoreMigration.h"

#include <QDateTime>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace greygate::test;

namespace {

struct Contents
{
    QList<TripletRecord> triplets;
    QList<ClientRecord> clients;
    QList<DocumentRecord> documents;
    QList<RejectionEntry> rejections;
    QList<AuditRecord> audit;
};

Contents read(Store &store)
{
    Contents c;
    QString error;
    store.load([&](TripletRecord &&t) { c.triplets.append(t); },
               [&](ClientRecord &&r) { c.clients.append(r); }, &error);
    store.loadDocuments([&](DocumentRecord &&d) { c.documents.append(d); }, &error);
    c.rejections = store.rejections(RejectionQuery{0, 0, 0, 1000}, &error);
    c.audit = store.audit(AuditQuery{0, 0, {}, 0, 1000}, &error);
    std::sort(c.triplets.begin(), c.triplets.end(),
              [](const auto &a, const auto &b) { return a.key.joined() < b.key.joined(); });
    std::sort(c.clients.begin(), c.clients.end(),
              [](const auto &a, const auto &b) { return a.client < b.client; });
    std::sort(c.documents.begin(), c.documents.end(),
              [](const auto &a, const auto &b) { return a.id < b.id; });
    return c;
}

} // namespace

class TestRedisMigration : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sqliteToRedisAndBackKeepsEverything()
    {
        RedisTestServer redis;
        GREYGATE_START_REDIS(redis);
        QString error;
        QTemporaryDir source, back;
        const Seconds now = QDateTime::currentSecsSinceEpoch();

        WriteBatch batch;
        for (int i = 0; i < 50; ++i) {
            TripletRecord t;
            t.key = {"192.0.2.0/24", "s" + QByteArray::number(i) + "@sender.example",
                     "r@rcpt.example"};
            t.state.firstSeen = now - 100 - i;
            t.state.lastSeen = now - 10;
            t.state.attempts = quint32(1 + i % 3);
            if (i % 2) {
                t.state.status = TripletStatus::Passed;
                t.state.passedAt = now - 20;
            }
            batch.upsertTriplets.append(t);
        }
        TripletRecord expired; // a window long closed, past the grace period: not copied
        expired.key = {"198.51.100.0/24", "old@sender.example", "r@rcpt.example"};
        expired.state.firstSeen = expired.state.lastSeen = now - 3 * 86400;
        expired.state.attempts = 1;
        batch.upsertTriplets.append(expired);
        batch.upsertClients.append(ClientRecord{"192.0.2.0/24", 4, now - 30});
        batch.documents.append(
            DocumentRecord{DocumentKind::Policy, "p1", false, 2, 7, R"({"id":"p1","name":"one"})"});
        batch.documents.append(
            DocumentRecord{DocumentKind::Group, "g1", false, 1, 8, R"({"id":"g1","members":[]})"});
        batch.rejections.append(RejectionEntry{now - 500,
                                               "Sender Failed to Retry",
                                               {"203.0.113.0/24", "x@y.example", "r@rcpt.example"},
                                               3,
                                               now - 500 - 43200});
        batch.audit.append(AuditRecord{8, now - 400, "admin", "group.create", "g1", {}, "{}"});
        {
            SqliteStoreOptions o;
            o.dbdir = source.path();
            SqliteStore store(o);
            QVERIFY2(store.open(&error), qPrintable(error));
            QVERIFY2(store.commit(batch, &error), qPrintable(error));
            store.close();
        }

        StoreMigration::Options options;
        options.from = source.path();
        options.to = redis.url();
        StoreMigration::Result toRedis;
        QVERIFY2(StoreMigration::run(options, &toRedis, &error), qPrintable(error));
        QCOMPARE(toRedis.triplets, 51);
        QCOMPARE(toRedis.documents, 2);
        QCOMPARE(toRedis.rejections, 1);
        QCOMPARE(toRedis.audit, 1);

        // In Redis with TTLs, and the deferred ones' deadlines queued for the sweep.
        RedisSyncClient sync;
        QVERIFY2(sync.connect(*RedisOptions::fromUrl(redis.url(), &error), &error),
                 qPrintable(error));
        const TripletKey deferred{"192.0.2.0/24", "s0@sender.example", "r@rcpt.example"};
        const qint64 ttl = RedisSyncClient::integer(
            sync.command({"TTL", RedisKeys::triplet(deferred)}, &error).get());
        QVERIFY2(ttl > 12 * 3600 - 200 && ttl <= 13 * 3600, qPrintable(QString::number(ttl)));
        QCOMPARE(RedisSyncClient::integer(sync.command({"ZCARD", RedisKeys::due()}, &error).get()),
                 25);
        QCOMPARE(RedisSyncClient::integer(
                     sync.command({"EXISTS", RedisKeys::triplet(expired.key)}, &error).get()),
                 0);

        options.from = redis.url();
        options.to = back.path();
        StoreMigration::Result toSqlite;
        QVERIFY2(StoreMigration::run(options, &toSqlite, &error), qPrintable(error));
        QCOMPARE(toSqlite.triplets, 50);

        SqliteStoreOptions o;
        o.dbdir = source.path();
        SqliteStore original(o);
        QVERIFY2(original.open(&error), qPrintable(error));
        o.dbdir = back.path();
        SqliteStore copy(o);
        QVERIFY2(copy.open(&error), qPrintable(error));
        Contents a = read(original), b = read(copy);
        a.triplets.removeIf([&](const TripletRecord &t) { return t.key == expired.key; });
        QCOMPARE(b.triplets.size(), a.triplets.size());
        for (qsizetype i = 0; i < a.triplets.size(); ++i) {
            QCOMPARE(b.triplets[i].key, a.triplets[i].key);
            QCOMPARE(b.triplets[i].state, a.triplets[i].state);
        }
        QCOMPARE(b.clients.size(), 1);
        QCOMPARE(b.clients[0].passes, 4u);
        QCOMPARE(b.clients[0].lastSeen, now - 30);
        QCOMPARE(b.documents, a.documents);
        QCOMPARE(b.rejections.size(), 1);
        QCOMPARE(b.rejections[0].key, a.rejections[0].key);
        QCOMPARE(b.rejections[0].attempts, 3u);
        QCOMPARE(b.rejections[0].time, a.rejections[0].time);
        QCOMPARE(b.audit, a.audit);
    }

    void missingSourceIsRefusedWithTheReason()
    {
        StoreMigration::Options options;
        options.from = QStringLiteral("/nonexistent/greygate-db");
        options.to = QStringLiteral("redis://127.0.0.1:1");
        StoreMigration::Result result;
        QString error;
        QVERIFY(!StoreMigration::run(options, &result, &error));
        QVERIFY2(error.contains(u"no such database directory"), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestRedisMigration)
#include "tst_redis_migration.moc"
