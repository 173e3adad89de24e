// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Counters.h"

namespace greygate::protocol {

// The "status" result: the proxy's state now and its counters since start-up.
struct Status
{
    qint64 time = 0; // the proxy's clock, seconds since the epoch
    qint64 uptimeSeconds = 0;
    qint64 triplets = 0; // held in the greylist (deferred and passed)
    qint64 clients = 0;  // auto-whitelisted client networks
    qint64 memoryBytes = 0;
    Counters totals; // since start-up
    qint64 lastEventId = 0;
    qint64 policyRevision = 0;
    qint64 policies = 0;
    qint64 groups = 0;
    qint64 autoAllow = 0;
    qint64 connections = 0; // control API connections, this one included
    QString storeHealth;    // as in Hello; empty: not told

    QJsonObject toJson() const;
    static std::optional<Status> fromJson(const QJsonObject &o, ProtocolError *error);
};

} // namespace greygate::protocol
