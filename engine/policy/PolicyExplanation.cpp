// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyExplanation.h"

#include <QJsonArray>

namespace greygate {

namespace {

QString outcomeName(PolicyOutcome o)
{
    switch (o) {
    case PolicyOutcome::Greylist:
        return QStringLiteral("greylist");
    case PolicyOutcome::Bypass:
        return QStringLiteral("bypass");
    case PolicyOutcome::Reject:
        return QStringLiteral("reject");
    }
    return {};
}

QString reasonName(DecisionReason r)
{
    switch (r) {
    case DecisionReason::DefaultGreylist:
        return QStringLiteral("default");
    case DecisionReason::Policy:
        return QStringLiteral("policy");
    case DecisionReason::BlockedSender:
        return QStringLiteral("blockedSender");
    case DecisionReason::PermittedSender:
        return QStringLiteral("permittedSender");
    case DecisionReason::AutoAllow:
        return QStringLiteral("autoAllow");
    }
    return {};
}

} // namespace

QJsonObject PolicyExplanation::toJson() const
{
    QJsonArray candidates;
    for (const Candidate &c : matched) {
        QJsonObject o{{QStringLiteral("policy"), c.policyId},
                      {QStringLiteral("narrative"), c.narrative},
                      {QStringLiteral("action"), c.action},
                      {QStringLiteral("reversed"), c.reversed}};
        if (c.sourcePrefix >= 0)
            o.insert(QStringLiteral("sourcePrefix"), c.sourcePrefix);
        if (c.lostBecause.isEmpty())
            o.insert(QStringLiteral("winner"), true);
        else
            o.insert(QStringLiteral("lostBecause"), c.lostBecause);
        candidates.append(o);
    }
    QJsonArray others;
    for (const NotMatched &n : notMatched) {
        others.append(QJsonObject{{QStringLiteral("policy"), n.policyId},
                                  {QStringLiteral("narrative"), n.narrative},
                                  {QStringLiteral("reason"), n.reason}});
    }
    QJsonArray bypassList;
    for (const Bypass &b : bypasses) {
        QJsonObject o{{QStringLiteral("kind"), b.kind},
                      {QStringLiteral("member"), b.member},
                      {QStringLiteral("detail"), b.detail}};
        if (b.groupId != 0) {
            o.insert(QStringLiteral("group"), b.groupId);
            o.insert(QStringLiteral("groupName"), b.groupName);
        }
        bypassList.append(o);
    }
    QJsonObject out{{QStringLiteral("outcome"), outcomeName(decision.outcome)},
                    {QStringLiteral("reason"), reasonName(decision.reason)},
                    {QStringLiteral("summary"), summary},
                    {QStringLiteral("headerFromPending"), decision.headerFromPending},
                    {QStringLiteral("matched"), candidates},
                    {QStringLiteral("notMatched"), others},
                    {QStringLiteral("notMatchedTruncated"), notMatchedTruncated},
                    {QStringLiteral("bypasses"), bypassList}};
    if (decision.policyId != 0)
        out.insert(QStringLiteral("policy"), decision.policyId);
    if (decision.groupId != 0)
        out.insert(QStringLiteral("group"), decision.groupId);
    return out;
}

} // namespace greygate
