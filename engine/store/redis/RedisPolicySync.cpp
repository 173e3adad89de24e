// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisPolicySync.h"

#include "RedisConnection.h"
#include "RedisDocumentSnapshot.h"
#include "RedisKeys.h"
#include "RedisLog.h"
#include "RedisStore.h"
#include "RedisSyncClient.h"
#include "policyd/PolicyState.h"
#include "util/LogLine.h"

#include <hiredis/hiredis.h>
#include <memory>

namespace greygate {

RedisPolicySync::RedisPolicySync(const RedisOptions &options, RedisConnection &commands,
                                 PolicyState &state, QByteArray proxyId, QObject *parent)
    : QObject(parent)
    , m_commands(commands)
    , m_state(state)
    , m_proxyId(std::move(proxyId))
    , m_subscriber(new RedisConnection(options, this))
{
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(kCoalesceMs);
    connect(&m_coalesce, &QTimer::timeout, this, &RedisPolicySync::reload);
    m_subscriber->subscribe(RedisKeys::changesChannel(), [this](const QByteArray &message) {
        // "PROXYID REVISION": our own changes are in memory already.
        if (message.startsWith(QByteArray(m_proxyId + ' ')))
            return;
        ++m_stats.announcements;
        reloadSoon();
    });
    // After a reconnect announcements may have been missed: read the state once.
    connect(m_subscriber, &RedisConnection::ready, this, [this] {
        if (m_subscriber->stats().connects > 1)
            reloadSoon();
    });
}

RedisPolicySync::~RedisPolicySync() = default;

void RedisPolicySync::start()
{
    m_subscriber->start();
}

void RedisPolicySync::stop()
{
    m_coalesce.stop();
    m_subscriber->stop();
}

bool RedisPolicySync::subscribed() const
{
    return m_subscriber->isUp();
}

void RedisPolicySync::reloadSoon()
{
    if (!m_coalesce.isActive())
        m_coalesce.start();
}

void RedisPolicySync::reload()
{
    if (m_reloading) {
        m_again = true; // one more once this one is done
        return;
    }
    m_reloading = true;
    auto documents = std::make_shared<QList<DocumentRecord>>();
    auto failed = std::make_shared<QByteArray>();
    m_commands.command(
        {QByteArrayLiteral("HGETALL"), RedisKeys::documents()},
        [documents, failed](const redisReply *reply, const QByteArray &error) {
            if (!reply || !error.isEmpty()) {
                *failed = error.isEmpty() ? QByteArrayLiteral("no reply") : error;
                return;
            }
            for (size_t i = 0; i + 1 < reply->elements; i += 2) {
                DocumentRecord d;
                if (RedisStore::parseDocument(RedisSyncClient::string(reply->element[i]),
                                              RedisSyncClient::string(reply->element[i + 1]), &d))
                    documents->append(std::move(d));
            }
        });
    // Answered after the HGETALL (one connection, in order): both are in by then.
    m_commands.command(
        {QByteArrayLiteral("GET"), RedisKeys::documentRevision()},
        [this, documents, failed](const redisReply *reply, const QByteArray &error) {
            m_reloading = false;
            QString why = QString::fromUtf8(!failed->isEmpty() ? *failed : error);
            if (why.isEmpty() && !reply)
                why = QStringLiteral("no reply");
            if (why.isEmpty()) {
                RedisDocumentSnapshot snapshot(std::move(*documents),
                                               quint64(RedisSyncClient::integer(reply)));
                quint64 revision = 0;
                snapshot.documentRevision(&revision, &why);
                if (m_state.load(snapshot, &why)) {
                    if (m_onSnapshot)
                        m_onSnapshot(snapshot); // the documents beside the policies
                    ++m_stats.reloads;
                    qCInfo(lcRedis).noquote() << LogLine("policies reloaded from redis")
                                                     .add("revision", qint64(revision))
                                                     .text();
                    Q_EMIT reloaded(revision);
                } else if (why.isEmpty()) {
                    why = QStringLiteral("invalid stored policies");
                }
            }
            if (!why.isEmpty()) {
                ++m_stats.failedReloads;
                qCWarning(lcRedis).noquote()
                    << LogLine("cannot reload the policies from redis, keeping the current ones")
                           .add("error", why)
                           .text();
            }
            if (m_again) {
                m_again = false;
                reloadSoon();
            }
        });
}

} // namespace greygate
