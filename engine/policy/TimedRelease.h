// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Policy.h"
#include "PolicyChange.h"

#include <QList>
#include <optional>

namespace greygate {

class PolicySet;

// A timed, audited release (docs/api.md, "Timed releases"): a bypass policy with an end time,
// so it is stored, replicated (SQLite and Redis alike), explained and precedence-ordered like
// every other policy, and out of force by itself at its end (Policy::inForceAt). What makes a
// policy a release is its narrative, "release <kind>: <reason>", which also carries the reason
// into the audit log; who made it and when are the policy's updatedBy/updatedAt, its end is
// "until". The audit entries say release.create, release.revoke and release.expire.
//
//   triplet  From address sender, To address recipient, source range the client's network
//   sender   From address sender, To everyone
//   domain   From domain, To everyone
//   expect   From address or domain, To address recipient ("expect mail from X to Y")
class TimedRelease
{
public:
    enum class Kind : quint8
    {
        Triplet,
        Sender,
        Domain,
        Expect,
    };

    static constexpr qsizetype kMaxReason = 500;
    static constexpr Seconds kMaxDuration = 90 * 86400; // longer: make a real policy
    static inline const QString kSystem = QStringLiteral("greygated (expiry)");

    Kind kind = Kind::Sender;
    QString client;    // Triplet: the client network as the queue lists it ("192.0.2.0/24")
    QString sender;    // Triplet, Sender, Expect (or domain for Expect)
    QString domain;    // Domain; Expect when the sender is "@domain" or a bare domain
    QString recipient; // Triplet, Expect
    QString reason;
    Seconds until = 0;
    // From the policy, for listing:
    qint64 policyId = 0;
    quint32 version = 0;
    QString who;
    Seconds createdAt = 0;

    static QString kindName(Kind kind); // "triplet", "sender", "domain", "expect"
    static std::optional<Kind> kindFromName(QStringView name);

    // The bypass policy of this release, made at `now`; nullopt with *error (naming the field
    // as "params.<field>") when a field is missing or malformed or until is not in the future.
    std::optional<Policy> toPolicy(Seconds now, QString *error) const;
    // The release a policy is, or nullopt for any other policy.
    static std::optional<TimedRelease> fromPolicy(const Policy &policy);

    // The releases in the set, those still in force at `now` (active) or all of them.
    static QList<TimedRelease> list(const PolicySet &set, Seconds now, bool activeOnly);

    // Creates the release's policy, audited as release.create.
    static ChangeOutcome create(PolicySet &set, const TimedRelease &release, const QString &who,
                                Seconds now);
    // Ends a release early (release.revoke); NotFound for a policy that is not a release.
    static ChangeOutcome revoke(PolicySet &set, qint64 policyId, const QString &who, Seconds now);
    // Deletes every release whose end has come (release.expire, by kSystem). The release was
    // already out of force at its end; this keeps the policy table from filling with them.
    static ChangeOutcome expire(PolicySet &set, Seconds now);
};

} // namespace greygate
