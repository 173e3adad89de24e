// SPDX-License-Identifier: GPL-3.0-or-later
#include "DecisionRecorder.h"

#include "events/EventLog.h"
#include "policyd/GreylistPolicyHandler.h"
#include "policyd/PolicydLog.h"
#include "util/LogLine.h"
#include "util/Logger.h"

#include <cstring>

namespace greygate {

namespace {

using Kind = DecisionOutcome::Kind;

DecidedBy decidedBy(DecisionReason reason)
{
    switch (reason) {
    case DecisionReason::DefaultGreylist:
        return DecidedBy::None;
    case DecisionReason::Policy:
        return DecidedBy::Policy;
    case DecisionReason::BlockedSender:
        return DecidedBy::BlockedGroup;
    case DecisionReason::PermittedSender:
        return DecidedBy::PermittedGroup;
    case DecisionReason::AutoAllow:
        return DecidedBy::AutoAllow;
    }
    return DecidedBy::None;
}

// `value` for an event: `last` when equal (shared, no allocation), else a copy of its own
// that becomes `last`.
const QByteArray &kept(QByteArray &last, QByteArrayView value)
{
    if (value.size() != last.size() || value != QByteArrayView(last))
        last = QByteArray(value.data(), value.size());
    return last;
}

// Part [from, from + n) of block, sharing its allocation (and reference count).
QByteArray sliceOf(QByteArray &block, qsizetype from, qsizetype n)
{
    QByteArray::DataPointer d = block.data_ptr(); // a copy: one more reference
    d.ptr += from;
    d.size = n;
    return QByteArray(std::move(d));
}

} // namespace

void DecisionRecorder::copyTogether(QByteArrayView a, QByteArrayView b, QByteArray *first,
                                    QByteArray *second)
{
    // "a\0b": the NUL after a ends the first part's string; the array ends the second's.
    QByteArray block(a.size() + 1 + b.size(), Qt::Uninitialized);
    char *p = block.data();
    if (!a.isEmpty())
        std::memcpy(p, a.data(), size_t(a.size()));
    p[a.size()] = '\0';
    if (!b.isEmpty())
        std::memcpy(p + a.size() + 1, b.data(), size_t(b.size()));
    *first = sliceOf(block, 0, a.size());
    *second = sliceOf(block, a.size() + 1, b.size());
}

DecisionRecorder::DecisionRecorder(GreylistPolicyHandler &handler, EventLog &events,
                                   const Clock &clock)
    : m_handler(handler)
    , m_events(events)
    , m_clock(clock)
    , m_self(std::make_shared<DecisionRecorder *>(this))
{
    m_rejections = QObject::connect(
        &m_handler, &GreylistPolicyHandler::rejectionsCommitted, &m_handler,
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

void DecisionRecorder::record(const DecisionOutcome &outcome, QByteArrayView client,
                              QByteArrayView sender, QByteArrayView recipient,
                              QByteArrayView clientName)
{
    Event e;
    switch (outcome.kind) {
    case Kind::None:
        return; // not a RCPT decision (another protocol state, a protocol error)
    case Kind::Deferred:
        e.outcome = AttemptOutcome::Deferred;
        break;
    case Kind::PassedNow:
        e.outcome = AttemptOutcome::Passed;
        e.delayed = outcome.delayedSeconds;
        // One line per passed message, written as bytes (Logger::write), not through QDebug
        // and a QString.
        if (outcome.headerAdded && lcPolicyd().isInfoEnabled())
            Logger::write(QtInfoMsg, lcPolicyd(),
                          LogLine("greylisting passed")
                              .add("client", client)
                              .add("sender", sender)
                              .add("recipient", recipient)
                              .add("delayed", outcome.delayedSeconds)
                              .add("attempts", qint64(outcome.attempts)));
        break;
    case Kind::PassedKnown:
        e.outcome = AttemptOutcome::PassedKnown;
        break;
    case Kind::Whitelisted:
        e.outcome = AttemptOutcome::Whitelisted;
        break;
    case Kind::Bypassed:
        e.outcome = AttemptOutcome::Bypassed;
        break;
    case Kind::Outbound:
        e.outcome = AttemptOutcome::Outbound;
        break;
    case Kind::Blocked:
        e.outcome = AttemptOutcome::Blocked;
        break;
    case Kind::FailedOpen:
        // Accepted without greylisting: counted where mail went through unchecked, the
        // reason telling why (rare; the string is built only then).
        e.outcome = AttemptOutcome::Bypassed;
        e.action = QStringLiteral("greylisting state unavailable: accepted (fail open)");
        break;
    case Kind::FailedClosed:
        e.outcome = AttemptOutcome::Deferred;
        e.action = QStringLiteral("greylisting state unavailable: deferred (fail closed)");
        break;
    }
    e.type = EventType::Attempt;
    e.time = m_clock.now();
    e.attempts = outcome.attempts;
    // Postfix says "unknown" when the name did not verify: no name, as far as triage goes.
    const bool named = clientName != QByteArrayView("unknown");
    if (named && !clientName.isEmpty() && client != QByteArrayView(m_lastClient) &&
        clientName != QByteArrayView(m_lastName))
        copyTogether(client, clientName, &m_lastClient, &m_lastName); // kept() shares them
    e.client = kept(m_lastClient, client);
    // The normalised sender and recipient are usually the request's bytes (lower case, no
    // tag): the event then shares them, no copy.
    e.sender = !outcome.sender.isEmpty() && QByteArrayView(outcome.sender) == sender
                   ? outcome.sender
                   : kept(m_lastSender, sender);
    e.recipient = !outcome.recipient.isEmpty() && QByteArrayView(outcome.recipient) == recipient
                      ? outcome.recipient
                      : QByteArray(recipient.data(), recipient.size());
    if (named)
        e.clientName = kept(m_lastName, clientName);
    e.key = outcome.key;
    e.keyWhy = outcome.keyWhy;
    if (outcome.kind == Kind::Outbound) {
        e.decidedBy = DecidedBy::Outbound;
    } else {
        e.decidedBy = decidedBy(outcome.reason);
        if (e.decidedBy != DecidedBy::None && e.decidedBy != DecidedBy::AutoAllow)
            e.ref = outcome.ref;
    }
    // Only the synchronous path's deferrals carry their normalised triplet (recipient set).
    if (!m_deferralTap || outcome.kind != Kind::Deferred || outcome.key.isEmpty() ||
        outcome.recipient.isEmpty()) {
        m_events.append(std::move(e));
        return;
    }
    const QByteArray eventClient = e.client;
    const QByteArray eventName = e.clientName;
    const quint64 id = m_events.append(std::move(e));
    m_deferralTap(id, eventClient, eventName, outcome.key, outcome.sender, outcome.recipient);
}

QByteArray DecisionRecorder::decide(const PolicyRequest &request)
{
    QByteArray answer = m_handler.decide(request);
    record(m_handler.lastDecision(), request.clientAddress, request.sender, request.recipient,
           request.clientName);
    return answer;
}

bool DecisionRecorder::isAsynchronous() const
{
    return m_handler.isAsynchronous();
}

void DecisionRecorder::decideAsync(const PolicyRequest &request, PolicyAnswerCallback done)
{
    // The request is the server's and goes on: its fields are kept (shared, not copied).
    m_handler.decideAsync(request, [self = std::weak_ptr<DecisionRecorder *>(m_self),
                                    client = request.clientAddress, sender = request.sender,
                                    recipient = request.recipient, name = request.clientName,
                                    done = std::move(done)](PolicyAnswer &&answer) {
        if (const std::shared_ptr<DecisionRecorder *> recorder = self.lock())
            (*recorder)->record(answer.outcome, client, sender, recipient, name);
        done(std::move(answer));
    });
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
