// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "policyd/PolicyHandler.h"

namespace greygate {

class Clock;
class EventLog;
class GreylistEngine;
class GreylistPolicyHandler;

// Records every RCPT decision of a GreylistPolicyHandler into the EventLog (the Live
// attempts stream and the per-minute statistics): the policy server is given this
// decorator instead of the handler. The outcome is read from which of the handler's
// counters moved, so the handler itself needs no change; the attempt count of a greylisted
// triplet comes from the engine (one more hash lookup).
class DecisionRecorder final : public PolicyHandler
{
public:
    DecisionRecorder(GreylistPolicyHandler &handler, GreylistEngine &engine, EventLog &events,
                     const Clock &clock);

    QByteArray decide(const PolicyRequest &request) override;
    bool commit() override;
    QByteArray protocolError() const override;

private:
    GreylistPolicyHandler &m_handler;
    GreylistEngine &m_engine;
    EventLog &m_events;
    const Clock &m_clock;
};

} // namespace greygate
