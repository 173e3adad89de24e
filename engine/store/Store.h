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

struct AuditQuery
{
    Seconds from = 0;    // inclusive
    Seconds to = 0;      // exclusive; 0 = no upper bound
    QByteArray objectId; // only this object's entries; empty = every object
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

    // Streams every live document (removed ones are gone), in no particular order, after
    // crash recovery; sees every batch committed before the call.
    virtual bool loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                               QString *error) = 0;
    // The highest DocumentRecord::revision ever committed, removals included (0: none), so
    // that a writer numbering its changes goes on after the last one.
    virtual bool documentRevision(quint64 *revision, QString *error) = 0;
    // Ordered by time, then by commit order; sees every batch committed before the call.
    virtual QList<AuditRecord> audit(const AuditQuery &query, QString *error) = 0;

    // Retention: drops rejections older than rejectionsBefore and audit entries older than
    // auditBefore (0: keep that log whole): every such entry committed before the call, and
    // possibly such entries committed meanwhile. May run in the background: it never holds
    // up commit(), and it is not journaled (a prune lost to a crash is done by the next
    // one). False only when it cannot be started.
    virtual bool pruneBefore(Seconds rejectionsBefore, Seconds auditBefore, QString *error) = 0;

    // A consistency check of the persisted data (SQLite's integrity_check, say).
    virtual bool checkIntegrity(QString *error) = 0;
};

} // namespace greygate
