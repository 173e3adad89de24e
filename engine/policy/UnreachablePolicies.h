// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyDocument.h"

#include <QJsonArray>

namespace greygate {

// Policies that can never win (docs/policies.md, "Policies that can never win"): another
// enforced policy matches every attempt this one matches and always comes first in the
// precedence, or its validity ended. Only certain cases are reported, never a guess: a
// policy ranks above another only with a more specific side, and a more specific side
// matches less, so a policy that covers another and still comes first has the same From and
// To, the same or a wider address basis, at least the same directions, source ranges and
// validity, and wins the tie-break (updated later, or the lower id). Linear: policies are
// bucketed by their sides.
class UnreachablePolicies
{
public:
    struct Finding
    {
        qint64 policyId = 0;
        qint64 byPolicyId = 0; // 0: not shadowed by another policy (reason says why)
        QString reason;
        friend bool operator==(const Finding &, const Finding &) = default;
    };

    static QList<Finding> find(const QList<Policy> &policies, Seconds now);
    static QJsonArray toJson(const QList<Finding> &findings);
};

} // namespace greygate
