// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Triplet.h"
#include "policyd/PolicyHandler.h"

#include <QMetaObject>
#include <functional>
#include <memory>

namespace greygate {

struct Event;

class Clock;
class EventLog;
class GreylistPolicyHandler;

// Records every RCPT decision of a GreylistPolicyHandler into the EventLog (the Live
// attempts stream, the per-minute statistics and stats.breakdown): the SMTP proxy decides
// through this decorator instead of the handler, the policy server through an
// AnswerFirstRecorder that calls record() once its answers are written. What was decided,
// the attempts and the deciding policy come from the handler itself (lastDecision() on the
// synchronous path, PolicyAnswer::outcome on the asynchronous one), so nothing is evaluated
// twice and concurrent decisions of the Redis mode cannot mix. The sweeps' "Sender Failed
// to Retry" rejections are recorded once the handler has committed them (its
// rejectionsCommitted).
class DecisionRecorder final : public PolicyHandler
{
public:
    DecisionRecorder(GreylistPolicyHandler &handler, EventLog &events, const Clock &clock);
    ~DecisionRecorder() override;
    DecisionRecorder(const DecisionRecorder &) = delete;
    DecisionRecorder &operator=(const DecisionRecorder &) = delete;

    QByteArray decide(const PolicyRequest &request) override;
    bool commit() override;
    QByteArray protocolError() const override;
    bool isAsynchronous() const override;
    void decideAsync(const PolicyRequest &request, PolicyAnswerCallback done) override;

    // One FailedToRetry event per rejection (counted in the per-minute statistics).
    void recordFailedToRetry(const QList<RejectionEntry> &rejections);
    // One Attempt event for a decision (nothing for DecisionOutcome::Kind::None).
    // clientName: Postfix's client_name (the SMTP proxy has none: its PTR lookups are the
    // triage's, engine/alerts/TriageFacts).
    // The bytes are copied (or shared with the outcome's): views of a buffer that is reused
    // next are fine.
    void record(const DecisionOutcome &outcome, QByteArrayView client, QByteArrayView sender,
                QByteArrayView recipient, QByteArrayView clientName = {});

    // Called with each greylisting deferral's event id, the event's client address and name,
    // and the decision's normalised triplet (network, sender, recipient), when the decision
    // carries it (the synchronous path): the triage keeps it then instead of normalising the
    // event's triplet again in its tick (TriageFacts::noteDeferred).
    using DeferralTap = std::function<void(quint64 id, const QByteArray &client,
                                           const QByteArray &clientName, const QByteArray &network,
                                           const QByteArray &sender, const QByteArray &recipient)>;
    void setDeferralTap(DeferralTap tap) { m_deferralTap = std::move(tap); }

    // Copies a and b into one allocation that *first and *second then share (each a view of
    // its part, NUL-terminated like any QByteArray; writing to either detaches it, as for any
    // shared array): a new client's address and name cost one block, made and later freed
    // (cold, when the event ring overwrites the event) once instead of twice.
    static void copyTogether(QByteArrayView a, QByteArrayView b, QByteArray *first,
                             QByteArray *second);

private:
    GreylistPolicyHandler &m_handler;
    EventLog &m_events;
    const Clock &m_clock;
    QMetaObject::Connection m_rejections;
    // Answers of the asynchronous path that come back after this recorder is gone (at
    // shutdown) are passed on unrecorded: the callbacks hold a weak reference to this.
    std::shared_ptr<DecisionRecorder *> m_self;
    DeferralTap m_deferralTap;
    // The last event's client, client name and sender: the recipients of one message repeat
    // them, and the events then share one copy. Copies are made apart from the request, whose
    // buffers the parser reuses for the next one (sharing them would make it reallocate).
    QByteArray m_lastClient;
    QByteArray m_lastName;
    QByteArray m_lastSender;
};

} // namespace greygate
