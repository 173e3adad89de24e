// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyIndex.h"

namespace greygate {

// Builds a PolicyExplanation: the slow, wordy twin of PolicyIndex::evaluate(). It visits
// every policy (no early exit), orders the matches with the same comparison the index
// sorts by, and says in words why each candidate lost and each other policy did not match.
class PolicyExplainer
{
public:
    PolicyExplainer(const PolicyIndex &index, const PolicyQuery &query,
                    const AutoAllowTable *autoAllow, int maxNotMatched);
    PolicyExplanation run();

private:
    using Compiled = PolicyIndex::Compiled;

    void addBypasses();
    QString describe(const Specifier &s) const;
    QString senderText(const Policy &p) const;
    QString mismatchText(const Compiled &c, PolicyIndex::Mismatch why) const;
    QString lostText(const Compiled &w, int pw, const Compiled &l, int pl) const;
    QString summaryText() const;

    const PolicyIndex &m_index;
    const PolicyQuery &m_query;
    const AutoAllowTable *m_autoAllow;
    int m_maxNotMatched;
    PolicyIndex::Facts m_facts;
    PolicyExplanation m_out;
};

} // namespace greygate
