// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "RedisOptions.h"
#include "greylist/GreylistConfig.h"

#include <QString>
#include <memory>

namespace greygate {

class Store;

// `greygated --migrate-store FROM TO`: copies one store into another, each either an SQLite
// database directory or a redis://HOST:PORT[/DB] URL: triplets and auto-whitelisted clients
// (into Redis with the TTLs their times leave; entries already expired are skipped),
// policies, groups, auto allow and internal configuration (documents), the rejection log
// and the audit log. What the destination holds under the same names is overwritten; the
// source is only read. Neither may be in use by a running greygated on SQLite (its lock
// refuses that); a Redis source should be quiet (proxies stopped) for an exact copy.
class StoreMigration
{
public:
    struct Options
    {
        QString from;
        QString to;
        GreylistConfig timing; // retry window and passed lifetime: the Redis TTLs
        RedisOptions redis;    // password and timeout for either side's Redis
    };
    struct Result
    {
        qint64 triplets = 0;
        qint64 clients = 0;
        qint64 documents = 0;
        qint64 rejections = 0;
        qint64 audit = 0;
    };

    static bool run(const Options &options, Result *result, QString *error);
    static bool isRedisUrl(const QString &endpoint);
    // The store an endpoint names, opened (nullptr and *error when it cannot be).
    static std::unique_ptr<Store> open(const QString &endpoint, const Options &options,
                                       QString *error);
};

} // namespace greygate
