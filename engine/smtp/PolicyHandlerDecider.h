// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpDecider.h"

#include <QPointer>
#include <QTimer>
#include <vector>

namespace greygate {

class Clock;
class EventLog;
class GreylistEngine;
class GreylistPolicyHandler;
class PolicyHandler;
struct PolicyRequest;

// SmtpDecider over the same engine as the policy server: each recipient becomes a Postfix
// policy request decided by `answering` (the daemon passes its DecisionRecorder, so proxy
// attempts reach the event log and the live view exactly as policy-server ones do), and the
// action is mapped to SMTP:
//   DEFER_IF_PERMIT [code ]text -> 451 4.7.1 (or the configured code) text
//   REJECT 5.7.1 text            -> 550 5.7.1 text
//   PREPEND X-Greylist: ...      -> accept, the header added to the message
//   DUNNO                        -> accept
// Decisions of one event-loop pass are committed together (group commit, as the policy
// server does) and answered only after the commit; a failed commit answers 451 4.3.0.
// With a handler that decides asynchronously (the Redis store), its decideAsync() is used and
// the answer is committed and handed on the same way.
// Before the header From is known, the policies are consulted read-only first: a recipient
// a header-From policy might decide is answered Pending, with nothing recorded yet.
class PolicyHandlerDecider final : public QObject, public SmtpDecider
{
    Q_OBJECT

public:
    PolicyHandlerDecider(PolicyHandler &answering, GreylistPolicyHandler &handler,
                         GreylistEngine &engine, const Clock &clock, QObject *parent = nullptr);

    void decide(const SmtpRecipientQuery &query, QObject *context, Callback done) override;

    // The event log `answering` records into: each decision's Attempt event then carries
    // source "smtp", the HELO name and the TLS flag (EventLog::setOrigin around the call).
    // Only on the synchronous path: on the asynchronous one (Redis) the handler is asked
    // directly and records nothing yet (docs/smtp.md).
    void setEventLog(EventLog *events) { m_events = events; }

    // The Postfix action mapped to SMTP (public for tests).
    static SmtpVerdict verdictFor(QByteArrayView action);

private:
    struct Waiting
    {
        QPointer<QObject> context;
        Callback done;
        SmtpVerdict verdict;
        bool needsCommit = true;
    };

    bool headerFromPending(const SmtpRecipientQuery &query) const;
    void decideAsync(const PolicyRequest &request, const SmtpRecipientQuery &query, Waiting w);
    void flush();

    PolicyHandler &m_answering;
    GreylistPolicyHandler &m_handler;
    GreylistEngine &m_engine;
    const Clock &m_clock;
    EventLog *m_events = nullptr;
    std::vector<Waiting> m_waiting;
    QTimer m_flushTimer;
};

} // namespace greygate
