// SPDX-License-Identifier: GPL-3.0-or-later
#include "ShadowTally.h"

namespace greygate {

void ShadowTally::count(const Event &e)
{
    if (e.type != EventType::Attempt || e.shadow == ShadowEffect::None)
        return;
    auto it = m_policies.find(e.shadowPolicy);
    if (it == m_policies.end()) {
        if (m_policies.size() >= kMaxPolicies)
            return;
        it = m_policies.insert(e.shadowPolicy, PerPolicy{});
    }
    const Seconds minute = e.time / 60;
    Minute &slot = it->minutes[size_t(minute % 60)];
    if (slot.minute != minute)
        slot = Minute{minute, 0, 0};
    const bool greylist = e.shadow == ShadowEffect::Greylist;
    (greylist ? slot.greylist : slot.bypass) += 1;
    (greylist ? it->total.greylist : it->total.bypass) += 1;
}

ShadowTally::Counts ShadowTally::lastHour(qint64 policyId, Seconds now) const
{
    Counts out;
    const auto it = m_policies.constFind(policyId);
    if (it == m_policies.cend())
        return out;
    const Seconds current = now / 60;
    for (const Minute &m : it->minutes) {
        if (m.minute > current - 60 && m.minute <= current) {
            out.greylist += m.greylist;
            out.bypass += m.bypass;
        }
    }
    return out;
}

ShadowTally::Counts ShadowTally::total(qint64 policyId) const
{
    return m_policies.value(policyId).total;
}

QList<qint64> ShadowTally::policies() const
{
    return m_policies.keys();
}

} // namespace greygate
