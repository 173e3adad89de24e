// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Triplet.h"

#include <QByteArray>
#include <optional>

namespace greygate {

// The key layout in Redis (docs/redis.md). A triplet and its client's auto-whitelist counter
// share the hash tag {client}, so the decision script touches one Cluster slot:
//   gg:{CLIENT}:t:SENDER\x1fRECIPIENT   hash: status first last passed attempts [pfirst pattempts]
//   gg:{CLIENT}:c                       hash: passes last counted
// The rest are single keys, each written by its own command:
//   gg:due         sorted set: "FIRSTSEEN|TRIPLETKEY" scored by the retry window's end
//   gg:rejections  stream, capped: the rejection log ("Sender Failed to Retry")
//   gg:docs        hash "KIND:ID" -> "VERSION:REVISION:JSON": policies, groups, auto allow
//   gg:docrev      string: the highest document revision committed
//   gg:audit       stream, capped: the audit log
//   gg:changes     pub/sub channel: "PROXYID REVISION" after a document change
class RedisKeys
{
public:
    static QByteArray triplet(const TripletKey &key);
    static QByteArray client(const QByteArray &client);
    static std::optional<TripletKey> tripletFromKey(QByteArrayView redisKey);
    // A client key usable in a hash tag: no braces (the normaliser never produces them).
    static bool usable(const TripletKey &key);

    static QByteArray dueMember(Seconds firstSeen, const QByteArray &tripletKey);
    // Splits a due member into its first-seen time and triplet key.
    static bool splitDueMember(QByteArrayView member, Seconds *firstSeen, QByteArray *tripletKey);

    static QByteArray due() { return QByteArrayLiteral("gg:due"); }
    static QByteArray rejections() { return QByteArrayLiteral("gg:rejections"); }
    static QByteArray documents() { return QByteArrayLiteral("gg:docs"); }
    static QByteArray documentRevision() { return QByteArrayLiteral("gg:docrev"); }
    static QByteArray audit() { return QByteArrayLiteral("gg:audit"); }
    static QByteArray changesChannel() { return QByteArrayLiteral("gg:changes"); }
    static QByteArray tripletPattern() { return QByteArrayLiteral("gg:{*}:t:*"); }
    static QByteArray clientPattern() { return QByteArrayLiteral("gg:{*}:c"); }

    // Rejection and audit logs keep about this many entries (XADD MAXLEN ~).
    static constexpr int kLogCap = 100'000;
};

} // namespace greygate
