// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyIndex.h"

#include "AutoAllowTable.h"
#include "PolicyExplainer.h"

#include <algorithm>
#include <bit>

namespace greygate {

namespace {

int firstCommon(const GroupIndex::Bits &a, const GroupIndex::Bits &b)
{
    const qsizetype n = std::min(a.size(), b.size());
    for (qsizetype w = 0; w < n; ++w) {
        const quint64 x = a[w] & b[w];
        if (x)
            return int(w * 64 + std::countr_zero(x));
    }
    return -1;
}

} // namespace

int PolicyIndex::rankOf(const Specifier &specifier)
{
    switch (specifier.type) {
    case SpecifierType::Address:
        return 5;
    case SpecifierType::Domain:
        return specifier.includeSubdomains ? 3 : 4;
    case SpecifierType::Group:
        return 2;
    case SpecifierType::Internal:
    case SpecifierType::External:
        return 1;
    case SpecifierType::Everyone:
        return 0;
    }
    return 0;
}

PolicyIndex::PolicyIndex(const PolicyDocument &document)
    : m_groups(document.groups)
    , m_internal(document.internal)
{
    const auto compileSide = [this](const Specifier &s) {
        Side side;
        side.type = s.type;
        side.value = s.value.toUtf8();
        side.subdomains = s.includeSubdomains;
        side.groupIndex = s.type == SpecifierType::Group ? m_groups.indexOf(s.groupId) : -1;
        side.rank = rankOf(s);
        side.labels = s.type == SpecifierType::Domain ? MailAddress::labelCount(s.value) : 0;
        return side;
    };
    m_compiled.reserve(document.policies.size());
    for (const Policy &p : document.policies) {
        Compiled c;
        c.policy = p;
        c.from = compileSide(p.from);
        c.to = compileSide(p.to);
        for (const Cidr &r : p.sourceRanges)
            c.maxPrefix = std::max(c.maxPrefix, r.prefix);
        if (p.mode == PolicyMode::Shadow)
            m_shadowIds.insert(p.id);
        m_compiled.push_back(std::move(c));
    }
    std::sort(m_compiled.begin(), m_compiled.end(), [](const Compiled &a, const Compiled &b) {
        return before(a, a.maxPrefix, b, b.maxPrefix);
    });
    // Each policy is found through the value of its narrowest side (From if it names an
    // address or a domain, otherwise To); policies with no such side, and those matched on
    // the header From (which must be visited to tell "pending"), are walked.
    for (size_t pos = 0; pos < m_compiled.size(); ++pos) {
        const Compiled &c = m_compiled[pos];
        const auto keyed = [](const Side &side) {
            return side.type == SpecifierType::Address || side.type == SpecifierType::Domain;
        };
        const Side *key = keyed(c.from) ? &c.from : keyed(c.to) ? &c.to : nullptr;
        if (!key || c.policy.fromBasis != AddressBasis::Envelope)
            m_scan.push_back(int(pos));
        else if (key->type == SpecifierType::Address)
            m_keyAddress[key->value].append(int(pos));
        else
            (key->subdomains ? m_keyDomainTree : m_keyDomain)[key->value].append(int(pos));
    }
}

bool PolicyIndex::before(const Compiled &a, int prefixA, const Compiled &b, int prefixB)
{
    // Larger is more specific for every criterion but the id, where the lower one wins.
    return std::tuple(a.from.rank, a.from.labels, a.to.rank, a.to.labels, prefixA,
                      a.policy.updatedAt,
                      -a.policy.id) > std::tuple(b.from.rank, b.from.labels, b.to.rank, b.to.labels,
                                                 prefixB, b.policy.updatedAt, -b.policy.id);
}

PolicyIndex::Facts::Facts(const PolicyIndex &index, const PolicyQuery &q)
    : query(q)
    , client(IpAddress::parse(q.clientAddress))
    , sender(q.sender)
    , recipient(q.recipient)
    , header(q.headerFromKnown ? q.headerFrom : QByteArrayView())
{
    const GroupIndex &groups = index.m_groups;
    for (Party *p : {&sender, &recipient, &header}) {
        p->internal = p->address.valid() && !p->address.isNull() &&
                      index.m_internal.isInternalDomain(p->address.domain());
        groups.resetBits(&p->groups);
        if (groups.count() > 0)
            groups.addGroupsOfAddress(p->address, &p->groups);
    }
    groups.resetBits(&clientGroups);
    if (client && groups.count() > 0)
        groups.addGroupsOfClient(*client, &clientGroups);
}

bool PolicyIndex::sideMatches(const Side &side, const Party &party,
                              const GroupIndex::Bits *client) const
{
    const MailAddress::Lowered &a = party.address;
    const bool usable = a.valid() && !a.isNull();
    switch (side.type) {
    case SpecifierType::Everyone:
        return true;
    case SpecifierType::Internal:
        return party.internal;
    case SpecifierType::External:
        return !party.internal;
    case SpecifierType::Domain:
        return usable && (side.subdomains ? MailAddress::domainWithin(a.domain(), side.value)
                                          : a.domain() == side.value);
    case SpecifierType::Address:
        return usable && a.address() == side.value;
    case SpecifierType::Group:
        return GroupIndex::test(party.groups, side.groupIndex) ||
               (client && GroupIndex::test(*client, side.groupIndex));
    }
    return false;
}

// The sender role under the policy's address basis: envelope, header From, or either.
PolicyIndex::Tri PolicyIndex::senderSide(const Compiled &c, const Side &side, const Facts &f,
                                         bool withClient) const
{
    const GroupIndex::Bits *client = withClient ? &f.clientGroups : nullptr;
    const bool known = f.query.headerFromKnown;
    switch (c.policy.fromBasis) {
    case AddressBasis::Envelope:
        return sideMatches(side, f.sender, client) ? Tri::Yes : Tri::No;
    case AddressBasis::Header:
        if (!known)
            return Tri::Unknown;
        return sideMatches(side, f.header, client) ? Tri::Yes : Tri::No;
    case AddressBasis::Both:
        if (sideMatches(side, f.sender, client))
            return Tri::Yes;
        if (!known)
            return Tri::Unknown;
        return sideMatches(side, f.header, client) ? Tri::Yes : Tri::No;
    }
    return Tri::No;
}

PolicyIndex::Match PolicyIndex::match(const Compiled &c, const Facts &f) const
{
    Match m;
    const Policy &p = c.policy;
    if (!p.enabled)
        return {Mismatch::Disabled};
    if (p.start && f.query.now < *p.start)
        return {Mismatch::NotYetInForce};
    if (p.end && f.query.now >= *p.end)
        return {Mismatch::Ended};
    if (!p.sourceRanges.isEmpty()) {
        if (!f.client)
            return {Mismatch::SourceRange};
        for (const Cidr &r : p.sourceRanges) {
            if (r.prefix > m.prefix && r.contains(*f.client))
                m.prefix = r.prefix;
        }
        if (m.prefix < 0)
            return {Mismatch::SourceRange};
    }
    // Direct: From is the sender side, To the recipient.
    const Tri from = senderSide(c, c.from, f, true);
    const Tri to =
        from == Tri::No ? Tri::No : (sideMatches(c.to, f.recipient, nullptr) ? Tri::Yes : Tri::No);
    if (from == Tri::Yes && to == Tri::Yes)
        return m;
    Mismatch direct = from == Tri::No ? Mismatch::From
                      : to == Tri::No ? Mismatch::To
                                      : Mismatch::HeaderFromUnknown;
    if (p.bidirectional) {
        // Reversed: the policy's From is the recipient, its To the sender side. Network
        // members stay with the client, which is always the sending side.
        const bool fromR = sideMatches(c.from, f.recipient, nullptr);
        const Tri toR = fromR ? senderSide(c, c.to, f, false) : Tri::No;
        if (toR == Tri::Yes) {
            m.reversed = true;
            return m;
        }
        if (toR == Tri::Unknown)
            direct = Mismatch::HeaderFromUnknown;
    }
    m.why = direct;
    return m;
}

void PolicyIndex::addCandidates(const Party &party, Candidates *out) const
{
    const MailAddress::Lowered &a = party.address;
    if (!a.valid() || a.isNull())
        return;
    const auto add = [out](const QHash<QByteArray, QList<int>> &table, const QByteArray &key) {
        const auto it = table.constFind(key);
        if (it != table.cend())
            out->append(it->constData(), it->size());
    };
    if (!m_keyAddress.isEmpty())
        add(m_keyAddress, a.addressKey());
    const QByteArrayView domain = a.domain();
    if (domain.isEmpty())
        return;
    if (!m_keyDomain.isEmpty())
        add(m_keyDomain, a.domainKey());
    if (m_keyDomainTree.isEmpty())
        return;
    add(m_keyDomainTree, a.domainKey());
    for (qsizetype dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
        const QByteArrayView parent = domain.sliced(dot + 1);
        add(m_keyDomainTree, QByteArray::fromRawData(parent.data(), parent.size()));
    }
}

const PolicyIndex::Compiled *PolicyIndex::decide(const Facts &f, bool *pending,
                                                 bool withShadow) const
{
    // Keyed policies are found through hash tables by the query's addresses (all of them:
    // a bi-directional policy matches with the roles swapped); the rest are walked. Both
    // lists are in precedence order and are merged, so the first match still decides.
    Candidates positions;
    if (!m_keyAddress.isEmpty() || !m_keyDomain.isEmpty() || !m_keyDomainTree.isEmpty()) {
        addCandidates(f.sender, &positions);
        addCandidates(f.recipient, &positions);
        if (f.query.headerFromKnown)
            addCandidates(f.header, &positions);
        std::sort(positions.begin(), positions.end());
        positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
    }
    const Compiled *best = nullptr;
    int bestPrefix = -1;
    // Returns false once nothing after `c` can win any more.
    const auto visit = [&](const Compiled &c) {
        if (!withShadow && c.policy.mode == PolicyMode::Shadow)
            return true;
        if (best) {
            // Only policies equal in the static part and able to match a longer (or, when
            // the winner matched below its own longest range, equal) prefix can still win.
            if (std::tie(c.from.rank, c.from.labels, c.to.rank, c.to.labels) !=
                std::tie(best->from.rank, best->from.labels, best->to.rank, best->to.labels))
                return false;
            if (c.maxPrefix < bestPrefix ||
                (c.maxPrefix == bestPrefix && bestPrefix == best->maxPrefix))
                return false;
        }
        const Match m = match(c, f);
        if (m.why == Mismatch::HeaderFromUnknown)
            *pending = true;
        if (m.why == Mismatch::None && (!best || before(c, m.prefix, *best, bestPrefix))) {
            best = &c;
            bestPrefix = m.prefix;
        }
        return true;
    };
    qsizetype k = 0;
    size_t w = 0;
    while (k < positions.size() || w < m_scan.size()) {
        const bool fromKeyed =
            w >= m_scan.size() || (k < positions.size() && positions[k] < m_scan[w]);
        const int pos = fromKeyed ? positions[k++] : m_scan[w++];
        if (!visit(m_compiled[size_t(pos)]))
            return best;
    }
    return best;
}

int PolicyIndex::bypassGroup(const Facts &f, GroupKind kind) const
{
    const GroupIndex::Bits &mask = m_groups.kindBits(kind);
    int g = firstCommon(f.sender.groups, mask);
    if (g < 0)
        g = firstCommon(f.clientGroups, mask);
    if (g < 0 && f.query.headerFromKnown)
        g = firstCommon(f.header.groups, mask);
    return g;
}

PolicyDecision PolicyIndex::evaluate(const PolicyQuery &query,
                                     const AutoAllowTable *autoAllow) const
{
    return evaluate(Facts(*this, query), autoAllow, false);
}

std::optional<PolicyDecision> PolicyIndex::shadowDecision(const PolicyQuery &query,
                                                          const AutoAllowTable *autoAllow) const
{
    if (m_shadowIds.isEmpty())
        return std::nullopt;
    const PolicyDecision d = evaluate(Facts(*this, query), autoAllow, true);
    if (d.reason != DecisionReason::Policy || !m_shadowIds.contains(d.policyId))
        return std::nullopt;
    return d;
}

PolicyDecision PolicyIndex::evaluate(const Facts &f, const AutoAllowTable *autoAllow,
                                     bool withShadow) const
{
    const PolicyQuery &query = f.query;
    PolicyDecision d;
    if (m_groups.count() > 0) {
        if (const int g = bypassGroup(f, GroupKind::Blocked); g >= 0) {
            d.outcome = PolicyOutcome::Reject;
            d.reason = DecisionReason::BlockedSender;
            d.groupId = m_groups.group(g).id;
            return d;
        }
        if (const int g = bypassGroup(f, GroupKind::Permitted); g >= 0) {
            d.outcome = PolicyOutcome::Bypass;
            d.reason = DecisionReason::PermittedSender;
            d.groupId = m_groups.group(g).id;
            return d;
        }
    }
    if (autoAllow && autoAllow->find(query.sender, query.recipient, query.now)) {
        d.outcome = PolicyOutcome::Bypass;
        d.reason = DecisionReason::AutoAllow;
        return d;
    }
    if (const Compiled *winner = decide(f, &d.headerFromPending, withShadow)) {
        d.reason = DecisionReason::Policy;
        d.policyId = winner->policy.id;
        d.outcome = winner->policy.action == PolicyAction::Bypass ? PolicyOutcome::Bypass
                                                                  : PolicyOutcome::Greylist;
    }
    return d;
}

const Policy *PolicyIndex::winningPolicy(const PolicyQuery &query) const
{
    const Facts f(*this, query);
    bool pending = false;
    const Compiled *winner = decide(f, &pending);
    return winner ? &winner->policy : nullptr;
}

PolicyExplanation PolicyIndex::explain(const PolicyQuery &query, const AutoAllowTable *autoAllow,
                                       int maxNotMatched) const
{
    return PolicyExplainer(*this, query, autoAllow, maxNotMatched).run();
}

QList<qint64> PolicyIndex::precedenceOrder() const
{
    QList<qint64> ids;
    ids.reserve(qsizetype(m_compiled.size()));
    for (const Compiled &c : m_compiled)
        ids.append(c.policy.id);
    return ids;
}

} // namespace greygate
