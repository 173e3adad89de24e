// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/GreylistConfig.h"
#include "greylist/Triplet.h"
#include "policyd/PolicyHandler.h"

#include <QByteArrayList>
#include <QObject>
#include <QTimer>

struct redisReply;

namespace greygate {

class RedisConnection;

// Greylisting decided in Redis: one Lua script per triplet (EVALSHA, loaded again after a
// NOSCRIPT) applies GreylistEngine's state machine atomically on the shared state with
// Redis's clock, so every MX host sharing the store agrees (RedisScripts::decide()).
// Also the shared expiry: every proxy sweeps the sorted set of retry-window deadlines; the
// one whose ZREM of a deadline returns 1 owns it and writes its "Sender Failed to Retry"
// entry to the shared rejection log, so each closed window is logged exactly once.
class RedisDecider final : public QObject, public AsyncTripletDecider
{
    Q_OBJECT

public:
    struct Stats
    {
        quint64 decisions = 0;   // answered from Redis
        quint64 unavailable = 0; // Redis unreachable or late: the failure mode answered
        quint64 scriptLoads = 0; // NOSCRIPT seen: the script was sent again
        quint64 rejections = 0;  // "Sender Failed to Retry" entries this proxy wrote
        quint64 claimsLost = 0;  // deadlines another proxy claimed first
    };
    // Deferred triplets live this long past their window, so that a sweep can still read
    // the attempts of a window that closed while every proxy was briefly away.
    static constexpr Seconds kGraceSeconds = 3600;
    static constexpr int kSweepBatch = 200;

    RedisDecider(RedisConnection &connection, const GreylistConfig &config, bool failOpen,
                 QObject *parent = nullptr);

    void decide(const TripletKey &key, std::function<void(const Decision *)> done) override;
    bool failOpen() const override { return m_failOpen; }

    void startSweeping(int intervalMs = 1000);
    void stopSweeping();
    void sweepNow(); // one bounded pass; another follows at once while a batch comes back full

    const Stats &stats() const { return m_stats; }
    const GreylistConfig &config() const { return m_config; }

Q_SIGNALS:
    // Entries this proxy wrote to the shared rejection log (it won their claim).
    void rejectionsLogged(const QList<greygate::RejectionEntry> &rejections);

private:
    using Reply = std::function<void(const redisReply *reply, const QByteArray &error)>;
    void runScript(const QByteArray &script, const QByteArray &sha, const QByteArrayList &keys,
                   const QByteArrayList &args, Reply cb);
    void claim(Seconds firstSeen, const QByteArray &tripletKey, qint64 knownAttempts);
    void logRejection(Seconds firstSeen, const QByteArray &tripletKey, quint32 attempts);

    RedisConnection &m_connection;
    GreylistConfig m_config;
    bool m_failOpen;
    QByteArray m_decideSha;
    QByteArray m_expireSha;
    QByteArray m_dueSha;
    QByteArrayList m_decideArgs; // delay, window, lifetime, awl, grace
    QTimer m_sweepTimer;
    bool m_sweeping = false;
    Stats m_stats;
};

} // namespace greygate
