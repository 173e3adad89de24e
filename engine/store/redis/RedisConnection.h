// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "RedisOptions.h"

#include <QByteArrayList>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <deque>
#include <functional>

struct redisAsyncContext;
struct redisReply;

namespace greygate {

class RedisQtEvents;
class RedisSentinel;

// One asynchronous connection to Redis on the Qt event loop (hiredis's async API), never
// blocking it: every command has a deadline (RedisOptions::timeoutMs); a command that misses
// it drops the connection, which fails every command in flight, and the connection comes
// back with exponential backoff (100 ms doubling to 5 s). While it is down, commands fail at
// once, so callers apply their failure mode instead of waiting.
// Subscriber mode (subscribe()) dedicates the connection to one pub/sub channel, renewed
// after every reconnect.
class RedisConnection final : public QObject
{
    Q_OBJECT

public:
    enum class Health : quint8
    {
        Down,       // not connected; reconnecting after the backoff
        Connecting, // connect, AUTH and SELECT under way (commands queue behind them)
        Up,
    };
    struct Stats
    {
        quint64 commands = 0;
        quint64 failed = 0;   // no reply: not connected, connection lost, timed out
        quint64 timeouts = 0; // connections dropped because a reply was late
        quint64 connects = 0; // successful (re)connects
    };
    // reply is valid only during the call. reply == nullptr: no reply (error says why); a
    // reply of type error comes with error set to its text.
    using Callback = std::function<void(const redisReply *reply, const QByteArray &error)>;

    explicit RedisConnection(const RedisOptions &options, QObject *parent = nullptr);
    ~RedisConnection() override;

    void start();
    void stop();
    // The address to connect to from the next connect on (a name resolved once, at start:
    // hiredis would resolve it again, blocking, on every reconnect).
    void setHost(const QString &host) { m_options.host = host; }
    // redis-sentinel://: every (re)connect asks the Sentinels for the primary first, checks
    // its ROLE, and a +switch-master drops the connection to move at once.
    void setSentinel(RedisSentinel *sentinel);
    // With Sentinels: the primary already known (found at start), for the first connect only.
    void setPrimary(const QString &host, quint16 port);
    const RedisOptions &options() const { return m_options; }
    Health health() const { return m_health; }
    bool isUp() const { return m_health == Health::Up; }
    static QLatin1StringView healthName(Health health);
    const Stats &stats() const { return m_stats; }
    qsizetype inFlight() const { return qsizetype(m_pending.size()); }

    // Sends one command; cb is called exactly once, possibly before command() returns (when
    // the connection is down).
    void command(const QByteArrayList &argv, Callback cb);

    // Subscriber mode: no other commands on this connection afterwards.
    void subscribe(const QByteArray &channel, std::function<void(const QByteArray &)> onMessage);

Q_SIGNALS:
    void healthChanged(greygate::RedisConnection::Health health);
    void ready(); // after each (re)connect, once AUTH and SELECT succeeded

private:
    struct Pending
    {
        RedisConnection *owner;
        Callback cb;
        qint64 deadlineMs;
    };
    static void onConnect(const redisAsyncContext *context, int status);
    static void onDisconnect(const redisAsyncContext *context, int status);
    static void onReply(redisAsyncContext *context, void *reply, void *privdata);
    static void onSubscription(redisAsyncContext *context, void *reply, void *privdata);

    void connectNow();
    void open(); // connects to m_options' host and port
    static bool isPrimary(const redisReply *role);
    void lost(const QByteArray &why); // the context is gone (hiredis freed it)
    void drop(const QByteArray &why); // frees the context ourselves (never inside a callback)
    void scheduleReconnect();
    void checkDeadlines();
    void setHealth(Health health);
    bool send(const QByteArrayList &argv, void (*fn)(redisAsyncContext *, void *, void *),
              void *privdata);

    RedisOptions m_options;
    redisAsyncContext *m_context = nullptr;
    RedisQtEvents *m_events = nullptr;
    std::deque<Pending *> m_pending; // in send order; Redis answers in that order
    QTimer m_deadlineTimer;
    QTimer m_reconnectTimer;
    QElapsedTimer m_clock;
    int m_backoffMs = 100;
    bool m_running = false;
    bool m_freeing = false;
    bool m_resolving = false;
    bool m_primaryKnown = false;
    RedisSentinel *m_sentinel = nullptr;
    QByteArray m_channel;
    std::function<void(const QByteArray &)> m_onMessage;
    Health m_health = Health::Down;
    QByteArray m_lastError;
    Stats m_stats;
};

} // namespace greygate
