// SPDX-License-Identifier: GPL-3.0-or-later
#include "AnswerFirstRecorder.h"

#include "DecisionRecorder.h"
#include "policyd/GreylistPolicyHandler.h"

namespace greygate {

AnswerFirstRecorder::AnswerFirstRecorder(GreylistPolicyHandler &handler, DecisionRecorder &recorder)
    : m_handler(handler)
    , m_recorder(recorder)
{}

QByteArray AnswerFirstRecorder::decide(const PolicyRequest &request)
{
    QByteArray answer = m_handler.decide(request);
    const DecisionOutcome &outcome = m_handler.lastDecision();
    if (outcome.kind == DecisionOutcome::Kind::None)
        return answer; // nothing to record (another protocol state, a protocol error)
    Waiting &w = m_waiting.emplace_back();
    w.outcome = outcome;
    w.at = m_bytes.size();
    w.client = request.clientAddress.size();
    w.name = request.clientName.size();
    w.sender = request.sender.size();
    w.recipient = request.recipient.size();
    m_bytes.append(request.clientAddress)
        .append(request.clientName)
        .append(request.sender)
        .append(request.recipient);
    return answer;
}

bool AnswerFirstRecorder::commit()
{
    return m_recorder.commit();
}

void AnswerFirstRecorder::answersSent()
{
    const char *bytes = m_bytes.constData();
    for (const Waiting &w : m_waiting) {
        qsizetype at = w.at;
        const auto next = [&](qsizetype n) {
            const QByteArrayView part(bytes + at, n);
            at += n;
            return part;
        };
        const QByteArrayView client = next(w.client);
        const QByteArrayView name = next(w.name);
        const QByteArrayView sender = next(w.sender);
        const QByteArrayView recipient = next(w.recipient);
        m_recorder.record(w.outcome, client, sender, recipient, name);
    }
    m_waiting.clear();
    m_bytes.resize(0); // keeps the capacity
}

QByteArray AnswerFirstRecorder::protocolError() const
{
    return m_recorder.protocolError();
}

bool AnswerFirstRecorder::isAsynchronous() const
{
    return m_recorder.isAsynchronous();
}

void AnswerFirstRecorder::decideAsync(const PolicyRequest &request, PolicyAnswerCallback done)
{
    m_recorder.decideAsync(request, std::move(done));
}

} // namespace greygate
