// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "RedisOptions.h"

#include <QByteArrayList>
#include <QString>
#include <functional>
#include <memory>

struct redisContext;
struct redisReply;

namespace greygate {

// A blocking connection with a timeout on connect and on every reply, for what runs before
// the event loop serves anything or on no event loop at all: start-up loading, the
// migration command, the admin's reads, tests. Never on the decision path.
class RedisSyncClient
{
public:
    struct ReplyDeleter
    {
        void operator()(redisReply *r) const;
    };
    using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

    RedisSyncClient();
    ~RedisSyncClient();
    RedisSyncClient(const RedisSyncClient &) = delete;
    RedisSyncClient &operator=(const RedisSyncClient &) = delete;

    // Connects, authenticates and selects the database; with Sentinels, asks them for the
    // primary first and checks its ROLE.
    bool connect(const RedisOptions &options, QString *error);
    void close();
    bool isConnected() const { return m_context != nullptr; }
    // The node connected to last (with Sentinels: the primary they named).
    const QString &host() const { return m_host; }
    quint16 port() const { return m_port; }

    // One command. nullptr with *error on a transport failure or an error reply.
    Reply command(const QByteArrayList &argv, QString *error);
    // Many commands pipelined: all are sent, then each reply is handed to onReply in order.
    // False at the first transport failure or error reply (*error names it).
    bool pipeline(const QList<QByteArrayList> &commands,
                  const std::function<void(qsizetype index, const redisReply *reply)> &onReply,
                  QString *error);
    // SCAN with MATCH over the whole keyspace; onKeys gets each batch of key names.
    bool scan(const QByteArray &pattern, const std::function<bool(const QByteArrayList &)> &onKeys,
              QString *error);

    // Helpers on replies.
    static QByteArray string(const redisReply *r);
    static qint64 integer(const redisReply *r); // integers and numeric strings; 0 otherwise

private:
    bool connectTo(const RedisOptions &options, QString *error);
    bool fail(QString *error, const QString &what);

    redisContext *m_context = nullptr;
    QString m_host;
    quint16 m_port = 0;
};

} // namespace greygate
