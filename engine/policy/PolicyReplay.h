// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyIndex.h"

#include <QJsonObject>

namespace greygate {

// What the policies make of one attempt, as a replay compares it: the categories an admin
// sees change ("would now bypass", "would now be deferred", "would now be blocked").
enum class ReplayVerdict : quint8
{
    Greylist, // deferred on first sight (a passed triplet would still pass)
    Bypass,
    Block,
    Outbound, // outbound mail is never greylisted, whatever the policies say
};

// One recorded attempt to decide again: the triplet as normalised for the policies (the
// sender's VERP/SRS/+tag forms removed, as the handler does), when, and whether it was
// outbound for a reason the record cannot show (an authenticated submission).
struct ReplayAttempt
{
    Seconds time = 0;
    QByteArray client;
    QByteArray sender;
    QByteArray recipient;
    bool authenticated = false;
};

// The difference a candidate policy set makes to recorded traffic (docs/policies.md,
// "Replay"): every attempt decided by the current index and by the candidate one, at the
// time it was made; the attempts whose verdict changes, grouped by sender domain and new
// verdict, with counts and a few samples each. Pure: no I/O, no clock.
class PolicyReplay
{
public:
    static constexpr qsizetype kMaxSamples = 5;
    static constexpr qsizetype kMaxGroups = 500; // the largest groups; the rest counted

    struct Sample
    {
        Seconds time = 0;
        QByteArray client, sender, recipient;
        ReplayVerdict before = ReplayVerdict::Greylist;
        qint64 beforePolicy = 0; // the deciding policy (0: none or not a policy)
        qint64 afterPolicy = 0;
    };
    struct Group
    {
        QString domain; // the sender's domain; "<>" for the null sender
        ReplayVerdict after = ReplayVerdict::Greylist;
        qsizetype count = 0;
        QHash<int, qsizetype> fromVerdicts; // before-verdict -> count
        QList<Sample> samples;
    };
    struct Result
    {
        qsizetype replayed = 0;
        qsizetype changed = 0;
        qsizetype nowGreylist = 0;
        qsizetype nowBypass = 0;
        qsizetype nowBlock = 0;
        qsizetype groupsOmitted = 0;
        QList<Group> groups; // the largest first
        QJsonObject toJson() const;
    };

    // The indexes and auto allow table must outlive run().
    PolicyReplay(const PolicyIndex &current, const PolicyIndex &candidate,
                 const AutoAllowTable *autoAllow);

    Result run(const QList<ReplayAttempt> &attempts) const;

    // The handler's order (GreylistPolicyHandler): Blocked Senders, outbound, bypass, then
    // greylisting. *policyId: the deciding policy, 0 otherwise.
    static ReplayVerdict verdictOf(const PolicyIndex &index, const PolicyQuery &query,
                                   const AutoAllowTable *autoAllow, qint64 *policyId);
    static QString verdictName(ReplayVerdict verdict); // "greylist", "bypass", ...

private:
    const PolicyIndex &m_current;
    const PolicyIndex &m_candidate;
    const AutoAllowTable *m_autoAllow;
};

} // namespace greygate
