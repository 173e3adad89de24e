// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyDecision.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace greygate {

// Why a query got its decision: the console's "test a triplet" and the log's reason.
// Shape documented in docs/policies.md ("Explain").
struct PolicyExplanation
{
    struct Candidate // a policy that matched
    {
        qint64 policyId = 0;
        QString narrative;
        QString action;        // "greylist" / "bypass"
        bool reversed = false; // matched with sender and recipient swapped (bi-directional)
        int sourcePrefix = -1; // the matching source range's prefix, -1 without ranges
        QString lostBecause;   // empty for the winner
    };
    struct NotMatched
    {
        qint64 policyId = 0;
        QString narrative;
        QString reason;
    };
    struct Bypass // a group or auto allow entry that holds this mail
    {
        QString kind; // "blocked", "permitted", "autoAllow"
        qint64 groupId = 0;
        QString groupName;
        QString member; // the matching member, or the auto allow pair
        QString detail;
    };

    PolicyDecision decision;
    QString summary;          // one line: "bypass: policy 3 \"Partners skip greylisting\""
    QList<Candidate> matched; // precedence order, the winner (if a policy decided) first
    QList<NotMatched> notMatched;
    bool notMatchedTruncated = false;
    QList<Bypass> bypasses;

    QJsonObject toJson() const;
};

} // namespace greygate
