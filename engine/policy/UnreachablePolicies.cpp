// SPDX-License-Identifier: GPL-3.0-or-later
#include "UnreachablePolicies.h"

#include "PolicyTime.h"

#include <QHash>
#include <QJsonObject>
#include <tuple>

namespace greygate {

namespace {

QString sideKey(const Specifier &s)
{
    return QString::number(int(s.type)) + u'|' + s.value + u'|' +
           (s.includeSubdomains ? u'1' : u'0') + u'|' + QString::number(s.groupId);
}

bool basisCovers(AddressBasis q, AddressBasis p)
{
    return q == p || q == AddressBasis::Both;
}

bool validityCovers(const Policy &q, const Policy &p)
{
    const bool starts = !q.start || (p.start && *p.start >= *q.start);
    const bool ends = !q.end || (p.end && *p.end <= *q.end);
    return starts && ends;
}

bool rangesCover(const Policy &q, const Policy &p)
{
    if (q.sourceRanges.isEmpty())
        return p.sourceRanges.isEmpty();
    for (const Cidr &r : p.sourceRanges) {
        if (!q.sourceRanges.contains(r))
            return false;
    }
    return !p.sourceRanges.isEmpty();
}

// q matches whatever p matches and comes first in the precedence for every such attempt.
bool covers(const Policy &q, const Policy &p)
{
    return q.id != p.id && q.enabled && q.mode == PolicyMode::Enforce &&
           basisCovers(q.fromBasis, p.fromBasis) && (q.bidirectional || !p.bidirectional) &&
           validityCovers(q, p) && rangesCover(q, p) &&
           std::tuple(q.updatedAt, -q.id) > std::tuple(p.updatedAt, -p.id);
}

} // namespace

QList<UnreachablePolicies::Finding> UnreachablePolicies::find(const QList<Policy> &policies,
                                                              Seconds now)
{
    QHash<QString, QList<qsizetype>> bySides;
    for (qsizetype i = 0; i < policies.size(); ++i)
        bySides[sideKey(policies[i].from) + u'>' + sideKey(policies[i].to)].append(i);
    QList<Finding> out;
    for (qsizetype i = 0; i < policies.size(); ++i) {
        const Policy &p = policies[i];
        if (!p.enabled)
            continue; // disabled on purpose: nothing to tell
        if (p.end && *p.end <= now) {
            out.append({p.id, 0,
                        QStringLiteral("its validity ended at %1: it is never in force again")
                            .arg(PolicyTime::toIso(*p.end))});
            continue;
        }
        const QList<qsizetype> &same = bySides.value(sideKey(p.from) + u'>' + sideKey(p.to));
        // Buckets hold identical sides: a handful of policies, so this stays linear.
        for (qsizetype j : same) {
            const Policy &q = policies[j];
            if (!covers(q, p))
                continue;
            out.append({p.id, q.id,
                        QStringLiteral("policy %1 has the same From and To, matches every "
                                       "attempt this one matches and always comes first (%2)")
                            .arg(q.id)
                            .arg(q.updatedAt > p.updatedAt
                                     ? QStringLiteral("updated later")
                                     : QStringLiteral("same update time, lower id"))});
            break;
        }
    }
    return out;
}

QJsonArray UnreachablePolicies::toJson(const QList<Finding> &findings)
{
    QJsonArray out;
    for (const Finding &f : findings) {
        QJsonObject o{{QStringLiteral("policy"), f.policyId}, {QStringLiteral("reason"), f.reason}};
        if (f.byPolicyId != 0)
            o.insert(QStringLiteral("by"), f.byPolicyId);
        out.append(o);
    }
    return out;
}

} // namespace greygate
