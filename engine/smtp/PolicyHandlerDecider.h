// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpDecider.h"
#include "policyd/PolicyHandler.h"

#include <QPointer>
#include <QTimer>
#include <functional>
#include <vector>

namespace greygate {

class Clock;
class EventLog;
class GreylistEngine;
class GreylistPolicyHandler;

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
// the answer is recorded (setRecorder), committed and handed on the same way.
// Before the header From is known, the policies are consulted read-only first: a recipient
// a header-From policy might decide is answered Pending, with nothing recorded yet; a
// header-From shadow policy holds the recipients it might concern the same way, so that
// its would-be effect is evaluated with the header From (the verdict itself is the same).
class PolicyHandlerDecider final : public QObject, public SmtpDecider
{
    Q_OBJECT

public:
    PolicyHandlerDecider(PolicyHandler &answering, GreylistPolicyHandler &handler,
                         GreylistEngine &engine, const Clock &clock, QObject *parent = nullptr);

    void decide(const SmtpRecipientQuery &query, QObject *context, Callback done) override;

    // The event log `answering` records into: each decision's Attempt event then carries
    // source "smtp", the HELO name and the TLS flag (EventLog::setOrigin around the call).
    void setEventLog(EventLog *events) { m_events = events; }
    // The asynchronous path (Redis): the answer comes back later, outside decide(), so the
    // origin cannot be set around `answering`'s own recording. With a recorder given here
    // (the daemon passes DecisionRecorder::record), the handler is asked and the attempt is
    // recorded through it with the origin set; without one, `answering` records it as for
    // the policy server (source "policy").
    using Record = std::function<void(const DecisionOutcome &outcome, const QByteArray &client,
                                      const QByteArray &sender, const QByteArray &recipient)>;
    void setRecorder(Record record) { m_record = std::move(record); }

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
    // Whether some policy (some shadow policy) reads the header From, cached per policy
    // revision by scanPolicies().
    void scanPolicies() const;
    bool headerShadowPolicies() const;
    void decideAsync(const PolicyRequest &request, const SmtpRecipientQuery &query, Waiting w);
    // The session log's reason for an asynchronous answer.
    static QByteArray reasonFor(DecisionOutcome::Kind outcome, SmtpVerdict::Kind verdict);
    void flush();

    PolicyHandler &m_answering;
    GreylistPolicyHandler &m_handler;
    GreylistEngine &m_engine;
    const Clock &m_clock;
    EventLog *m_events = nullptr;
    Record m_record;
    std::vector<Waiting> m_waiting;
    QTimer m_flushTimer;
    mutable quint64 m_shadowRevision = ~quint64(0);
    mutable bool m_headerShadow = false;
    mutable bool m_headerPolicies = false;
};

} // namespace greygate
