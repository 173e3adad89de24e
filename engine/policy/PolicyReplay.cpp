// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyReplay.h"

#include "AutoAllowLearner.h"
#include "MailAddress.h"

#include <QJsonArray>
#include <algorithm>

namespace greygate {

PolicyReplay::PolicyReplay(const PolicyIndex &current, const PolicyIndex &candidate,
                           const AutoAllowTable *autoAllow)
    : m_current(current)
    , m_candidate(candidate)
    , m_autoAllow(autoAllow)
{}

ReplayVerdict PolicyReplay::verdictOf(const PolicyIndex &index, const PolicyQuery &query,
                                      const AutoAllowTable *autoAllow, qint64 *policyId)
{
    const PolicyDecision d = index.evaluate(query, autoAllow);
    *policyId = d.reason == DecisionReason::Policy ? d.policyId : 0;
    if (d.outcome == PolicyOutcome::Reject)
        return ReplayVerdict::Block;
    if (AutoAllowLearner::isOutbound(query, index)) {
        *policyId = 0;
        return ReplayVerdict::Outbound;
    }
    return d.outcome == PolicyOutcome::Bypass ? ReplayVerdict::Bypass : ReplayVerdict::Greylist;
}

QString PolicyReplay::verdictName(ReplayVerdict verdict)
{
    switch (verdict) {
    case ReplayVerdict::Greylist:
        return QStringLiteral("greylist");
    case ReplayVerdict::Bypass:
        return QStringLiteral("bypass");
    case ReplayVerdict::Block:
        return QStringLiteral("block");
    case ReplayVerdict::Outbound:
        return QStringLiteral("outbound");
    }
    return QString();
}

PolicyReplay::Result PolicyReplay::run(const QList<ReplayAttempt> &attempts) const
{
    Result out;
    QHash<QString, qsizetype> groupOf; // domain + verdict -> position in all
    QList<Group> all;
    for (const ReplayAttempt &a : attempts) {
        PolicyQuery q;
        q.clientAddress = a.client;
        q.sender = a.sender;
        q.recipient = a.recipient;
        q.now = a.time;
        if (a.authenticated)
            q.saslUsername = QByteArrayView("authenticated");
        ++out.replayed;
        qint64 beforePolicy = 0, afterPolicy = 0;
        const ReplayVerdict before = verdictOf(m_current, q, m_autoAllow, &beforePolicy);
        const ReplayVerdict after = verdictOf(m_candidate, q, m_autoAllow, &afterPolicy);
        if (before == after)
            continue;
        ++out.changed;
        switch (after) {
        case ReplayVerdict::Greylist:
            ++out.nowGreylist;
            break;
        case ReplayVerdict::Bypass:
            ++out.nowBypass;
            break;
        case ReplayVerdict::Block:
            ++out.nowBlock;
            break;
        case ReplayVerdict::Outbound:
            break; // the policies cannot make mail outbound
        }
        const MailAddress::Lowered sender(a.sender);
        const QString domain = sender.valid() && !sender.isNull() && !sender.domain().isEmpty()
                                   ? QString::fromUtf8(sender.domain())
                                   : QStringLiteral("<>");
        const QString key = domain + u'\n' + verdictName(after);
        auto it = groupOf.constFind(key);
        if (it == groupOf.cend()) {
            it = groupOf.insert(key, all.size());
            all.append(Group{domain, after, 0, {}, {}});
        }
        Group &g = all[*it];
        ++g.count;
        ++g.fromVerdicts[int(before)];
        if (g.samples.size() < kMaxSamples)
            g.samples.append(
                Sample{a.time, a.client, a.sender, a.recipient, before, beforePolicy, afterPolicy});
    }
    std::stable_sort(all.begin(), all.end(), [](const Group &a, const Group &b) {
        return a.count != b.count ? a.count > b.count : a.domain < b.domain;
    });
    if (all.size() > kMaxGroups) {
        out.groupsOmitted = all.size() - kMaxGroups;
        all.resize(kMaxGroups);
    }
    out.groups = std::move(all);
    return out;
}

QJsonObject PolicyReplay::Result::toJson() const
{
    QJsonArray list;
    for (const Group &g : groups) {
        QJsonObject from;
        for (auto it = g.fromVerdicts.cbegin(); it != g.fromVerdicts.cend(); ++it)
            from.insert(verdictName(ReplayVerdict(it.key())), qint64(it.value()));
        QJsonArray samples;
        for (const Sample &s : g.samples) {
            QJsonObject o{{QStringLiteral("time"), s.time},
                          {QStringLiteral("client"), QString::fromUtf8(s.client)},
                          {QStringLiteral("sender"), QString::fromUtf8(s.sender)},
                          {QStringLiteral("recipient"), QString::fromUtf8(s.recipient)},
                          {QStringLiteral("before"), verdictName(s.before)}};
            if (s.beforePolicy != 0)
                o.insert(QStringLiteral("beforePolicy"), s.beforePolicy);
            if (s.afterPolicy != 0)
                o.insert(QStringLiteral("afterPolicy"), s.afterPolicy);
            samples.append(o);
        }
        list.append(QJsonObject{{QStringLiteral("domain"), g.domain},
                                {QStringLiteral("now"), verdictName(g.after)},
                                {QStringLiteral("count"), qint64(g.count)},
                                {QStringLiteral("from"), from},
                                {QStringLiteral("samples"), samples}});
    }
    return QJsonObject{{QStringLiteral("replayed"), qint64(replayed)},
                       {QStringLiteral("changed"), qint64(changed)},
                       {QStringLiteral("nowBypass"), qint64(nowBypass)},
                       {QStringLiteral("nowGreylist"), qint64(nowGreylist)},
                       {QStringLiteral("nowBlock"), qint64(nowBlock)},
                       {QStringLiteral("groupsOmitted"), qint64(groupsOmitted)},
                       {QStringLiteral("groups"), list}};
}

} // namespace greygate
