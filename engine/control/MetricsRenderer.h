// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

class EventLog;
class GreylistEngine;
class GreylistPolicyHandler;
class PolicyServer;

// The daemon's figures in the Prometheus text format 0.0.4 (GET /metrics):
//   greygate_up, greygate_build_info{version}, greygate_uptime_seconds
//   greygate_decisions_total{verdict=deferred|passed|accepted|blocked|bypassed|outbound}
//   greygate_failed_to_retry_total
//   greygate_queue_deferred, greygate_queue_passed, greygate_whitelisted_clients
//   greygate_store_commit_seconds (summary: _sum, _count), greygate_store_commit_failures_total
//   greygate_policy_connections_total, greygate_policy_requests_total,
//   greygate_policy_protocol_errors_total, greygate_policy_timeouts_total
//   greygate_events_last_id
// Counters come from the handler and the policy server (since the daemon started). The
// queue split walks every triplet once (GreylistEngine::query): tens of milliseconds for a
// million triplets, on a scrape every 15 s or more.
class MetricsRenderer
{
public:
    struct Inputs
    {
        const GreylistEngine *engine = nullptr;
        const GreylistPolicyHandler *handler = nullptr;
        const PolicyServer *server = nullptr; // optional
        const EventLog *events = nullptr;     // optional
        qint64 uptimeSeconds = 0;
    };

    static QByteArray render(const Inputs &in);
};

} // namespace greygate
