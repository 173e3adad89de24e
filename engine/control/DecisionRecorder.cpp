// SPDX-License-Identifier: GPL-3.0-or-later
#include "DecisionRecorder.h"

#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policy/PolicyIndex.h"
#include "policy/PolicyQuery.h"
#include "policyd/GreylistPolicyHandler.h"

namespace greygate {

DecisionRecorder::DecisionRecorder(GreylistPolicyHandler &handler, GreylistEngine &engine,
                                   EventLog &events, const Clock &clock)
    : m_handler(handler)
    , m_engine(engine)
    , m_events(events)
    , m_clock(clock)
{
    m_rejections = QObject::connect(
        &m_handler, &GreylistPolicyHandler::rejectionsCommitted,
        [this](const QList<RejectionEntry> &rejections) { recordFailedToRetry(rejections); });
}

DecisionRecorder::~DecisionRecorder()
{
    QObject::disconnect(m_rejections);
}

void DecisionRecorder::recordFailedToRetry(const QList<RejectionEntry> &rejections)
{
    for (const RejectionEntry &r : rejections) {
        Event e;
        e.type = EventType::FailedToRetry;
        e.time = r.time;
        e.attempts = r.attempts;
        e.client = r.key.client;
        e.sender = r.key.sender;
        e.recipient = r.key.recipient;
        e.action = QString::fromLatin1(r.reason);
        m_events.append(std::move(e));
    }
}

QByteArray DecisionRecorder::decide(const PolicyRequest &request)
{
    const GreylistPolicyHandler::Stats before = m_handler.stats();
    QByteArray answer = m_handler.decide(request);
    const GreylistPolicyHandler::Stats &after = m_handler.stats();

    Event e;
    if (after.deferred != before.deferred)
        e.outcome = AttemptOutcome::Deferred;
    else if (after.passedNow != before.passedNow)
        e.outcome = AttemptOutcome::Passed;
    else if (after.accepted != before.accepted)
        e.outcome = AttemptOutcome::PassedKnown;
    else if (after.rejected != before.rejected)
        e.outcome = AttemptOutcome::Blocked;
    else if (after.bypassed != before.bypassed)
        e.outcome = AttemptOutcome::Bypassed;
    else if (after.outbound != before.outbound)
        e.outcome = AttemptOutcome::Outbound;
    else
        return answer; // not a RCPT decision (another protocol state, a protocol error)

    e.type = EventType::Attempt;
    e.time = m_clock.now();
    e.client = request.clientAddress;
    e.sender = request.sender;
    e.recipient = request.recipient;
    if (e.outcome == AttemptOutcome::Outbound) {
        e.decidedBy = DecidedBy::Outbound;
    } else if (const std::optional<TripletKey> key = m_engine.normaliser().normalise(
                   request.clientAddress, request.sender, request.recipient)) {
        if (e.outcome == AttemptOutcome::Deferred || e.outcome == AttemptOutcome::Passed ||
            e.outcome == AttemptOutcome::PassedKnown) {
            if (const std::optional<TripletState> state = m_engine.triplet(*key))
                e.attempts = state->attempts;
            else if (e.outcome == AttemptOutcome::PassedKnown)
                e.outcome = AttemptOutcome::Whitelisted; // accepted without a triplet
        }
        attribute(request, *key, &e);
    }
    m_events.append(std::move(e));
    return answer;
}

void DecisionRecorder::attribute(const PolicyRequest &request, const TripletKey &key, Event *e)
{
    // The handler does not say which policy decided, so the same (immutable) index is asked
    // again with the same query: a few microseconds, off nothing the client waits for but
    // this answer.
    PolicyQuery query;
    query.clientAddress = request.clientAddress;
    query.sender = key.sender;
    query.recipient = key.recipient;
    query.saslUsername = request.saslUsername;
    query.now = e->time;
    const PolicyState &state = m_handler.policies();
    const PolicyDecision d = state.currentIndex().evaluate(query, &state.set().autoAllow());
    switch (d.reason) {
    case DecisionReason::DefaultGreylist:
        e->decidedBy = DecidedBy::None;
        break;
    case DecisionReason::Policy:
        e->decidedBy = DecidedBy::Policy;
        e->ref = d.policyId;
        break;
    case DecisionReason::BlockedSender:
        e->decidedBy = DecidedBy::BlockedGroup;
        e->ref = d.groupId;
        break;
    case DecisionReason::PermittedSender:
        e->decidedBy = DecidedBy::PermittedGroup;
        e->ref = d.groupId;
        break;
    case DecisionReason::AutoAllow:
        e->decidedBy = DecidedBy::AutoAllow;
        break;
    }
}

bool DecisionRecorder::commit()
{
    return m_handler.commit();
}

QByteArray DecisionRecorder::protocolError() const
{
    return m_handler.protocolError();
}

} // namespace greygate
