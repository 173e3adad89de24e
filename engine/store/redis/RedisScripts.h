// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

// The Lua scripts run by Redis. Each runs atomically and reads the time from Redis `TIME`,
// the one clock every proxy shares, so two MX hosts with skewed clocks still agree.
class RedisScripts
{
public:
    // decide: KEYS triplet, client; ARGV delay, retryWindow, passedLifetime, autoWhitelist,
    // grace. GreylistEngine's state machine on the shared state. Returns
    // {verdict, attempts, firstSeen, wait, delayed, now, created, prevFirstSeen, prevAttempts}
    // with verdict 0 Defer, 1 PassedNow, 2 PassedKnown, 3 ClientWhitelisted; created = 1
    // when a retry window opened (the caller queues its deadline); prevFirstSeen > 0 when a
    // window closed unseen (the caller claims its deadline and logs the rejection).
    static const QByteArray &decide();
    // expire: KEYS triplet; ARGV firstSeen. For a claimed deadline: the attempts of that
    // window if it closed without a pass (the triplet is removed), else false.
    static const QByteArray &expire();
    // due: KEYS due; ARGV limit. Deadlines reached by Redis's clock, earliest first.
    static const QByteArray &due();
    // release: KEYS triplet; ARGV retryWindow, passedLifetime. An admin's "release now": a
    // deferred triplet in its window becomes passed (last and passed now, the lifetime's
    // TTL). Returns 1 released, 2 already passed, 0 not held (or its window closed).
    static const QByteArray &release();
    // remove: KEYS triplet; ARGV retryWindow. Forgets a triplet: 1 removed, 0 not held (or
    // its window closed). Its deadline in gg:due is then claimed without a rejection.
    static const QByteArray &remove();
    // maxRevision: KEYS docrev; ARGV revision. Keeps the highest revision.
    static const QByteArray &maxRevision();

    // The SHA-1 Redis names a script by (EVALSHA), computed locally.
    static QByteArray sha1(const QByteArray &script);
};

} // namespace greygate
