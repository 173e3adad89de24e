// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyDocument.h"

namespace greygate {

// The rules every policy, group and document obeys, whichever way it arrives (JSON import,
// the control API, a PolicySet call). Each check returns "" when fine, otherwise the problem
// prefixed with the JSON-pointer-like path of the field at fault ("policies[3].end: ...").
class PolicyValidator
{
public:
    static constexpr qsizetype kMaxPolicies = 10'000;
    static constexpr qsizetype kMaxGroups = 10'000;
    static constexpr qsizetype kMaxMembers = 2'000'000; // all groups together
    static constexpr qsizetype kMaxAutoAllow = 1'000'000;
    static constexpr qsizetype kMaxText = 1'000; // narrative
    static constexpr qsizetype kMaxName = 200;   // group name, updatedBy
    static constexpr qsizetype kMaxSourceRanges = 1'000;

    static QString policyProblem(const Policy &policy, const QList<SenderGroup> &groups,
                                 const QString &path);
    static QString groupProblem(const SenderGroup &group, const QList<SenderGroup> &others,
                                const QString &path);
    static QString autoAllowProblem(const AutoAllowEntry &entry, const QString &path);
    static QString internalProblem(const InternalConfig &internal, const QString &path);
    static QString documentProblem(const PolicyDocument &document);
};

} // namespace greygate
