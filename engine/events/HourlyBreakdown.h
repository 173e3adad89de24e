// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Event.h"
#include "MinuteStats.h"

#include <QHash>
#include <QList>
#include <unordered_map>
#include <vector>

namespace greygate {

// The dashboard's breakdowns (docs/api.md, "stats.breakdown"): per clock hour, the attempts
// counted by who decided them (a policy, plain greylisting, a Permitted or Blocked Senders
// group, Auto Allow, outbound mail) and the deferrals counted by sender domain, for the
// last kDefaultHours (8 days), in a ring of hour slots like MinuteStats.
//
// Bounded: the hour being counted tracks at most kMaxLiveDomains domains (deferrals of
// further domains go to "other"); once the hour is over it keeps its kTopDomains largest and
// adds the rest to "other". So a closed hour holds at most 100 domains and the whole ring a
// few MiB at worst. Deciders are bounded by the policies and groups there are, and by
// kMaxDeciders per hour besides.
class HourlyBreakdown
{
public:
    static constexpr qsizetype kDefaultHours = 8 * 24;
    static constexpr int kTopDomains = 100;
    static constexpr int kMaxLiveDomains = 5000;
    static constexpr int kMaxDeciders = 1024;
    static constexpr qsizetype kMaxDomainBytes = 255;

    struct Decider
    {
        DecidedBy by = DecidedBy::None;
        qint64 id = 0; // the policy or group; 0 otherwise
        friend bool operator==(const Decider &, const Decider &) = default;
    };
    struct DeciderCounts
    {
        Decider decider;
        MinuteStats::Counts counts;
    };
    struct DomainCount
    {
        QByteArray domain;
        quint64 deferred = 0;
    };
    struct Result
    {
        QList<DeciderCounts> deciders; // most attempts first
        QList<DomainCount> domains;    // most deferrals first, at most `limit`
        quint64 otherDeferred = 0;     // deferrals of every domain not listed
    };

    explicit HourlyBreakdown(qsizetype hours = kDefaultHours);

    void count(const Event &attempt);
    // Hours overlapping [from, to): from rounded down and to up to whole hours.
    Result query(Seconds from, Seconds to, int limit) const;
    qsizetype hours() const { return qsizetype(m_ring.size()); }

    QByteArray save() const;
    // Refuses (false, left empty) anything malformed or beyond the bounds above.
    bool restore(QByteArrayView bytes);
    // The largest save() can be for this ring (StatsFile reads no more).
    qint64 maxBytes() const;

    // "example.org" for "user@Example.org", empty for the null sender or no domain.
    static QByteArrayView domainOf(QByteArrayView sender);

private:
    struct Slot
    {
        qint64 hour = -1;
        std::unordered_map<quint64, MinuteStats::Counts> deciders;
        QHash<QByteArray, quint64> domains;
        quint64 otherDeferred = 0;
        bool closed = false; // trimmed to kTopDomains
    };
    Slot &at(qint64 hour);
    static void close(Slot &slot);
    static quint64 keyOf(Decider d);
    static Decider deciderOf(quint64 key);

    std::vector<Slot> m_ring;
    qint64 m_currentHour = -1;
    QByteArray m_domainKey; // a deferral's domain lowered for the lookup, reused
};

} // namespace greygate
