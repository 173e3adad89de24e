// SPDX-License-Identifier: GPL-3.0-or-later
#include "TimedRelease.h"

#include "MailAddress.h"
#include "PolicySet.h"

#include <QRegularExpression>

namespace greygate {

namespace {

constexpr QLatin1StringView kPrefix("release ");

// The audit says what an admin did to a release, not that a policy changed.
void relabel(ChangeOutcome &outcome, const QString &what)
{
    for (PolicyChange &c : outcome.changes) {
        if (c.audit)
            c.audit->what = what;
    }
}

bool hasControl(QStringView text)
{
    for (QChar c : text) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return true;
    }
    return false;
}

Specifier address(const QString &value)
{
    return Specifier{SpecifierType::Address, value, false, 0};
}

Specifier domainOf(const QString &value)
{
    return Specifier{SpecifierType::Domain, value, false, 0};
}

} // namespace

QString TimedRelease::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Triplet:
        return QStringLiteral("triplet");
    case Kind::Sender:
        return QStringLiteral("sender");
    case Kind::Domain:
        return QStringLiteral("domain");
    case Kind::Expect:
        return QStringLiteral("expect");
    }
    return QString();
}

std::optional<TimedRelease::Kind> TimedRelease::kindFromName(QStringView name)
{
    for (Kind k : {Kind::Triplet, Kind::Sender, Kind::Domain, Kind::Expect}) {
        if (name == kindName(k))
            return k;
    }
    return std::nullopt;
}

std::optional<Policy> TimedRelease::toPolicy(Seconds now, QString *error) const
{
    const auto refuse = [error](const QString &field, const QString &why) {
        *error = QStringLiteral("params.") + field + u": " + why;
        return std::nullopt;
    };
    const QString reasonText = reason.trimmed();
    if (reasonText.isEmpty())
        return refuse(QStringLiteral("reason"),
                      QStringLiteral("say why (it goes to the audit log)"));
    if (reasonText.size() > kMaxReason || hasControl(reasonText))
        return refuse(QStringLiteral("reason"),
                      QStringLiteral("at most %1 characters, one line").arg(kMaxReason));
    if (until <= now)
        return refuse(QStringLiteral("until"), QStringLiteral("must be in the future"));
    if (until - now > kMaxDuration)
        return refuse(QStringLiteral("until"),
                      QStringLiteral("a release lasts at most 90 days; make a policy instead"));

    Policy p;
    p.narrative = kPrefix + kindName(kind) + u": " + reasonText;
    p.action = PolicyAction::Bypass;
    p.start = now;
    p.end = until;
    const QString s = MailAddress::normalise(sender);
    const QString r = MailAddress::normalise(recipient);
    QString d = MailAddress::normalise(domain);
    if (d.startsWith(u'@'))
        d.remove(0, 1); // "@example.com" as group members write it
    const auto checkAddress = [&](const QString &field, const QString &value) -> bool {
        if (value.isEmpty()) {
            *error = QStringLiteral("params.") + field + u": required";
            return false;
        }
        if (const QString why = MailAddress::addressProblem(value); !why.isEmpty()) {
            *error = QStringLiteral("params.") + field + u": " + why;
            return false;
        }
        return true;
    };
    const auto checkDomain = [&](const QString &value) -> bool {
        if (value.isEmpty()) {
            *error = QStringLiteral("params.domain: required");
            return false;
        }
        if (const QString why = MailAddress::domainProblem(value); !why.isEmpty()) {
            *error = QStringLiteral("params.domain: ") + why;
            return false;
        }
        return true;
    };
    switch (kind) {
    case Kind::Triplet: {
        if (!checkAddress(QStringLiteral("sender"), s) ||
            !checkAddress(QStringLiteral("recipient"), r))
            return std::nullopt;
        QString why;
        const std::optional<Cidr> range = Cidr::parse(QStringView(client), &why);
        if (!range)
            return refuse(QStringLiteral("client"), why);
        p.from = address(s);
        p.to = address(r);
        p.sourceRanges = {*range};
        break;
    }
    case Kind::Sender:
        if (!checkAddress(QStringLiteral("sender"), s))
            return std::nullopt;
        p.from = address(s);
        break;
    case Kind::Domain:
        if (!checkDomain(d))
            return std::nullopt;
        p.from = domainOf(d);
        break;
    case Kind::Expect:
        if (!checkAddress(QStringLiteral("recipient"), r))
            return std::nullopt;
        if (!d.isEmpty() && !s.isEmpty())
            return refuse(QStringLiteral("sender"), QStringLiteral("give a sender or a domain"));
        if (!d.isEmpty()) {
            if (!checkDomain(d))
                return std::nullopt;
            p.from = domainOf(d);
        } else {
            if (!checkAddress(QStringLiteral("sender"), s))
                return std::nullopt;
            p.from = address(s);
        }
        p.to = address(r);
        break;
    }
    return p;
}

std::optional<TimedRelease> TimedRelease::fromPolicy(const Policy &p)
{
    static const QRegularExpression narrative(
        QStringLiteral("^release (triplet|sender|domain|expect): (.*)$"),
        QRegularExpression::DotMatchesEverythingOption);
    if (p.action != PolicyAction::Bypass || !p.end)
        return std::nullopt;
    const QRegularExpressionMatch m = narrative.match(p.narrative);
    if (!m.hasMatch())
        return std::nullopt;
    TimedRelease r;
    r.kind = *kindFromName(m.capturedView(1));
    r.reason = m.captured(2);
    r.until = *p.end;
    r.policyId = p.id;
    r.version = p.version;
    r.who = p.updatedBy;
    r.createdAt = p.start.value_or(p.updatedAt);
    if (p.from.type == SpecifierType::Address)
        r.sender = p.from.value;
    else if (p.from.type == SpecifierType::Domain)
        r.domain = p.from.value;
    if (p.to.type == SpecifierType::Address)
        r.recipient = p.to.value;
    if (!p.sourceRanges.isEmpty())
        r.client = p.sourceRanges.first().toString();
    return r;
}

QList<TimedRelease> TimedRelease::list(const PolicySet &set, Seconds now, bool activeOnly)
{
    QList<TimedRelease> out;
    for (const Policy &p : set.document().policies) {
        std::optional<TimedRelease> r = fromPolicy(p);
        if (r && (!activeOnly || p.inForceAt(now)))
            out.append(std::move(*r));
    }
    std::sort(out.begin(), out.end(), [](const TimedRelease &a, const TimedRelease &b) {
        return a.until != b.until ? a.until < b.until : a.policyId < b.policyId;
    });
    return out;
}

ChangeOutcome TimedRelease::create(PolicySet &set, const TimedRelease &release, const QString &who,
                                   Seconds now)
{
    QString why;
    const std::optional<Policy> p = release.toPolicy(now, &why);
    if (!p) {
        ChangeOutcome out;
        out.code = ChangeError::Invalid;
        out.error = why;
        return out;
    }
    ChangeOutcome out = set.createPolicy(*p, who, now);
    relabel(out, QStringLiteral("release.create"));
    return out;
}

ChangeOutcome TimedRelease::revoke(PolicySet &set, qint64 policyId, const QString &who, Seconds now)
{
    const Policy *p = set.policy(policyId);
    if (!p || !fromPolicy(*p)) {
        ChangeOutcome out;
        out.code = ChangeError::NotFound;
        out.error = QStringLiteral("no release %1").arg(policyId);
        return out;
    }
    ChangeOutcome out = set.deletePolicy(policyId, p->version, who, now);
    relabel(out, QStringLiteral("release.revoke"));
    return out;
}

ChangeOutcome TimedRelease::expire(PolicySet &set, Seconds now)
{
    ChangeOutcome all;
    for (const TimedRelease &r : list(set, now, false)) {
        if (r.until > now)
            break; // sorted by end
        ChangeOutcome one = set.deletePolicy(r.policyId, r.version, kSystem, now);
        relabel(one, QStringLiteral("release.expire"));
        all.changes.append(one.changes);
    }
    return all;
}

} // namespace greygate
