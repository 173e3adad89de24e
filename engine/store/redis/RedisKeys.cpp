// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisKeys.h"

#include <QStringBuilder>

namespace greygate {

QByteArray RedisKeys::triplet(const TripletKey &key)
{
    QByteArray out;
    out.reserve(12 + key.client.size() + key.sender.size() + key.recipient.size());
    out.append("gg:{", 4).append(key.client).append("}:t:", 4).append(key.sender);
    out.append('\x1f').append(key.recipient);
    return out;
}

QByteArray RedisKeys::client(const QByteArray &client)
{
    return QByteArrayLiteral("gg:{") + client + QByteArrayLiteral("}:c");
}

bool RedisKeys::usable(const TripletKey &key)
{
    return !key.client.isEmpty() && !key.client.contains('{') && !key.client.contains('}');
}

std::optional<TripletKey> RedisKeys::tripletFromKey(QByteArrayView redisKey)
{
    if (!redisKey.startsWith("gg:{"))
        return std::nullopt;
    const qsizetype close = redisKey.indexOf("}:t:");
    if (close < 0)
        return std::nullopt;
    const QByteArrayView rest = redisKey.sliced(close + 4);
    const qsizetype sep = rest.indexOf('\x1f');
    if (sep < 0)
        return std::nullopt;
    TripletKey key;
    key.client = redisKey.sliced(4, close - 4).toByteArray();
    key.sender = rest.first(sep).toByteArray();
    key.recipient = rest.sliced(sep + 1).toByteArray();
    return key;
}

QByteArray RedisKeys::dueMember(Seconds firstSeen, const QByteArray &tripletKey)
{
    return QByteArray::number(firstSeen) + '|' + tripletKey;
}

bool RedisKeys::splitDueMember(QByteArrayView member, Seconds *firstSeen, QByteArray *tripletKey)
{
    const qsizetype bar = member.indexOf('|');
    if (bar <= 0)
        return false;
    bool ok = false;
    *firstSeen = member.first(bar).toLongLong(&ok);
    if (!ok)
        return false;
    *tripletKey = member.sliced(bar + 1).toByteArray();
    return true;
}

} // namespace greygate
