// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "RedisOptions.h"
#include "RedisSyncClient.h"
#include "greylist/GreylistConfig.h"
#include "store/Store.h"

#include <QByteArrayList>

namespace greygate {

class RedisConnection;

// The Store interface over Redis (key layout: RedisKeys). In the daemon, greylisting is not
// decided through this interface but by RedisDecider's script; the store carries the rest:
// policies, groups, auto allow, internal configuration and the audit log (documents,
// announced on gg:changes so every proxy reloads them), the rejection log, and, for the
// migration command, triplets and clients with their TTLs.
// Two connections: a blocking one (RedisSyncClient, with the timeout) for open, load and
// the admin's reads, and, once attach()ed, the daemon's asynchronous one for commit(), so
// that a commit on the event loop never waits for Redis: it is queued in order on the
// connection (pipelined) and fails at once while Redis is unreachable.
class RedisStore final : public Store
{
public:
    RedisStore(const RedisOptions &options, const GreylistConfig &timing);
    ~RedisStore() override;

    void attach(RedisConnection *connection) { m_async = connection; }
    // Tells this proxy's announcements apart from the others'.
    const QByteArray &proxyId() const { return m_proxyId; }
    const RedisOptions &options() const { return m_options; }
    // The node open() connected to (with Sentinels: the primary they named then).
    QString primaryHost() const { return m_sync.host(); }
    quint16 primaryPort() const { return m_sync.port(); }

    QString kind() const override { return QStringLiteral("redis"); }
    bool open(QString *error) override;
    void close() override;
    bool load(const std::function<void(TripletRecord &&)> &onTriplet,
              const std::function<void(ClientRecord &&)> &onClient, QString *error) override;
    bool commit(const WriteBatch &batch, QString *error) override;
    QList<RejectionEntry> rejections(const RejectionQuery &query, QString *error) override;
    bool loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument,
                       QString *error) override;
    bool documentRevision(quint64 *revision, QString *error) override;
    QList<AuditRecord> audit(const AuditQuery &query, QString *error) override;
    bool pruneBefore(Seconds rejectionsBefore, Seconds auditBefore, QString *error) override;
    // Reachable, and not configured to evict keys (an evicted triplet is a sender
    // greylisted again; an evicted policy is worse).
    bool checkIntegrity(QString *error) override;

    // The commands that write a batch (public for tests). now: for the TTLs.
    QList<QByteArrayList> commandsFor(const WriteBatch &batch, Seconds now) const;
    // Parses one gg:docs entry; false for a malformed one.
    static bool parseDocument(QByteArrayView field, QByteArrayView value, DocumentRecord *out);

private:
    bool ensureConnected(QString *error);

    RedisOptions m_options;
    GreylistConfig m_timing;
    RedisSyncClient m_sync;
    RedisConnection *m_async = nullptr;
    QByteArray m_proxyId;
};

} // namespace greygate
