// SPDX-License-Identifier: GPL-3.0-or-later
#include "Counters.h"

#include "JsonFields.h"

namespace greygate::protocol {

Counters &Counters::operator+=(const Counters &o)
{
    attempts += o.attempts;
    deferred += o.deferred;
    passed += o.passed;
    bypassed += o.bypassed;
    blocked += o.blocked;
    failedToRetry += o.failedToRetry;
    return *this;
}

QJsonObject Counters::toJson() const
{
    return QJsonObject{{QStringLiteral("attempts"), qint64(attempts)},
                       {QStringLiteral("deferred"), qint64(deferred)},
                       {QStringLiteral("passed"), qint64(passed)},
                       {QStringLiteral("bypassed"), qint64(bypassed)},
                       {QStringLiteral("blocked"), qint64(blocked)},
                       {QStringLiteral("failedToRetry"), qint64(failedToRetry)}};
}

std::optional<Counters> Counters::fromJson(const QJsonObject &o, const QString &path,
                                           ProtocolError *error)
{
    JsonFields f(o, path);
    Counters c;
    const qint64 max = JsonFields::kMaxExactInteger;
    qint64 v[6] = {};
    f.onlyKnown({u"attempts", u"deferred", u"passed", u"bypassed", u"blocked", u"failedToRetry"});
    f.integer(u"attempts", &v[0], 0, max, true);
    f.integer(u"deferred", &v[1], 0, max, true);
    f.integer(u"passed", &v[2], 0, max, true);
    f.integer(u"bypassed", &v[3], 0, max, true);
    f.integer(u"blocked", &v[4], 0, max, true);
    f.integer(u"failedToRetry", &v[5], 0, max, true);
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    c.attempts = quint64(v[0]);
    c.deferred = quint64(v[1]);
    c.passed = quint64(v[2]);
    c.bypassed = quint64(v[3]);
    c.blocked = quint64(v[4]);
    c.failedToRetry = quint64(v[5]);
    return c;
}

} // namespace greygate::protocol
