// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyExplainer.h"

#include "AutoAllowTable.h"
#include "PolicyTime.h"

#include <algorithm>

namespace greygate {

namespace {

QString shown(QByteArrayView bytes)
{
    if (bytes.isEmpty())
        return QStringLiteral("<>");
    QString s = QString::fromUtf8(bytes.first(qMin<qsizetype>(bytes.size(), 100)));
    for (QChar &c : s) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = u'?';
    }
    return s;
}

QString policyName(const Policy &p)
{
    return QStringLiteral("policy %1").arg(p.id);
}

} // namespace

PolicyExplainer::PolicyExplainer(const PolicyIndex &index, const PolicyQuery &query,
                                 const AutoAllowTable *autoAllow, int maxNotMatched)
    : m_index(index)
    , m_query(query)
    , m_autoAllow(autoAllow)
    , m_maxNotMatched(std::max(0, maxNotMatched))
    , m_facts(index, query)
{}

PolicyExplanation PolicyExplainer::run()
{
    m_out.decision = m_index.evaluate(m_query, m_autoAllow);
    addBypasses();

    struct Hit
    {
        const Compiled *c;
        PolicyIndex::Match m;
    };
    QList<Hit> hits;
    for (const Compiled &c : m_index.m_compiled) {
        const PolicyIndex::Match m = m_index.match(c, m_facts);
        if (c.policy.mode == PolicyMode::Shadow && m.why == PolicyIndex::Mismatch::None) {
            // A shadow policy never decides: listed apart, with what it would have done.
            if (m_out.notMatched.size() < m_maxNotMatched)
                m_out.notMatched.append(
                    {c.policy.id, c.policy.narrative,
                     QStringLiteral("shadow policy (log only): matches, would %1; never decides")
                         .arg(Policy::actionName(c.policy.action))});
            else
                m_out.notMatchedTruncated = true;
            continue;
        }
        if (m.why == PolicyIndex::Mismatch::None) {
            hits.append({&c, m});
            continue;
        }
        if (m_out.notMatched.size() >= m_maxNotMatched) {
            m_out.notMatchedTruncated = true;
            continue;
        }
        m_out.notMatched.append({c.policy.id, c.policy.narrative, mismatchText(c, m.why)});
    }
    std::stable_sort(hits.begin(), hits.end(), [](const Hit &a, const Hit &b) {
        return PolicyIndex::before(*a.c, a.m.prefix, *b.c, b.m.prefix);
    });
    const bool policyDecided = m_out.decision.reason == DecisionReason::Policy;
    for (qsizetype i = 0; i < hits.size(); ++i) {
        const Policy &p = hits[i].c->policy;
        PolicyExplanation::Candidate cand{p.id,
                                          p.narrative,
                                          Policy::actionName(p.action),
                                          hits[i].m.reversed,
                                          hits[i].m.prefix,
                                          QString()};
        if (!policyDecided) {
            cand.lostBecause = QStringLiteral("not consulted: ") + summaryText();
        } else if (i > 0) {
            cand.lostBecause = lostText(*hits[0].c, hits[0].m.prefix, *hits[i].c, hits[i].m.prefix);
        }
        m_out.matched.append(cand);
    }
    m_out.summary = summaryText();
    return m_out;
}

void PolicyExplainer::addBypasses()
{
    const GroupIndex &groups = m_index.m_groups;
    const IpAddress *client = m_facts.client ? &*m_facts.client : nullptr;
    for (int g = 0; g < groups.count(); ++g) {
        const SenderGroup &group = groups.group(g);
        if (group.kind == GroupKind::Custom)
            continue;
        QString member = groups.matchingMember(g, &m_facts.sender.address, client);
        QString detail = QStringLiteral("envelope sender or client address");
        if (member.isEmpty() && m_query.headerFromKnown) {
            member = groups.matchingMember(g, &m_facts.header.address, nullptr);
            detail = QStringLiteral("header From");
        }
        if (member.isEmpty())
            continue;
        const bool blocked = group.kind == GroupKind::Blocked;
        m_out.bypasses.append({blocked ? QStringLiteral("blocked") : QStringLiteral("permitted"),
                               group.id, group.name, member,
                               (blocked ? QStringLiteral("rejected (550 5.7.1): ")
                                        : QStringLiteral("not greylisted: ")) +
                                   detail + QStringLiteral(" is a member of ") + group.name});
    }
    if (m_autoAllow) {
        if (const AutoAllowEntry *e =
                m_autoAllow->find(m_query.sender, m_query.recipient, m_query.now)) {
            m_out.bypasses.append(
                {QStringLiteral("autoAllow"), 0, QString(),
                 e->externalAddress + QStringLiteral(" -> ") + e->internalAddress,
                 QStringLiteral("learned %1, expires %2")
                     .arg(PolicyTime::toIso(e->createdAt), PolicyTime::toIso(e->expiresAt))});
        }
    }
}

QString PolicyExplainer::describe(const Specifier &s) const
{
    if (s.type != SpecifierType::Group)
        return s.describe();
    const int g = m_index.m_groups.indexOf(s.groupId);
    return g < 0 ? s.describe()
                 : QStringLiteral("group \"%1\"").arg(m_index.m_groups.group(g).name);
}

QString PolicyExplainer::senderText(const Policy &p) const
{
    const QString envelope = QStringLiteral("envelope sender ") + shown(m_query.sender);
    const QString header = m_query.headerFromKnown
                               ? QStringLiteral("header From ") + shown(m_query.headerFrom)
                               : QStringLiteral("header From (not known)");
    switch (p.fromBasis) {
    case AddressBasis::Envelope:
        return envelope;
    case AddressBasis::Header:
        return header;
    case AddressBasis::Both:
        return envelope + QStringLiteral(" / ") + header;
    }
    return envelope;
}

QString PolicyExplainer::mismatchText(const Compiled &c, PolicyIndex::Mismatch why) const
{
    const Policy &p = c.policy;
    using M = PolicyIndex::Mismatch;
    switch (why) {
    case M::None:
        return {};
    case M::Disabled:
        return QStringLiteral("disabled");
    case M::NotYetInForce:
        return QStringLiteral("not in force before ") + PolicyTime::toIso(*p.start);
    case M::Ended:
        return QStringLiteral("out of force since its end ") + PolicyTime::toIso(*p.end);
    case M::SourceRange: {
        QStringList ranges;
        for (const Cidr &r : p.sourceRanges)
            ranges.append(r.toString());
        return QStringLiteral("client %1 is in none of the source ranges %2")
            .arg(shown(m_query.clientAddress), ranges.join(QStringLiteral(", ")));
    }
    case M::HeaderFromUnknown:
        return QStringLiteral("needs the header From, not known here (at RCPT); the SMTP proxy "
                              "evaluates it at the end of DATA");
    case M::From:
    case M::To:
        break;
    }
    QString text = why == M::From
                       ? QStringLiteral("From: %1 is not %2").arg(senderText(p), describe(p.from))
                       : QStringLiteral("To: recipient %1 is not %2")
                             .arg(shown(m_query.recipient), describe(p.to));
    if (p.bidirectional) {
        const bool fromR = m_index.sideMatches(c.from, m_facts.recipient, nullptr);
        text += fromR
                    ? QStringLiteral("; reversed: %1 is not %2").arg(senderText(p), describe(p.to))
                    : QStringLiteral("; reversed: recipient %1 is not %2")
                          .arg(shown(m_query.recipient), describe(p.from));
    }
    return text;
}

QString PolicyExplainer::lostText(const Compiled &w, int pw, const Compiled &l, int pl) const
{
    const QString winner = policyName(w.policy);
    const auto side = [&](const char16_t *name, const PolicyIndex::Side &ws,
                          const PolicyIndex::Side &ls, const Specifier &wspec,
                          const Specifier &lspec) -> QString {
        if (ws.rank != ls.rank || ws.labels != ls.labels) {
            return QStringLiteral("%1 %2 is less specific than %3 of %4")
                .arg(QStringView(name), describe(lspec), describe(wspec), winner);
        }
        return {};
    };
    if (QString s = side(u"From", w.from, l.from, w.policy.from, l.policy.from); !s.isEmpty())
        return s;
    if (QString s = side(u"To", w.to, l.to, w.policy.to, l.policy.to); !s.isEmpty())
        return s;
    if (pw != pl) {
        const QString mine =
            pl < 0 ? QStringLiteral("no source range") : QStringLiteral("source range /%1").arg(pl);
        return QStringLiteral("%1 is less specific than source range /%2 of %3")
            .arg(mine)
            .arg(pw)
            .arg(winner);
    }
    if (w.policy.updatedAt != l.policy.updatedAt) {
        return QStringLiteral("equally specific; %1 changed later (%2, this one %3)")
            .arg(winner, PolicyTime::toIso(w.policy.updatedAt),
                 PolicyTime::toIso(l.policy.updatedAt));
    }
    return QStringLiteral("equally specific and changed at the same time; %1 has the lower id")
        .arg(winner);
}

QString PolicyExplainer::summaryText() const
{
    const PolicyDecision &d = m_out.decision;
    const auto groupName = [this](qint64 id) {
        const int g = m_index.m_groups.indexOf(id);
        return g < 0 ? QString::number(id) : m_index.m_groups.group(g).name;
    };
    QString text;
    switch (d.reason) {
    case DecisionReason::BlockedSender:
        text = QStringLiteral("reject: sender in ") + groupName(d.groupId);
        break;
    case DecisionReason::PermittedSender:
        text = QStringLiteral("bypass: sender in ") + groupName(d.groupId);
        break;
    case DecisionReason::AutoAllow:
        text = QStringLiteral("bypass: auto allow entry for this sender and recipient");
        break;
    case DecisionReason::Policy:
        for (const Compiled &c : m_index.m_compiled) {
            if (c.policy.id == d.policyId) {
                text = QStringLiteral("%1: policy %2 \"%3\"")
                           .arg(Policy::actionName(c.policy.action))
                           .arg(d.policyId)
                           .arg(c.policy.narrative);
            }
        }
        break;
    case DecisionReason::DefaultGreylist:
        text = QStringLiteral("greylist: no policy applies (the default)");
        break;
    }
    if (d.headerFromPending)
        text += QStringLiteral("; a header-From policy may change this at the end of DATA");
    return text;
}

} // namespace greygate
