// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "RedisOptions.h"

#include <QObject>
#include <functional>
#include <memory>
#include <vector>

namespace greygate {

class RedisConnection;

// The Sentinels of a redis-sentinel:// store, for the daemon's asynchronous connections:
// resolve() asks them in turn for the current primary (SENTINEL get-master-addr-by-name),
// starting with the last one that answered; every Sentinel is also followed on its
// +switch-master channel, and masterSwitched() tells the connections to move at once rather
// than wait for their connection to the old primary to fail. Each link is a RedisConnection
// (non-blocking, with the timeout and the backoff), so nothing here blocks the event loop.
class RedisSentinel final : public QObject
{
    Q_OBJECT

public:
    // host and port of the primary; an empty host with error saying why.
    using Resolved = std::function<void(const QString &host, quint16 port, const QString &error)>;

    explicit RedisSentinel(const RedisOptions &options, QObject *parent = nullptr);
    ~RedisSentinel() override;

    // The Sentinels' addresses (resolved once by the caller, before start()).
    void setHosts(const QList<RedisOptions::Endpoint> &sentinels);
    void start();
    void stop();

    // done is called exactly once, on this thread, possibly before resolve() returns.
    void resolve(Resolved done);

    quint64 switches() const { return m_switches; }

Q_SIGNALS:
    void masterSwitched(const QString &host, quint16 port);

private:
    void ask(size_t index, size_t tried, std::shared_ptr<QStringList> failures, Resolved done);
    void onSwitch(const QByteArray &message);

    RedisOptions m_options;
    std::vector<RedisConnection *> m_links;       // commands
    std::vector<RedisConnection *> m_subscribers; // +switch-master
    size_t m_preferred = 0;
    quint64 m_switches = 0;
    QByteArray m_lastSwitch;
    std::shared_ptr<RedisSentinel *> m_self;
};

} // namespace greygate
