// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <optional>

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
//   with the SMTP proxy: greygate_smtp_sessions_open, greygate_smtp_sessions_total,
//   greygate_smtp_refused_total{limit=connections|per_client|rate},
//   greygate_smtp_recipients_total{verdict=deferred|rejected},
//   greygate_smtp_messages_total{result=relayed|refused}, greygate_smtp_backend_failures_total,
//   greygate_smtp_backend_pool_{idle,opened_total,reused_total,closed_total} (pool on)
// Counters come from the handler and the policy server (since the daemon started). The
// queue split walks every triplet once (GreylistEngine::query): tens of milliseconds for a
// million triplets, on a scrape every 15 s or more.
class MetricsRenderer
{
public:
    // The SMTP proxy's figures (SmtpServer::stats()), copied by the daemon: the control
    // layer does not link the proxy.
    struct SmtpFigures
    {
        quint64 sessionsOpen = 0;
        quint64 sessionsTotal = 0;
        quint64 refusedConnections = 0; // over the limit in all
        quint64 refusedPerClient = 0;
        quint64 refusedRate = 0;
        quint64 recipientsDeferred = 0;
        quint64 recipientsRejected = 0;
        quint64 messagesRelayed = 0;
        quint64 messagesRefused = 0;
        quint64 backendFailures = 0;
        // The backend connection pool (BackendPool::stats()), when it is on.
        bool backendPool = false;
        quint64 poolIdle = 0;   // idle connections kept now
        quint64 poolOpened = 0; // backend connections opened, by sessions and the pool
        quint64 poolReused = 0; // idle connections handed to a session
        quint64 poolClosed = 0; // given back or idle and closed (dirty, full, expired, lost)
    };

    struct Inputs
    {
        const GreylistEngine *engine = nullptr;
        const GreylistPolicyHandler *handler = nullptr;
        const PolicyServer *server = nullptr; // optional
        const EventLog *events = nullptr;     // optional
        std::optional<SmtpFigures> smtp;      // with --smtp-listen
        qint64 uptimeSeconds = 0;
    };

    static QByteArray render(const Inputs &in);
};

} // namespace greygate
