// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisSyncClient.h"

#include <QStringList>
#include <QVarLengthArray>
#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace greygate {

namespace {

timeval toTimeval(int ms)
{
    timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

} // namespace

void RedisSyncClient::ReplyDeleter::operator()(redisReply *r) const
{
    freeReplyObject(r);
}

RedisSyncClient::RedisSyncClient() = default;

RedisSyncClient::~RedisSyncClient()
{
    close();
}

void RedisSyncClient::close()
{
    if (m_context) {
        redisFree(m_context);
        m_context = nullptr;
    }
}

bool RedisSyncClient::fail(QString *error, const QString &what)
{
    *error = what;
    if (m_context && m_context->err) {
        *error += u": " + QString::fromUtf8(m_context->errstr);
        close(); // a broken context is unusable; the next connect() starts over
    }
    return false;
}

bool RedisSyncClient::connect(const RedisOptions &options, QString *error)
{
    if (!options.sentinelMode())
        return connectTo(options, error);
    // Ask the Sentinels in turn for the primary, then check it says so itself (a Sentinel
    // may still name a primary that was just demoted).
    QStringList failures;
    for (const RedisOptions::Endpoint &sentinel : options.sentinels) {
        RedisSyncClient link;
        QString why;
        if (!link.connectTo(options.sentinelOptions(sentinel), &why)) {
            failures.append(why);
            continue;
        }
        const Reply r =
            link.command({QByteArrayLiteral("SENTINEL"),
                          QByteArrayLiteral("get-master-addr-by-name"), options.masterName},
                         &why);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            failures.append(options.sentinelOptions(sentinel).displayName() + u": " +
                            (r ? QStringLiteral("does not know master \"") +
                                     QString::fromUtf8(options.masterName) + u'"'
                               : why));
            continue;
        }
        RedisOptions primary = options;
        primary.host = QString::fromUtf8(string(r->element[0]));
        primary.port = quint16(integer(r->element[1]));
        if (!connectTo(primary, &why)) {
            failures.append(why);
            continue;
        }
        const Reply role = command({QByteArrayLiteral("ROLE")}, &why);
        if (role && role->type == REDIS_REPLY_ARRAY && role->elements > 0 &&
            string(role->element[0]) == "master")
            return true;
        failures.append(primary.displayName() + u": not a primary (" +
                        (role ? QString::fromUtf8(string(role->element[0])) : why) + u')');
        close();
    }
    *error = u"no Sentinel named a reachable primary for \"" +
             QString::fromUtf8(options.masterName) + u"\": " + failures.join(QStringLiteral("; "));
    return false;
}

bool RedisSyncClient::connectTo(const RedisOptions &options, QString *error)
{
    close();
    const QByteArray host = options.host.toUtf8();
    m_context =
        redisConnectWithTimeout(host.constData(), options.port, toTimeval(options.timeoutMs));
    if (!m_context || m_context->err) {
        *error = u"cannot connect to " + options.displayName() + u": " +
                 (m_context ? QString::fromUtf8(m_context->errstr) : QStringLiteral("no memory"));
        close();
        return false;
    }
    redisSetTimeout(m_context, toTimeval(options.timeoutMs));
    m_host = options.host;
    m_port = options.port;
    if (!options.password.isEmpty() &&
        !command({QByteArrayLiteral("AUTH"), options.password}, error)) {
        *error = u"Redis refused the password: " + *error;
        close();
        return false;
    }
    if (!options.sentinelLink &&
        !command({QByteArrayLiteral("SELECT"), QByteArray::number(options.db)}, error)) {
        close();
        return false;
    }
    return true;
}

RedisSyncClient::Reply RedisSyncClient::command(const QByteArrayList &argv, QString *error)
{
    if (!m_context) {
        *error = QStringLiteral("not connected to Redis");
        return nullptr;
    }
    QVarLengthArray<const char *, 16> args;
    QVarLengthArray<size_t, 16> lengths;
    for (const QByteArray &a : argv) {
        args.append(a.constData());
        lengths.append(size_t(a.size()));
    }
    Reply reply(static_cast<redisReply *>(
        redisCommandArgv(m_context, int(args.size()), args.data(), lengths.data())));
    if (!reply) {
        fail(error, u"Redis " + QString::fromUtf8(argv.value(0)) + u" failed");
        return nullptr;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        *error = u"Redis " + QString::fromUtf8(argv.value(0)) + u": " +
                 QString::fromUtf8(reply->str, qsizetype(reply->len));
        return nullptr;
    }
    return reply;
}

bool RedisSyncClient::pipeline(
    const QList<QByteArrayList> &commands,
    const std::function<void(qsizetype index, const redisReply *reply)> &onReply, QString *error)
{
    if (!m_context) {
        *error = QStringLiteral("not connected to Redis");
        return false;
    }
    for (const QByteArrayList &argv : commands) {
        QVarLengthArray<const char *, 16> args;
        QVarLengthArray<size_t, 16> lengths;
        for (const QByteArray &a : argv) {
            args.append(a.constData());
            lengths.append(size_t(a.size()));
        }
        if (redisAppendCommandArgv(m_context, int(args.size()), args.data(), lengths.data()) !=
            REDIS_OK)
            return fail(error, QStringLiteral("Redis pipeline"));
    }
    bool ok = true;
    for (qsizetype i = 0; i < commands.size(); ++i) {
        void *raw = nullptr;
        if (redisGetReply(m_context, &raw) != REDIS_OK)
            return fail(error, QStringLiteral("Redis pipeline reply"));
        Reply reply(static_cast<redisReply *>(raw));
        if (reply->type == REDIS_REPLY_ERROR) {
            if (ok)
                *error = u"Redis " + QString::fromUtf8(commands[i].value(0)) + u": " +
                         QString::fromUtf8(reply->str, qsizetype(reply->len));
            ok = false; // the remaining replies are still read, to keep the stream in step
            continue;
        }
        if (ok && onReply)
            onReply(i, reply.get());
    }
    return ok;
}

bool RedisSyncClient::scan(const QByteArray &pattern,
                           const std::function<bool(const QByteArrayList &)> &onKeys,
                           QString *error)
{
    QByteArray cursor("0");
    do {
        Reply reply = command({QByteArrayLiteral("SCAN"), cursor, QByteArrayLiteral("MATCH"),
                               pattern, QByteArrayLiteral("COUNT"), QByteArrayLiteral("1000")},
                              error);
        if (!reply)
            return false;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
            *error = QStringLiteral("Redis SCAN: unexpected reply");
            return false;
        }
        cursor = string(reply->element[0]);
        QByteArrayList keys;
        const redisReply *list = reply->element[1];
        for (size_t i = 0; i < list->elements; ++i)
            keys.append(string(list->element[i]));
        if (!keys.isEmpty() && !onKeys(keys)) {
            *error = QStringLiteral("stopped");
            return false;
        }
    } while (cursor != "0");
    return true;
}

QByteArray RedisSyncClient::string(const redisReply *r)
{
    if (!r || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS))
        return {};
    return QByteArray(r->str, qsizetype(r->len));
}

qint64 RedisSyncClient::integer(const redisReply *r)
{
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return QByteArrayView(r->str, qsizetype(r->len)).toLongLong();
    return 0;
}

} // namespace greygate
