// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "RedisOptions.h"

#include <QObject>
#include <QTimer>
#include <functional>

namespace greygate {

class PolicyState;
class RedisConnection;
class Store;

// Keeps this proxy's policies, groups, auto allow and internal configuration in step with
// the shared store: a dedicated connection subscribes to gg:changes; an announcement from
// another proxy (or a reconnect, which may have missed some) schedules one reload, read
// asynchronously on the command connection and applied through PolicyState::load(). Bursts
// of announcements (auto allow learned on every proxy) coalesce into one reload per
// kCoalesceMs, so a change made through any proxy applies everywhere well within a second.
class RedisPolicySync final : public QObject
{
    Q_OBJECT

public:
    static constexpr int kCoalesceMs = 50;
    struct Stats
    {
        quint64 announcements = 0; // from other proxies
        quint64 reloads = 0;
        quint64 failedReloads = 0;
    };

    RedisPolicySync(const RedisOptions &options, RedisConnection &commands, PolicyState &state,
                    QByteArray proxyId, QObject *parent = nullptr);
    ~RedisPolicySync() override;

    void start();
    // Its subscription's connection (the runtime points it at the Sentinels, or at the
    // address resolved at start).
    RedisConnection &subscriber() { return *m_subscriber; }
    void stop();
    void reloadSoon();
    const Stats &stats() const { return m_stats; }
    // Called with each reloaded snapshot after the policies took it, for the other documents
    // the daemon keeps (the sender rewriting table).
    void setSnapshotHook(std::function<void(Store &snapshot)> hook)
    {
        m_onSnapshot = std::move(hook);
    }
    bool subscribed() const;

Q_SIGNALS:
    void reloaded(quint64 revision);

private:
    void reload();

    RedisConnection &m_commands;
    PolicyState &m_state;
    QByteArray m_proxyId;
    RedisConnection *m_subscriber;
    QTimer m_coalesce;
    bool m_reloading = false;
    bool m_again = false;
    Stats m_stats;
    std::function<void(Store &)> m_onSnapshot;
};

} // namespace greygate
