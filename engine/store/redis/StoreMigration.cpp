// SPDX-License-Identifier: GPL-3.0-or-later
#include "StoreMigration.h"

#include "RedisStore.h"
#include "store/SqliteStore.h"

#include <QDir>

namespace greygate {

namespace {

constexpr qsizetype kBatch = 5'000;
constexpr int kPage = 10'000;

} // namespace

bool StoreMigration::isRedisUrl(const QString &endpoint)
{
    return endpoint.startsWith(u"redis://", Qt::CaseInsensitive) ||
           endpoint.startsWith(u"redis-sentinel://", Qt::CaseInsensitive);
}

std::unique_ptr<Store> StoreMigration::open(const QString &endpoint, const Options &options,
                                            QString *error)
{
    std::unique_ptr<Store> store;
    if (isRedisUrl(endpoint)) {
        std::optional<RedisOptions> redis = RedisOptions::fromUrl(endpoint, error);
        if (!redis)
            return nullptr;
        redis->password = options.redis.password;
        redis->timeoutMs = options.redis.timeoutMs;
        store = std::make_unique<RedisStore>(*redis, options.timing);
    } else {
        if (!QDir().mkpath(endpoint)) {
            *error = endpoint + u": cannot create the directory";
            return nullptr;
        }
        SqliteStoreOptions sqlite;
        sqlite.dbdir = endpoint;
        store = std::make_unique<SqliteStore>(sqlite);
    }
    if (!store->open(error)) {
        *error = endpoint + u": " + *error;
        return nullptr;
    }
    return store;
}

bool StoreMigration::run(const Options &options, Result *result, QString *error)
{
    if (options.from == options.to) {
        *error = QStringLiteral("FROM and TO are the same store");
        return false;
    }
    if (!isRedisUrl(options.from) && !QDir(options.from).exists()) {
        *error = options.from + u": no such database directory";
        return false;
    }
    const std::unique_ptr<Store> from = open(options.from, options, error);
    if (!from)
        return false;
    const std::unique_ptr<Store> to = open(options.to, options, error);
    if (!to)
        return false;

    WriteBatch batch;
    QString commitError;
    bool ok = true;
    const auto flush = [&](bool always) {
        if (!ok || (!always && batch.size() < kBatch) || batch.isEmpty())
            return;
        ok = to->commit(batch, &commitError);
        batch.clear();
    };
    if (!from->load(
            [&](TripletRecord &&t) {
                batch.upsertTriplets.append(std::move(t));
                ++result->triplets;
                flush(false);
            },
            [&](ClientRecord &&c) {
                batch.upsertClients.append(std::move(c));
                ++result->clients;
                flush(false);
            },
            error))
        return false;
    if (!from->loadDocuments(
            [&](DocumentRecord &&d) {
                batch.documents.append(std::move(d));
                ++result->documents;
                flush(false);
            },
            error))
        return false;
    for (int offset = 0;; offset += kPage) {
        RejectionQuery query;
        query.offset = offset;
        query.limit = kPage;
        error->clear();
        const QList<RejectionEntry> page = from->rejections(query, error);
        if (!error->isEmpty())
            return false;
        batch.rejections += page;
        result->rejections += page.size();
        flush(false);
        if (page.size() < kPage)
            break;
    }
    for (int offset = 0;; offset += kPage) {
        AuditQuery query;
        query.offset = offset;
        query.limit = kPage;
        error->clear();
        const QList<AuditRecord> page = from->audit(query, error);
        if (!error->isEmpty())
            return false;
        batch.audit += page;
        result->audit += page.size();
        flush(false);
        if (page.size() < kPage)
            break;
    }
    flush(true);
    if (!ok) {
        *error = options.to + u": " + commitError;
        return false;
    }
    to->close();
    from->close();
    return true;
}

} // namespace greygate
