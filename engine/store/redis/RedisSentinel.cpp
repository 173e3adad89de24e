// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisSentinel.h"

#include "RedisConnection.h"
#include "RedisLog.h"
#include "RedisSyncClient.h"
#include "util/LogLine.h"

#include <QHostAddress>
#include <hiredis/hiredis.h>

namespace greygate {

RedisSentinel::RedisSentinel(const RedisOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_self(std::make_shared<RedisSentinel *>(this))
{
    setHosts(options.sentinels);
}

RedisSentinel::~RedisSentinel()
{
    for (RedisConnection *c : m_links)
        delete c;
    for (RedisConnection *c : m_subscribers)
        delete c;
}

void RedisSentinel::setHosts(const QList<RedisOptions::Endpoint> &sentinels)
{
    for (RedisConnection *c : m_links)
        delete c;
    for (RedisConnection *c : m_subscribers)
        delete c;
    m_links.clear();
    m_subscribers.clear();
    m_options.sentinels = sentinels;
    for (const RedisOptions::Endpoint &e : sentinels) {
        m_links.push_back(new RedisConnection(m_options.sentinelOptions(e), this));
        auto *subscriber = new RedisConnection(m_options.sentinelOptions(e), this);
        subscriber->subscribe(QByteArrayLiteral("+switch-master"),
                              [this](const QByteArray &message) { onSwitch(message); });
        m_subscribers.push_back(subscriber);
    }
}

void RedisSentinel::start()
{
    for (RedisConnection *c : m_links)
        c->start();
    for (RedisConnection *c : m_subscribers)
        c->start();
}

void RedisSentinel::stop()
{
    for (RedisConnection *c : m_links)
        c->stop();
    for (RedisConnection *c : m_subscribers)
        c->stop();
}

void RedisSentinel::resolve(Resolved done)
{
    if (m_links.empty()) {
        done(QString(), 0, QStringLiteral("no Sentinel configured"));
        return;
    }
    ask(m_preferred % m_links.size(), 0, std::make_shared<QStringList>(), std::move(done));
}

void RedisSentinel::ask(size_t index, size_t tried, std::shared_ptr<QStringList> failures,
                        Resolved done)
{
    if (tried == m_links.size()) {
        done(QString(), 0,
             u"no Sentinel named a primary for \"" + QString::fromUtf8(m_options.masterName) +
                 u"\": " + failures->join(QStringLiteral("; ")));
        return;
    }
    RedisConnection *link = m_links[index];
    // A link still connecting has its command queued behind the connect (bounded by the
    // timeout); one that is down fails at once and the next Sentinel is asked.
    link->command(
        {QByteArrayLiteral("SENTINEL"), QByteArrayLiteral("get-master-addr-by-name"),
         m_options.masterName},
        [self = std::weak_ptr<RedisSentinel *>(m_self), index, tried, failures,
         done = std::move(done)](const redisReply *reply, const QByteArray &error) mutable {
            const std::shared_ptr<RedisSentinel *> s = self.lock();
            if (!s)
                return done(QString(), 0, QStringLiteral("shutting down"));
            RedisSentinel *me = *s;
            const QString name =
                me->m_options.sentinelOptions(me->m_options.sentinels[qsizetype(index)])
                    .displayName();
            if (reply && error.isEmpty() && reply->type == REDIS_REPLY_ARRAY &&
                reply->elements == 2) {
                const QString host = QString::fromUtf8(RedisSyncClient::string(reply->element[0]));
                const qint64 port = RedisSyncClient::integer(reply->element[1]);
                // hiredis would resolve a name blocking, on the event loop: Sentinels must
                // announce addresses (the default; no resolve-hostnames).
                if (QHostAddress(host).isNull() || port <= 0 || port > 65535) {
                    failures->append(name + u": announced \"" + host +
                                     u"\", not an IP address and port");
                } else {
                    me->m_preferred = index;
                    return done(host, quint16(port), QString());
                }
            } else {
                failures->append(name + u": " +
                                 (!error.isEmpty()
                                      ? QString::fromUtf8(error)
                                      : QStringLiteral("does not know master \"") +
                                            QString::fromUtf8(me->m_options.masterName) + u'"'));
            }
            me->ask((index + 1) % me->m_links.size(), tried + 1, failures, std::move(done));
        });
}

void RedisSentinel::onSwitch(const QByteArray &message)
{
    // "<master name> <old ip> <old port> <new ip> <new port>"
    const QList<QByteArray> parts = message.split(' ');
    if (parts.size() != 5 || parts[0] != m_options.masterName)
        return;
    bool ok = false;
    const uint port = parts[4].toUInt(&ok);
    const QString host = QString::fromLatin1(parts[3]);
    if (!ok || port == 0 || port > 65535 || QHostAddress(host).isNull())
        return;
    // Every Sentinel announces the same switch: acted on once.
    const QByteArray to = parts[3] + ':' + parts[4];
    if (to == m_lastSwitch)
        return;
    m_lastSwitch = to;
    ++m_switches;
    qCInfo(lcRedis).noquote() << LogLine("redis sentinel switched the primary")
                                     .add("master", m_options.masterName)
                                     .add("from", parts[1] + ':' + parts[2])
                                     .add("to", to)
                                     .text();
    Q_EMIT masterSwitched(host, quint16(port));
}

} // namespace greygate
