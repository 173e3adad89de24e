// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyRequest.h"
#include "greylist/Decision.h"
#include "greylist/Triplet.h"
#include "policy/PolicyDecision.h"

#include <QByteArray>
#include <functional>

namespace greygate {

// What one RCPT decision was, told by the handler that made it (GreylistPolicyHandler), so
// that the event log records it without guessing from counters or evaluating again. A flat
// value: filling it costs no allocation on the hot path.
struct DecisionOutcome
{
    enum class Kind : quint8
    {
        None,        // not a RCPT decision (another protocol state, a protocol error)
        Deferred,    // greylisted
        PassedNow,   // retried after the delay
        PassedKnown, // an already passed triplet
        Whitelisted, // the client network is auto-whitelisted
        Bypassed,    // Permitted Senders, Auto Allow, a bypass policy
        Outbound,    // outbound mail
        Blocked,     // Blocked Senders
        FailedOpen,  // the shared state was unreachable: accepted (--redis-fail=open)
        FailedClosed // the shared state was unreachable: deferred (--redis-fail=closed)
    };
    Kind kind = Kind::None;
    DecisionReason reason = DecisionReason::DefaultGreylist; // which policy part decided
    qint64 ref = 0;             // the deciding policy's or group's id (reason Policy / *Sender)
    quint32 attempts = 0;       // the triplet's attempts including this one (greylisting verdicts)
    Seconds delayedSeconds = 0; // PassedNow: first seen -> passed (the engine's or Redis')
    // PassedNow: the answer carries the X-Greylist header (the message's first recipient):
    // the recorder logs "greylisting passed" for it, one line per passed message.
    bool headerAdded = false;
    // Greylisting verdicts: the triplet's client part ("192.0.2.0/24" or "spf:example.com")
    // and why it was chosen (docs/spf.md); shared bytes, no allocation in IP mode.
    QByteArray key;
    QByteArray keyWhy;
    // The synchronous path's normalised sender and recipient (shared bytes): the recorder's
    // event keeps these instead of a copy of the request's when they are the same bytes.
    QByteArray sender;
    QByteArray recipient;
};

// One answer on the asynchronous path: the action as decide() returns it, or, when action is
// empty, a protocol error (error says why) on which the server closes the connection.
// outcome says what was decided (Kind::None when the handler does not tell).
struct PolicyAnswer
{
    QByteArray action;
    QByteArray error;
    DecisionOutcome outcome;
};
using PolicyAnswerCallback = std::function<void(PolicyAnswer &&)>;

// Greylisting decisions that come back later, from shared state (the Redis store): the
// same verdicts as GreylistEngine::decide(), decided atomically where the state lives.
class AsyncTripletDecider
{
public:
    virtual ~AsyncTripletDecider() = default;
    // done gets the decision, or nullptr when the shared state cannot be reached in time;
    // called exactly once, on the caller's thread, possibly before decide() returns.
    virtual void decide(const TripletKey &key, std::function<void(const Decision *)> done) = 0;
    // What to answer while the state is unreachable: accept (fail open) or defer (closed).
    virtual bool failOpen() const = 0;
};

// What the policy server asks to turn a request into an answer. The server calls decide()
// for every complete request it has read in one pass over its connections, then commit()
// once (group commit), and only then writes the answers: nothing is said to Postfix about a
// state change that is not durable yet.
class PolicyHandler
{
public:
    virtual ~PolicyHandler() = default;

    // The reply's action, without "action=" and without the line end: "DUNNO",
    // "DEFER_IF_PERMIT Greylisted, ...", "PREPEND X-Greylist: ...".
    // An empty result means the request itself is a protocol error (not a policy request,
    // a RCPT without a recipient...): the server logs protocolError() and closes only that
    // connection, as it does for input the parser rejects.
    virtual QByteArray decide(const PolicyRequest &request) = 0;

    // Makes every decision since the last commit durable. False is an internal error: the
    // server then closes the connections of those requests without answering, so Postfix
    // applies its own default instead of a decision that was not recorded.
    virtual bool commit() = 0;

    // Called once the answers of a pass have been handed to the kernel (or the connections
    // closed, when commit() failed): work a decision needs done but its answer does not wait
    // for (recording it) can be left until then, off each request's round trip.
    virtual void answersSent() {}

    // Why the last decide() returned an empty result.
    virtual QByteArray protocolError() const { return QByteArrayLiteral("request refused"); }

    // The asynchronous path, for handlers whose decisions come from elsewhere (Redis). When
    // isAsynchronous() is true (asked once, when the server is made) the server calls
    // decideAsync() instead of decide(), holds each connection's answers in request order
    // until their done() came, and still calls commit() before it writes them. done() must
    // be called exactly once, on the server's thread, within a bounded time (the handler's
    // own timeouts), possibly before decideAsync() returns.
    virtual bool isAsynchronous() const { return false; }
    virtual void decideAsync(const PolicyRequest &request, PolicyAnswerCallback done)
    {
        PolicyAnswer answer;
        answer.action = decide(request);
        if (answer.action.isEmpty())
            answer.error = protocolError();
        done(std::move(answer));
    }
};

} // namespace greygate
