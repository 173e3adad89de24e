// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "policyd/PolicyHandler.h"

#include <vector>

namespace greygate {

class DecisionRecorder;
class GreylistPolicyHandler;

// The policy server's handler: decides with the GreylistPolicyHandler and records each
// decision through the DecisionRecorder, but only once the pass's answers are written
// (answersSent()), not before. Recording (the event, its statistics, the triage's note) is
// no part of the answer; done first it lengthened every round trip of a Postfix connection
// by its cost, and with one connection the round trip is the rate.
//
// Only the synchronous path waits: decideAsync() is the recorder's own (the answer comes
// later anyway, and is recorded when it does). The SMTP proxy keeps using the recorder
// directly: its origin (EventLog::setOrigin) is set around each decision it asks for.
class AnswerFirstRecorder final : public PolicyHandler
{
public:
    AnswerFirstRecorder(GreylistPolicyHandler &handler, DecisionRecorder &recorder);

    QByteArray decide(const PolicyRequest &request) override;
    bool commit() override;
    void answersSent() override;
    QByteArray protocolError() const override;
    bool isAsynchronous() const override;
    void decideAsync(const PolicyRequest &request, PolicyAnswerCallback done) override;

    // Decisions decided but not recorded yet (answersSent() records them).
    qsizetype waiting() const { return qsizetype(m_waiting.size()); }

private:
    struct Waiting
    {
        DecisionOutcome outcome;
        // The request's client, client name, sender and recipient, one after the other in
        // m_bytes from `at`: the parser reuses the request's buffers for the next request.
        qsizetype at = 0;
        qsizetype client = 0;
        qsizetype name = 0;
        qsizetype sender = 0;
        qsizetype recipient = 0;
    };

    GreylistPolicyHandler &m_handler;
    DecisionRecorder &m_recorder;
    // Both keep their room from pass to pass: no allocation per decision once warm.
    std::vector<Waiting> m_waiting;
    QByteArray m_bytes;
};

} // namespace greygate
