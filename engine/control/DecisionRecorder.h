// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Triplet.h"
#include "policyd/PolicyHandler.h"

#include <QMetaObject>

namespace greygate {

struct Event;

class Clock;
class EventLog;
class GreylistEngine;
class GreylistPolicyHandler;

// Records every RCPT decision of a GreylistPolicyHandler into the EventLog (the Live
// attempts stream and the per-minute statistics): the policy server is given this
// decorator instead of the handler. The outcome is read from which of the handler's
// counters moved, so the handler itself needs no change; the attempt count of a greylisted
// triplet comes from the engine (one more hash lookup). The sweeps' "Sender Failed to Retry"
// rejections are recorded once the handler has committed them (its rejectionsCommitted).
class DecisionRecorder final : public PolicyHandler
{
public:
    DecisionRecorder(GreylistPolicyHandler &handler, GreylistEngine &engine, EventLog &events,
                     const Clock &clock);
    ~DecisionRecorder() override;
    DecisionRecorder(const DecisionRecorder &) = delete;
    DecisionRecorder &operator=(const DecisionRecorder &) = delete;

    QByteArray decide(const PolicyRequest &request) override;
    bool commit() override;
    QByteArray protocolError() const override;

    // One FailedToRetry event per rejection (counted in the per-minute statistics).
    void recordFailedToRetry(const QList<RejectionEntry> &rejections);

private:
    // Who decided: the policy, group, auto allow or plain greylisting (Event::decidedBy).
    void attribute(const PolicyRequest &request, const TripletKey &key, Event *e);

    GreylistPolicyHandler &m_handler;
    GreylistEngine &m_engine;
    EventLog &m_events;
    const Clock &m_clock;
    QMetaObject::Connection m_rejections;
};

} // namespace greygate
