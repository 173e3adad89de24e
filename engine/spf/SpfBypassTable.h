// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>

namespace greygate {

// The pool-retry detector's one-click bypass: mail from a sender domain is not greylisted
// while it comes from the ranges the domain's SPF record authorises (flattened by
// SpfFlattener), until the bypass expires. Scoped twice: another domain from those ranges,
// or the domain from elsewhere, is greylisted as usual. Time is passed in.
class SpfBypassTable
{
public:
    using Range = QPair<QHostAddress, int>; // network, prefix length
    struct Bypass
    {
        qint64 id = 0;
        QByteArray domain; // lower case
        QList<Range> ranges;
        qint64 createdAt = 0;
        qint64 expiresAt = 0;
    };

    static constexpr qsizetype kMaxBypasses = 1'000;
    static constexpr qsizetype kMaxRanges = 1'000; // per bypass

    // The bypass's id, or 0 when it cannot be added (no ranges, lifetime <= 0, table full).
    qint64 add(const QByteArray &domain, const QList<Range> &ranges, qint64 now, qint64 lifetime);
    bool remove(qint64 id);
    // True when an unexpired bypass of senderDomain covers client.
    bool allows(QByteArrayView senderDomain, const QHostAddress &client, qint64 now) const;
    // Removes the expired ones; returns how many.
    int expire(qint64 now);
    QList<Bypass> list(qint64 now) const;
    // Cheap: false when there is no bypass at all (the hot path asks this first).
    bool active() const { return !m_bypasses.isEmpty(); }

private:
    QList<Bypass> m_bypasses;
    qint64 m_nextId = 1;
};

} // namespace greygate
