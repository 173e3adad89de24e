// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "RedisOptions.h"
#include "greylist/GreylistConfig.h"

#include <QObject>

namespace greygate {

class AsyncTripletDecider;
class GreylistPolicyHandler;
class RedisConnection;
class RedisDecider;
class RedisPolicySync;
class RedisQueue;
class RedisSentinel;
class RedisStore;

// greygated's Redis mode in one piece, for the daemon's composition: around the daemon's
// RedisStore, the command connection, the decision script's decider with the shared sweep,
// and the policy sync.
//   open()  connects (blocking, bounded by the timeout: before anything is served), loads the
//           scripts; the daemon then loads the policies from store() as with SQLite
//   bind()  makes the handler decide greylisting through Redis and keeps its policies in
//           step with the other proxies; starts the connections and the sweep
//   stop() / drain()  on shutdown: no new sweeps, then what is in flight is finished (bounded)
// Health and figures for /metrics and the control API's status come from here.
class RedisRuntime final : public QObject
{
    Q_OBJECT

public:
    // The store is the daemon's (it outlives this runtime's use of it).
    RedisRuntime(RedisStore &store, const RedisOptions &options, const GreylistConfig &config,
                 QObject *parent = nullptr);
    ~RedisRuntime() override;

    bool open(QString *error);
    void bind(GreylistPolicyHandler &handler);
    void stop();
    // Runs the event loop until nothing is in flight on the command connection, at most
    // timeoutMs; true when drained.
    bool drain(int timeoutMs);

    RedisStore &store() { return m_store; }
    RedisDecider &decider() { return *m_decider; }
    RedisConnection &connection() { return *m_connection; }
    // The control API's queue (queue.list, release, delete), on a connection of its own so
    // that a listing's pipelined steps never queue ahead of decisions.
    RedisQueue &queue() { return *m_queue; }
    RedisPolicySync *policySync() { return m_sync; }
    const RedisOptions &options() const { return m_options; }

    // "up", "connecting" or "down": the command connection's state (storeHealth).
    QString health() const;
    bool healthy() const;
    // Prometheus text (0.0.4) for the Redis figures, appended to /metrics.
    QByteArray metricsText() const;

private:
    RedisOptions m_options;
    GreylistConfig m_config;
    RedisStore &m_store;
    RedisConnection *m_connection;
    RedisDecider *m_decider;
    RedisConnection *m_adminConnection;
    RedisQueue *m_queue;
    RedisSentinel *m_sentinel = nullptr; // redis-sentinel:// only
    QString m_resolvedHost;
    RedisPolicySync *m_sync = nullptr;
};

} // namespace greygate
