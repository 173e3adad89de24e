// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Event.h"

#include <QHash>
#include <array>

namespace greygate {

// Per shadow policy, how many attempts it would have greylisted or bypassed: over the last
// hour (per-minute buckets, so the figure slides) and since the daemon started. Bounded:
// at most kMaxPolicies policies are tracked (the validator's limit on policies).
class ShadowTally
{
public:
    static constexpr qsizetype kMaxPolicies = 10'000;

    struct Counts
    {
        quint64 greylist = 0;
        quint64 bypass = 0;
        friend bool operator==(const Counts &, const Counts &) = default;
    };

    void count(const Event &attempt); // an Attempt with a shadow effect
    Counts lastHour(qint64 policyId, Seconds now) const;
    Counts total(qint64 policyId) const;
    QList<qint64> policies() const;

private:
    struct Minute
    {
        Seconds minute = -1;
        quint32 greylist = 0;
        quint32 bypass = 0;
    };
    struct PerPolicy
    {
        std::array<Minute, 60> minutes;
        Counts total;
    };
    QHash<qint64, PerPolicy> m_policies;
};

} // namespace greygate
