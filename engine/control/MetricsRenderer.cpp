// SPDX-License-Identifier: GPL-3.0-or-later
#include "MetricsRenderer.h"

#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "policyd/PolicyServer.h"
#include "util/Version.h"

namespace greygate {

namespace {

// A label value escaped as the text format wants: backslash, double quote, newline.
QByteArray labelValue(QByteArrayView v)
{
    QByteArray out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"')
            out.append('\\').append(c);
        else if (c == '\n')
            out.append("\\n");
        else
            out.append(c);
    }
    return out;
}

class Writer
{
public:
    void family(const char *name, const char *type, const char *help)
    {
        m_out += QByteArrayLiteral("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' +
                 type + '\n';
    }
    void sample(const char *name, quint64 value, QByteArrayView labels = {})
    {
        m_out += name;
        if (!labels.isEmpty())
            m_out += '{' + labels.toByteArray() + '}';
        m_out += ' ' + QByteArray::number(value) + '\n';
    }
    void sample(const char *name, double value)
    {
        m_out += QByteArray(name) + ' ' + QByteArray::number(value, 'g', 12) + '\n';
    }
    QByteArray take() { return std::move(m_out); }

private:
    QByteArray m_out;
};

} // namespace

QByteArray MetricsRenderer::render(const Inputs &in)
{
    Writer w;
    w.family("greygate_up", "gauge", "1 while greygated is serving.");
    w.sample("greygate_up", quint64(1));
    w.family("greygate_build_info", "gauge", "The running version, as a label.");
    w.sample("greygate_build_info", quint64(1),
             QByteArray("version=\"" + labelValue(versionString()) + '"'));
    w.family("greygate_uptime_seconds", "gauge", "Seconds since greygated started.");
    w.sample("greygate_uptime_seconds", quint64(std::max<qint64>(in.uptimeSeconds, 0)));

    if (in.handler) {
        const GreylistPolicyHandler::Stats &s = in.handler->stats();
        w.family("greygate_decisions_total", "counter", "RCPT decisions by verdict.");
        const std::pair<const char *, quint64> verdicts[] = {
            {"deferred", s.deferred}, {"passed", s.passedNow},  {"accepted", s.accepted},
            {"blocked", s.rejected},  {"bypassed", s.bypassed}, {"outbound", s.outbound},
        };
        for (const auto &[verdict, count] : verdicts)
            w.sample("greygate_decisions_total", count,
                     QByteArray(QByteArrayLiteral("verdict=\"") + verdict + '"'));
        w.family("greygate_failed_to_retry_total", "counter",
                 "Deferred triplets whose retry window closed without a retry.");
        w.sample("greygate_failed_to_retry_total", s.failedToRetry);
        w.family("greygate_store_commit_seconds", "summary",
                 "Time spent committing decisions and changes to the store.");
        w.sample("greygate_store_commit_seconds_sum", double(s.storeCommitNanoseconds) / 1e9);
        w.sample("greygate_store_commit_seconds_count", s.storeCommits);
        w.family("greygate_store_commit_failures_total", "counter", "Store commits that failed.");
        w.sample("greygate_store_commit_failures_total", s.failedCommits);
    }
    if (in.engine) {
        TripletQuery q;
        q.state = TripletQuery::State::Deferred;
        q.limit = 0;
        const qsizetype deferred = in.engine->query(q).total;
        const qsizetype all = in.engine->tripletCount();
        w.family("greygate_queue_deferred", "gauge", "Triplets greylisted, waiting for a retry.");
        w.sample("greygate_queue_deferred", quint64(deferred));
        w.family("greygate_queue_passed", "gauge", "Triplets that passed and are remembered.");
        w.sample("greygate_queue_passed", quint64(std::max<qsizetype>(all - deferred, 0)));
        w.family("greygate_whitelisted_clients", "gauge", "Clients tracked for auto-whitelisting.");
        w.sample("greygate_whitelisted_clients", quint64(in.engine->clientCount()));
    }
    if (in.server) {
        const PolicyServer::Stats &s = in.server->stats();
        w.family("greygate_policy_connections_total", "counter", "Postfix connections accepted.");
        w.sample("greygate_policy_connections_total", s.connections);
        w.family("greygate_policy_requests_total", "counter", "Policy requests decided.");
        w.sample("greygate_policy_requests_total", s.requests);
        w.family("greygate_policy_protocol_errors_total", "counter",
                 "Policy connections closed for malformed input.");
        w.sample("greygate_policy_protocol_errors_total", s.protocolErrors);
        w.family("greygate_policy_timeouts_total", "counter", "Request or idle timeouts.");
        w.sample("greygate_policy_timeouts_total", s.timeouts);
    }
    if (in.smtp) {
        const SmtpFigures &s = *in.smtp;
        w.family("greygate_smtp_sessions_open", "gauge", "SMTP proxy sessions open now.");
        w.sample("greygate_smtp_sessions_open", s.sessionsOpen);
        w.family("greygate_smtp_sessions_total", "counter", "SMTP proxy sessions accepted.");
        w.sample("greygate_smtp_sessions_total", s.sessionsTotal);
        w.family("greygate_smtp_refused_total", "counter",
                 "SMTP connections refused with 421 by a connection limit.");
        w.sample("greygate_smtp_refused_total", s.refusedConnections, "limit=\"connections\"");
        w.sample("greygate_smtp_refused_total", s.refusedPerClient, "limit=\"per_client\"");
        w.sample("greygate_smtp_refused_total", s.refusedRate, "limit=\"rate\"");
        w.family("greygate_smtp_recipients_total", "counter",
                 "SMTP recipients refused at RCPT by the engine (451 deferred, 550 rejected).");
        w.sample("greygate_smtp_recipients_total", s.recipientsDeferred, "verdict=\"deferred\"");
        w.sample("greygate_smtp_recipients_total", s.recipientsRejected, "verdict=\"rejected\"");
        w.family("greygate_smtp_messages_total", "counter",
                 "SMTP messages at the end of DATA: relayed (the backend's final reply was "
                 "positive) or refused.");
        w.sample("greygate_smtp_messages_total", s.messagesRelayed, "result=\"relayed\"");
        w.sample("greygate_smtp_messages_total", s.messagesRefused, "result=\"refused\"");
        w.family("greygate_smtp_backend_failures_total", "counter",
                 "Backend connections that failed, were refused or were lost mid-transaction.");
        w.sample("greygate_smtp_backend_failures_total", s.backendFailures);
        if (s.backendPool) {
            w.family("greygate_smtp_backend_pool_idle", "gauge",
                     "Idle backend connections kept for the next SMTP sessions.");
            w.sample("greygate_smtp_backend_pool_idle", s.poolIdle);
            w.family("greygate_smtp_backend_pool_opened_total", "counter",
                     "Backend connections opened (by sessions and ahead of need by the pool).");
            w.sample("greygate_smtp_backend_pool_opened_total", s.poolOpened);
            w.family("greygate_smtp_backend_pool_reused_total", "counter",
                     "Idle pooled backend connections handed to an SMTP session.");
            w.sample("greygate_smtp_backend_pool_reused_total", s.poolReused);
            w.family("greygate_smtp_backend_pool_closed_total", "counter",
                     "Backend connections the pool closed (not clean, pool full, idle too long, "
                     "lost).");
            w.sample("greygate_smtp_backend_pool_closed_total", s.poolClosed);
        }
    }
    if (in.events) {
        w.family("greygate_events_last_id", "gauge", "The id of the last event recorded.");
        w.sample("greygate_events_last_id", in.events->lastId());
    }
    return w.take();
}

} // namespace greygate
