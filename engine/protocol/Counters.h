// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ProtocolError.h"

#include <QJsonObject>
#include <optional>

namespace greygate::protocol {

// The dashboard's figures (DESIGN.md §6) for one minute, a range or since start-up.
struct Counters
{
    quint64 attempts = 0;      // every RCPT decided
    quint64 deferred = 0;      // greylisted: 451 / DEFER_IF_PERMIT
    quint64 passed = 0;        // accepted by greylisting (retried in time, known, whitelisted)
    quint64 bypassed = 0;      // not greylisted: Permitted Senders, Auto Allow, policy, outbound
    quint64 blocked = 0;       // Blocked Senders: 550
    quint64 failedToRetry = 0; // "Sender Failed to Retry"

    Counters &operator+=(const Counters &o);
    bool isZero() const { return *this == Counters{}; }

    QJsonObject toJson() const;
    static std::optional<Counters> fromJson(const QJsonObject &o, const QString &path,
                                            ProtocolError *error);

    friend bool operator==(const Counters &, const Counters &) = default;
};

} // namespace greygate::protocol
