// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "WriteBatch.h"

#include <QString>
#include <functional>

namespace greygate {

struct RejectionQuery
{
    Seconds from = 0; // inclusive
    Seconds to = 0;   // exclusive; 0 = no upper bound
    int offset = 0;
    int limit = 100;
};

// Where greylisting state lives. Decisions are answered from the engine's memory; the
// store makes every change durable and gives it back at start-up.
class Store
{
public:
    virtual ~Store() = default;

    virtual QString kind() const = 0; // "sqlite", later "redis"
    virtual bool open(QString *error) = 0;
    virtual void close() = 0;

    // Streams the whole persisted state once, at start-up, after crash recovery.
    virtual bool load(const std::function<void(TripletRecord &&)> &onTriplet,
                      const std::function<void(ClientRecord &&)> &onClient, QString *error) = 0;

    // Returns only once the batch would survive a kill -9 of this process (and, when the
    // store is configured for it, a power loss). False means nothing may be answered.
    virtual bool commit(const WriteBatch &batch, QString *error) = 0;

    virtual QList<RejectionEntry> rejections(const RejectionQuery &query, QString *error) = 0;

    // A consistency check of the persisted data (SQLite's integrity_check, say).
    virtual bool checkIntegrity(QString *error) = 0;
};

} // namespace greygate
