// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DelayHistogram.h"
#include "HourRing.h"

#include <QByteArray>
#include <QHash>
#include <QList>

namespace greygate {

// Delay analytics (docs/api.md, "delay.stats"): how long greylisting held up the mail it
// accepted (first seen -> passed), per clock hour, in total, per sender domain and per
// deciding policy, for the last kDefaultHours (8 days), in a ring of hour slots (HourRing). Saved
// beside the per-minute statistics (DBDIR/stats-delay.bin).
//
// Bounded: the hour being counted tracks kMaxLiveDomains domains and kMaxPolicies deciders
// (the rest go to "other"); a finished hour keeps its kTopDomains busiest domains and folds
// the others into "other", so the totals stay exact and the ring stays a few MiB at worst.
class DelayStats
{
public:
    static constexpr qsizetype kDefaultHours = 8 * 24;
    static constexpr int kTopDomains = 50;
    static constexpr int kMaxLiveDomains = 2000;
    static constexpr int kMaxPolicies = 256;
    static constexpr qsizetype kMaxDomainBytes = 255;
    static constexpr qint64 kNoPolicy = 0; // plain greylisting (no policy applied)
    static constexpr qint64 kOtherPolicy = -1;
    static inline const QByteArray kOther = QByteArrayLiteral("(other)");

    struct Point
    {
        Seconds time = 0;
        DelayHistogram::Summary summary;
    };
    struct Domain
    {
        QByteArray domain;
        DelayHistogram::Summary summary;
    };
    struct PolicyDelay
    {
        qint64 policy = kNoPolicy; // a policy id, kNoPolicy or kOtherPolicy
        DelayHistogram::Summary summary;
    };
    struct Result
    {
        DelayHistogram::Summary total;
        QList<Point> series;         // one per step with mail in it, oldest first
        QList<Domain> domains;       // most mail first, at most `limit`, then "(other)"
        QList<PolicyDelay> policies; // most mail first
    };

    explicit DelayStats(qsizetype hours = kDefaultHours);

    // One accepted message's delay: `time` it passed, the sender address, the deciding policy
    // (kNoPolicy: plain greylisting).
    void count(Seconds time, QByteArrayView sender, qint64 policy, Seconds delay);
    // Hours overlapping [from, to) summed into steps of stepSeconds (a multiple of an hour).
    Result query(Seconds from, Seconds to, Seconds stepSeconds, int limit) const;

    QByteArray save() const;
    bool restore(QByteArrayView bytes); // false (left empty) for anything malformed
    qint64 maxBytes() const;

private:
    struct Slot
    {
        qint64 hour = -1;
        DelayHistogram total;
        QHash<QByteArray, DelayHistogram> domains;
        QHash<qint64, DelayHistogram> policies;
        bool closed = false;
    };
    static void close(Slot &slot);

    HourRing<Slot> m_ring;
    QByteArray m_domainKey; // count()'s lookup key, reused: no allocation for a known domain
};

} // namespace greygate
