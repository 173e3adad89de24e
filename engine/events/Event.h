// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QByteArray>
#include <QString>

namespace greygate {

enum class EventType : quint8
{
    Attempt,         // one RCPT decided (the Live attempts page)
    QueueChange,     // an admin released or deleted a triplet
    PolicyChange,    // a policy created, updated, deleted or imported
    GroupChange,     // a sender group or its members changed
    AutoAllowChange, // an auto allow entry added or removed by an admin
    FailedToRetry,   // a retry window closed without a retry
    Message,         // one message through the SMTP proxy, at the end of DATA
    Alert,           // an alert fired or cleared (engine/alerts): subject the kind
    PoolRetry,       // a sender retrying from several networks (docs/spf.md): subject its
                     // domain, client the addresses (comma-separated), ref the networks
};

// Which front end saw the attempt: the Postfix policy server or the SMTP proxy.
enum class EventSource : quint8
{
    Policyd,
    Smtp,
};

// What became of one attempt; the per-minute statistics count these.
enum class AttemptOutcome : quint8
{
    Deferred,    // greylisted (451)
    Passed,      // retried after the delay: accepted now
    PassedKnown, // an already passed triplet
    Whitelisted, // the client network is auto-whitelisted
    Bypassed,    // Permitted Senders, Auto Allow, a bypass policy
    Outbound,    // outbound mail, never greylisted
    Blocked,     // Blocked Senders (550)
};

// Who decided an attempt (the dashboard's breakdown by policy).
enum class DecidedBy : quint8
{
    None,           // no policy applied: plain greylisting
    Policy,         // Event::ref is the policy's id
    PermittedGroup, // Event::ref is the Permitted Senders group's id
    BlockedGroup,   // Event::ref is the Blocked Senders group's id
    AutoAllow,      // an Auto Allow entry
    Outbound,       // outbound mail, never greylisted
    Other,          // beyond a breakdown's bounds
};

// What a shadow (log-only) policy would have done to an attempt had it been enforced.
enum class ShadowEffect : quint8
{
    None,     // no shadow policy would have decided
    Greylist, // "would have deferred": greylisted (a passed triplet would still pass)
    Bypass,   // "would have bypassed"
};

// One event. A flat value with implicitly shared byte arrays, so that recording an attempt
// costs a few reference counts and no allocation (the policy server records every RCPT).
struct Event
{
    quint64 id = 0; // assigned by the EventLog: 1, 2, 3...
    Seconds time = 0;
    EventType type = EventType::Attempt;
    AttemptOutcome outcome = AttemptOutcome::Deferred; // Attempt only
    DecidedBy decidedBy = DecidedBy::None;             // Attempt only
    EventSource source = EventSource::Policyd;         // Attempt, Message
    quint32 attempts = 0; // Attempt, FailedToRetry; Message: the recipients relayed
    qint64 ref = 0;       // the deciding policy or group id (Attempt); the new version (changes)
    QByteArray client;    // Attempt, QueueChange, FailedToRetry
    QByteArray sender;    // as above
    QByteArray recipient; // as above
    QString subject;      // changes: the object ("policy:7", "group:3", "autoAllow:...")
    QString action;       // changes: "policy.update", "queue.release"...; Attempt: the reason
    QString who;          // changes: the admin
    // SMTP proxy only (source Smtp), so policy-delegation events stay as small and cheap:
    QByteArray helo;  // Attempt, Message: the client's EHLO/HELO name
    QByteArray reply; // Message: the final reply the client got (the backend's own)
    qint64 bytes = 0; // Message: the message's size as received (un-stuffed, CRLF lines)
    bool tls = false; // Attempt, Message: the session was under STARTTLS
    // Attempt: the shadow policy that would have decided it, and how (docs/policies.md).
    ShadowEffect shadow = ShadowEffect::None;
    qint64 shadowPolicy = 0;
    // Attempt: the client's verified name as Postfix gave it (client_name; empty when
    // "unknown" or not given), for the triage's reverse-DNS factor (docs/api.md).
    QByteArray clientName;
    // Attempt, outcome Passed: how long greylisting held the mail (first seen -> passed),
    // from the engine or the Redis store alike (delay.stats).
    Seconds delayed = 0;
    // Attempt (greylisted ones): the triplet's client part ("192.0.2.0/24", "spf:example.com")
    // and why that key (docs/spf.md, "Which key, and why"); empty when no triplet was used.
    QByteArray key;
    QByteArray keyWhy;

    static QString typeName(EventType type);
    static QString outcomeName(AttemptOutcome outcome);
    static QString sourceName(EventSource source);
    static QString shadowName(ShadowEffect effect); // "greylist" / "bypass" / ""
};

} // namespace greygate
