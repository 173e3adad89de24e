// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisConnection.h"

#include "RedisLog.h"
#include "RedisQtEvents.h"
#include "RedisSentinel.h"
#include "util/LogLine.h"

#include <QPointer>
#include <QVarLengthArray>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

Q_LOGGING_CATEGORY(lcRedis, "greygate.redis", QtInfoMsg)

namespace greygate {

namespace {

constexpr int kMaxBackoffMs = 5000;
// Commands in flight beyond this fail at once: Redis is too slow for the load, and
// queueing more would only grow memory and latency.
constexpr size_t kMaxInFlight = 100'000;

} // namespace

RedisConnection::RedisConnection(const RedisOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    m_clock.start();
    m_deadlineTimer.setInterval(std::clamp(m_options.timeoutMs / 4, 5, 250));
    connect(&m_deadlineTimer, &QTimer::timeout, this, &RedisConnection::checkDeadlines);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisConnection::connectNow);
}

RedisConnection::~RedisConnection()
{
    m_running = false;
    drop(QByteArrayLiteral("shutting down"));
}

QLatin1StringView RedisConnection::healthName(Health health)
{
    switch (health) {
    case Health::Down:
        return QLatin1StringView("down");
    case Health::Connecting:
        return QLatin1StringView("connecting");
    case Health::Up:
        return QLatin1StringView("up");
    }
    return QLatin1StringView("down");
}

void RedisConnection::start()
{
    if (m_running)
        return;
    m_running = true;
    m_deadlineTimer.start();
    connectNow();
}

void RedisConnection::stop()
{
    m_running = false;
    m_deadlineTimer.stop();
    m_reconnectTimer.stop();
    // A stop() from inside one of our callbacks must not free the context hiredis is using.
    QTimer::singleShot(0, this, [this] {
        if (!m_running)
            drop(QByteArrayLiteral("stopped"));
    });
}

void RedisConnection::setHealth(Health health)
{
    if (health == m_health)
        return;
    m_health = health;
    Q_EMIT healthChanged(health);
}

void RedisConnection::setSentinel(RedisSentinel *sentinel)
{
    m_sentinel = sentinel;
    connect(sentinel, &RedisSentinel::masterSwitched, this,
            [this](const QString &host, quint16 port) {
                if (host == m_options.host && port == m_options.port)
                    return;
                // Not inside our own context's callback (the Sentinel's link emitted this).
                if (m_context) {
                    m_backoffMs = 100;
                    drop(QByteArrayLiteral("the Sentinels switched the primary"));
                }
            });
}

void RedisConnection::setPrimary(const QString &host, quint16 port)
{
    m_options.host = host;
    m_options.port = port;
    m_primaryKnown = !host.isEmpty() && port != 0;
}

void RedisConnection::connectNow()
{
    if (!m_running || m_context || m_resolving)
        return;
    if (!m_sentinel || m_primaryKnown) {
        // Commands queue behind this connect, even the first ones after the start.
        m_primaryKnown = false;
        open();
        return;
    }
    // Every (re)connect asks the Sentinels where the primary is now.
    m_resolving = true;
    setHealth(Health::Connecting);
    m_sentinel->resolve([self = QPointer<RedisConnection>(this)](const QString &host, quint16 port,
                                                                 const QString &error) {
        if (!self)
            return;
        self->m_resolving = false;
        if (!self->m_running || self->m_context)
            return;
        if (host.isEmpty()) {
            self->m_lastError = error.toUtf8();
            self->lost(self->m_lastError);
            return;
        }
        self->m_options.host = host;
        self->m_options.port = port;
        self->open();
    });
}

void RedisConnection::open()
{
    const QByteArray host = m_options.host.toUtf8();
    redisAsyncContext *context = redisAsyncConnect(host.constData(), m_options.port);
    if (!context || context->err) {
        m_lastError = context ? QByteArray(context->errstr) : QByteArrayLiteral("out of memory");
        if (context)
            redisAsyncFree(context);
        scheduleReconnect();
        return;
    }
    m_context = context;
    context->data = this;
    m_events = new RedisQtEvents(this);
    m_events->attach(context);
    redisAsyncSetConnectCallback(context, &RedisConnection::onConnect);
    redisAsyncSetDisconnectCallback(context, &RedisConnection::onDisconnect);
    setHealth(Health::Connecting);

    // AUTH and SELECT go first, buffered by hiredis until the socket connects; their
    // deadlines bound the connect too. Commands queue behind them.
    const auto handshake = [this](const redisReply *, const QByteArray &error) {
        if (!error.isEmpty() && m_context) {
            m_lastError = error;
            // Inside hiredis's callback: drop on the next turn of the loop.
            QTimer::singleShot(0, this, [this, context = m_context, error] {
                if (m_context == context)
                    drop(error);
            });
        }
    };
    if (!m_options.password.isEmpty())
        command({QByteArrayLiteral("AUTH"), m_options.password}, handshake);
    // A Sentinel has no databases: PING proves the link. Behind Sentinels, the node must
    // say it is the primary (one just demoted may still be named for a moment).
    QByteArrayList last = {QByteArrayLiteral("SELECT"), QByteArray::number(m_options.db)};
    if (m_options.sentinelLink) {
        last = {QByteArrayLiteral("PING")};
    } else if (m_sentinel) {
        command(last, handshake);
        last = {QByteArrayLiteral("ROLE")};
    }
    command(last,
            [this, handshake](const redisReply *reply, const QByteArray &error) {
                handshake(reply, error);
                if (!error.isEmpty() || !m_context)
                    return;
                if (m_sentinel && !isPrimary(reply)) {
                    m_lastError = QByteArrayLiteral("not the primary (a failover under way?)");
                    QTimer::singleShot(0, this, [this, context = m_context] {
                        if (m_context == context)
                            drop(m_options.displayName().toUtf8() + ": " + m_lastError);
                    });
                    return;
                }
                m_backoffMs = 100;
                ++m_stats.connects;
                qCInfo(lcRedis).noquote()
                    << LogLine("redis connected").add("redis", m_options.displayName()).text();
                if (!m_channel.isEmpty()) {
                    send({QByteArrayLiteral("SUBSCRIBE"), m_channel},
                         &RedisConnection::onSubscription, this);
                }
                setHealth(Health::Up);
                Q_EMIT ready();
            });
}

bool RedisConnection::isPrimary(const redisReply *role)
{
    return role && role->type == REDIS_REPLY_ARRAY && role->elements > 0 &&
           role->element[0]->type == REDIS_REPLY_STRING &&
           QByteArrayView(role->element[0]->str, qsizetype(role->element[0]->len)) == "master";
}

bool RedisConnection::send(const QByteArrayList &argv,
                           void (*fn)(redisAsyncContext *, void *, void *), void *privdata)
{
    QVarLengthArray<const char *, 16> args;
    QVarLengthArray<size_t, 16> lengths;
    for (const QByteArray &a : argv) {
        args.append(a.constData());
        lengths.append(size_t(a.size()));
    }
    return redisAsyncCommandArgv(m_context, fn, privdata, int(args.size()), args.data(),
                                 lengths.data()) == REDIS_OK;
}

void RedisConnection::command(const QByteArrayList &argv, Callback cb)
{
    ++m_stats.commands;
    if (!m_context || m_health == Health::Down || m_pending.size() >= kMaxInFlight) {
        ++m_stats.failed;
        cb(nullptr, m_pending.size() >= kMaxInFlight
                        ? QByteArrayLiteral("too many commands in flight")
                        : QByteArrayLiteral("redis unreachable: ") + m_lastError);
        return;
    }
    auto *p = new Pending{this, std::move(cb), m_clock.elapsed() + m_options.timeoutMs};
    m_pending.push_back(p);
    if (!send(argv, &RedisConnection::onReply, p)) {
        m_pending.pop_back();
        ++m_stats.failed;
        Callback failed = std::move(p->cb);
        delete p;
        failed(nullptr, QByteArrayLiteral("redis connection closing"));
    }
}

void RedisConnection::subscribe(const QByteArray &channel,
                                std::function<void(const QByteArray &)> onMessage)
{
    m_channel = channel;
    m_onMessage = std::move(onMessage);
    if (m_context && m_health == Health::Up)
        send({QByteArrayLiteral("SUBSCRIBE"), m_channel}, &RedisConnection::onSubscription, this);
}

void RedisConnection::onReply(redisAsyncContext *context, void *reply, void *privdata)
{
    auto *p = static_cast<Pending *>(privdata);
    RedisConnection *self = p->owner;
    if (!self->m_pending.empty() && self->m_pending.front() == p)
        self->m_pending.pop_front();
    else
        std::erase(self->m_pending, p);
    Callback cb = std::move(p->cb);
    delete p;
    const auto *r = static_cast<const redisReply *>(reply);
    if (!r) {
        ++self->m_stats.failed;
        const QByteArray why =
            context && context->err ? QByteArray(context->errstr) : self->m_lastError;
        cb(nullptr, why.isEmpty() ? QByteArrayLiteral("redis connection lost") : why);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        cb(r, QByteArray(r->str, qsizetype(r->len)));
        return;
    }
    cb(r, QByteArray());
}

void RedisConnection::onSubscription(redisAsyncContext *, void *reply, void *privdata)
{
    auto *self = static_cast<RedisConnection *>(privdata);
    const auto *r = static_cast<const redisReply *>(reply);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        return;
    const redisReply *kind = r->element[0];
    const redisReply *payload = r->element[2];
    if (kind->type == REDIS_REPLY_STRING && QByteArrayView(kind->str, kind->len) == "message" &&
        payload->type == REDIS_REPLY_STRING && self->m_onMessage)
        self->m_onMessage(QByteArray(payload->str, qsizetype(payload->len)));
}

void RedisConnection::onConnect(const redisAsyncContext *context, int status)
{
    auto *self = static_cast<RedisConnection *>(context->data);
    if (status != REDIS_OK && self && !self->m_freeing) {
        // hiredis frees the context after this callback (failing what was queued) without
        // calling the disconnect callback: the connection is lost here.
        self->lost(QByteArray(context->errstr));
    }
}

void RedisConnection::onDisconnect(const redisAsyncContext *context, int)
{
    auto *self = static_cast<RedisConnection *>(context->data);
    if (!self || self->m_freeing)
        return;
    self->lost(context->err ? QByteArray(context->errstr) : QByteArrayLiteral("closed"));
}

void RedisConnection::lost(const QByteArray &why)
{
    m_context = nullptr;
    if (m_events) {
        m_events->deleteLater(); // its notifier may be the one emitting right now
        m_events = nullptr;
    }
    m_lastError = why;
    const bool wasUp = m_health == Health::Up;
    setHealth(Health::Down);
    if (m_running && (wasUp || m_stats.connects == 0))
        qCWarning(lcRedis).noquote() << LogLine("redis connection lost")
                                            .add("redis", m_options.displayName())
                                            .add("error", why)
                                            .add("retry_ms", m_backoffMs)
                                            .text();
    scheduleReconnect();
}

void RedisConnection::drop(const QByteArray &why)
{
    if (!m_context)
        return;
    redisAsyncContext *context = m_context;
    m_context = nullptr; // commands issued by the failing callbacks fail at once
    m_lastError = why;
    m_freeing = true;
    // Fails every pending callback (reply == nullptr), then calls the cleanup hook.
    redisAsyncFree(context);
    m_freeing = false;
    lost(why);
}

void RedisConnection::scheduleReconnect()
{
    if (!m_running)
        return;
    m_reconnectTimer.start(m_backoffMs);
    m_backoffMs = std::min(m_backoffMs * 2, kMaxBackoffMs);
}

void RedisConnection::checkDeadlines()
{
    if (m_pending.empty() || !m_context)
        return;
    if (m_pending.front()->deadlineMs > m_clock.elapsed())
        return;
    ++m_stats.timeouts;
    qCWarning(lcRedis).noquote() << LogLine("redis command timed out, reconnecting")
                                        .add("redis", m_options.displayName())
                                        .add("timeout_ms", m_options.timeoutMs)
                                        .add("in_flight", qint64(m_pending.size()))
                                        .text();
    drop(QByteArrayLiteral("redis command timed out after ") +
         QByteArray::number(m_options.timeoutMs) + QByteArrayLiteral(" ms"));
}

} // namespace greygate
