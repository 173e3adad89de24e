// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "GroupIndex.h"
#include "InternalMatcher.h"
#include "PolicyDecision.h"
#include "PolicyDocument.h"
#include "PolicyExplanation.h"
#include "PolicyQuery.h"

#include <QSet>
#include <vector>

namespace greygate {

class AutoAllowTable;

// The policies, groups and internal configuration of one PolicyDocument compiled for the
// hot path: policies pre-sorted by specificity (docs/policies.md, "Precedence") so the
// first match decides, group members in hash tables, networks in a CidrSet. Immutable once
// built; rebuilt (off the hot path) whenever an admin changes something, and shared
// between threads as a const object.
class PolicyIndex
{
public:
    PolicyIndex() = default; // no policies, no groups: greylist everyone
    explicit PolicyIndex(const PolicyDocument &document);

    // Blocked Senders -> Reject; Permitted Senders, then Auto Allow -> Bypass; then the
    // most specific policy in force that matches; none -> Greylist. No allocation for
    // typical addresses; a few microseconds with hundreds of policies.
    PolicyDecision evaluate(const PolicyQuery &query,
                            const AutoAllowTable *autoAllow = nullptr) const;
    // The same decision with its reasons. maxNotMatched bounds the list of policies that did
    // not match (the rest is counted as truncated).
    PolicyExplanation explain(const PolicyQuery &query, const AutoAllowTable *autoAllow = nullptr,
                              int maxNotMatched = 200) const;
    // The policy stage alone (groups and auto allow not consulted): the winning policy.
    const Policy *winningPolicy(const PolicyQuery &query) const;

    // Shadow policies (PolicyMode::Shadow) never decide: evaluate() and winningPolicy() pass
    // over them. This is the decision the index would make with them enforced, when one of
    // them is what decides it (the policy that would have acted and its outcome); nullopt
    // otherwise, and at once when the index has no shadow policy.
    std::optional<PolicyDecision> shadowDecision(const PolicyQuery &query,
                                                 const AutoAllowTable *autoAllow = nullptr) const;
    bool hasShadowPolicies() const { return !m_shadowIds.isEmpty(); }

    // Policy ids in precedence order, before the per-query part (the matched source range).
    QList<qint64> precedenceOrder() const;
    const InternalMatcher &internal() const { return m_internal; }
    const GroupIndex &groups() const { return m_groups; }
    qsizetype policyCount() const { return qsizetype(m_compiled.size()); }

    // Specificity of one side of a policy (docs/policies.md): higher is more specific.
    static int rankOf(const Specifier &specifier);

private:
    friend class PolicyExplainer;

    enum class Tri : quint8
    {
        No,
        Yes,
        Unknown, // depends on the header From, which is not known yet
    };
    enum class Mismatch : quint8
    {
        None,
        Disabled,
        NotYetInForce,
        Ended,
        SourceRange,
        From,
        To,
        HeaderFromUnknown,
    };
    struct Side
    {
        SpecifierType type = SpecifierType::Everyone;
        QByteArray value;
        bool subdomains = false;
        int groupIndex = -1;
        int rank = 0;
        int labels = 0;
    };
    struct Compiled
    {
        Policy policy;
        Side from;
        Side to;
        int maxPrefix = -1; // longest source range, -1 without ranges
    };
    struct Party // one address of the query with what is known about it
    {
        explicit Party(QByteArrayView raw)
            : address(raw)
        {}
        MailAddress::Lowered address;
        bool internal = false;
        GroupIndex::Bits groups;
    };
    struct Facts
    {
        Facts(const PolicyIndex &index, const PolicyQuery &query);
        const PolicyQuery &query;
        std::optional<IpAddress> client;
        Party sender;
        Party recipient;
        Party header;
        GroupIndex::Bits clientGroups;
    };
    struct Match
    {
        Mismatch why = Mismatch::None;
        bool reversed = false;
        int prefix = -1;
    };

    bool sideMatches(const Side &side, const Party &party, const GroupIndex::Bits *client) const;
    Tri senderSide(const Compiled &c, const Side &side, const Facts &f, bool withClient) const;
    Match match(const Compiled &c, const Facts &f) const;
    using Candidates = QVarLengthArray<int, 32>;
    void addCandidates(const Party &party, Candidates *out) const;
    // The winner of the policy stage, or nullptr; *pending: a header-From policy ranked above.
    // Shadow policies take part only with withShadow.
    const Compiled *decide(const Facts &f, bool *pending, bool withShadow = false) const;
    PolicyDecision evaluate(const Facts &f, const AutoAllowTable *autoAllow, bool withShadow) const;
    // Blocked/Permitted group holding the sender side; kind is set to which.
    int bypassGroup(const Facts &f, GroupKind kind) const;
    // Full precedence order including the per-query source prefix: true if a before b.
    static bool before(const Compiled &a, int prefixA, const Compiled &b, int prefixB);

    std::vector<Compiled> m_compiled;
    std::vector<int> m_scan;                       // positions in m_compiled, walked
    QHash<QByteArray, QList<int>> m_keyAddress;    // positions by address
    QHash<QByteArray, QList<int>> m_keyDomain;     // by exact domain
    QHash<QByteArray, QList<int>> m_keyDomainTree; // by domain, for it and its subdomains
    GroupIndex m_groups;
    InternalMatcher m_internal;
    QSet<qint64> m_shadowIds;
};

} // namespace greygate
