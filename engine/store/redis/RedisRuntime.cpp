// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisRuntime.h"

#include "RedisConnection.h"
#include "RedisDecider.h"
#include "RedisLog.h"
#include "RedisPolicySync.h"
#include "RedisQueue.h"
#include "RedisSentinel.h"
#include "RedisStore.h"
#include "policyd/GreylistPolicyHandler.h"
#include "util/LogLine.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QHostAddress>
#include <QHostInfo>
#include <QStringBuilder>

namespace greygate {

RedisRuntime::RedisRuntime(RedisStore &store, const RedisOptions &options,
                           const GreylistConfig &config, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_config(config)
    , m_store(store)
    , m_connection(new RedisConnection(options, this))
    , m_decider(new RedisDecider(*m_connection, config, options.failOpen, this))
    , m_adminConnection(new RedisConnection(options, this))
    , m_queue(new RedisQueue(*m_adminConnection, config, this))
{}

RedisRuntime::~RedisRuntime()
{
    // The connections fail what is still in flight as they go; the store's blocking
    // connection closes last.
    delete m_sync;
    delete m_queue;
    delete m_adminConnection;
    delete m_decider;
    delete m_connection;
    delete m_sentinel; // last: the connections ask it until they go
    m_store.attach(nullptr);
}

bool RedisRuntime::open(QString *error)
{
    if (!m_store.open(error))
        return false;
    // Resolved here, before anything is served, so no reconnect blocks on a DNS lookup.
    const auto resolved = [](const QString &host) {
        if (!QHostAddress(host).isNull())
            return host;
        const QHostInfo info = QHostInfo::fromName(host);
        return info.addresses().isEmpty() ? host : info.addresses().constFirst().toString();
    };
    if (m_options.sentinelMode()) {
        QList<RedisOptions::Endpoint> sentinels = m_options.sentinels;
        for (RedisOptions::Endpoint &e : sentinels)
            e.host = resolved(e.host);
        m_sentinel = new RedisSentinel(m_options, this);
        m_sentinel->setHosts(sentinels);
        m_connection->setSentinel(m_sentinel);
        m_adminConnection->setSentinel(m_sentinel);
        // The primary the start-up found: the first connects go straight to it.
        m_connection->setPrimary(m_store.primaryHost(), m_store.primaryPort());
        m_adminConnection->setPrimary(m_store.primaryHost(), m_store.primaryPort());
        m_sentinel->start();
    } else {
        m_resolvedHost = resolved(m_options.host);
        m_connection->setHost(m_resolvedHost);
        m_adminConnection->setHost(m_resolvedHost);
    }
    QString eviction;
    if (!m_store.checkIntegrity(&eviction))
        qCWarning(lcRedis).noquote()
            << LogLine("redis configuration").add("warning", eviction).text();
    m_connection->start();
    m_adminConnection->start();
    return true;
}

void RedisRuntime::bind(GreylistPolicyHandler &handler)
{
    // From here on commits are queued on the asynchronous connection; before, at start-up
    // (the --policies import), they went out on the blocking one, bounded by the timeout.
    m_store.attach(m_connection);
    handler.setAsyncDecider(m_decider);
    m_sync =
        new RedisPolicySync(m_options, *m_connection, handler.policies(), m_store.proxyId(), this);
    if (m_sentinel) {
        m_sync->subscriber().setSentinel(m_sentinel);
        m_sync->subscriber().setPrimary(m_connection->options().host, m_connection->options().port);
    } else
        m_sync->subscriber().setHost(m_resolvedHost);
    m_sync->start();
    m_decider->startSweeping();
}

void RedisRuntime::stop()
{
    m_decider->stopSweeping();
    if (m_sync)
        m_sync->stop();
    if (m_sentinel)
        m_sentinel->stop();
}

bool RedisRuntime::drain(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_connection->inFlight() > 0 && m_connection->isUp() && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 10);
    return m_connection->inFlight() == 0;
}

QString RedisRuntime::health() const
{
    return RedisConnection::healthName(m_connection->health());
}

bool RedisRuntime::healthy() const
{
    return m_connection->isUp();
}

QByteArray RedisRuntime::metricsText() const
{
    const RedisConnection::Stats &c = m_connection->stats();
    const RedisDecider::Stats &d = m_decider->stats();
    QByteArray out;
    const auto metric = [&out](const char *name, const char *type, const char *help,
                               quint64 value) {
        out += QByteArrayLiteral("# HELP ") + name + ' ' + help + QByteArrayLiteral("\n# TYPE ") +
               name + ' ' + type + '\n' + name + ' ' + QByteArray::number(value) + '\n';
    };
    out += QByteArrayLiteral("# HELP greygate_store_redis_health Redis connection state (1 for "
                             "the current one).\n# TYPE greygate_store_redis_health gauge\n");
    for (const RedisConnection::Health h :
         {RedisConnection::Health::Up, RedisConnection::Health::Connecting,
          RedisConnection::Health::Down}) {
        out += QByteArrayLiteral("greygate_store_redis_health{state=\"") +
               RedisConnection::healthName(h).latin1() + QByteArrayLiteral("\"} ") +
               (m_connection->health() == h ? '1' : '0') + '\n';
    }
    metric("greygate_store_redis_commands_total", "counter", "Commands sent to Redis.", c.commands);
    metric("greygate_store_redis_failed_total", "counter",
           "Commands without a reply (unreachable, connection lost, timed out).", c.failed);
    metric("greygate_store_redis_timeouts_total", "counter",
           "Connections dropped because a reply was late.", c.timeouts);
    metric("greygate_store_redis_connects_total", "counter", "Successful (re)connects.",
           c.connects);
    metric("greygate_store_redis_decisions_total", "counter", "Greylisting decisions from Redis.",
           d.decisions);
    metric("greygate_store_redis_unavailable_total", "counter",
           "Decisions answered by the failure mode (--redis-fail).", d.unavailable);
    metric("greygate_store_redis_script_loads_total", "counter",
           "Decision scripts sent again after NOSCRIPT.", d.scriptLoads);
    metric("greygate_store_redis_rejections_total", "counter",
           "Sender Failed to Retry entries written by this proxy.", d.rejections);
    if (m_sentinel) {
        metric("greygate_store_redis_sentinel_switches_total", "counter",
               "Primary switches announced by the Sentinels (+switch-master).",
               m_sentinel->switches());
    }
    if (m_sync) {
        metric("greygate_store_redis_policy_reloads_total", "counter",
               "Policy reloads announced by other proxies.", m_sync->stats().reloads);
    }
    return out;
}

} // namespace greygate
