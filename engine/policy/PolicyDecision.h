// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QtGlobal>

namespace greygate {

enum class PolicyOutcome : quint8
{
    Greylist, // run the greylisting state machine
    Bypass,   // accept without greylisting (DUNNO)
    Reject,   // 550 5.7.1 (REJECT)
};

enum class DecisionReason : quint8
{
    DefaultGreylist, // no policy applied: greylisting is the default
    Policy,          // policyId decided
    BlockedSender,   // groupId is a Blocked Senders group holding the sender or client
    PermittedSender, // groupId is a Permitted Senders group holding the sender or client
    AutoAllow,       // an auto allow entry for (sender, recipient)
};

// The hot path's answer: no strings, no allocation.
struct PolicyDecision
{
    PolicyOutcome outcome = PolicyOutcome::Greylist;
    DecisionReason reason = DecisionReason::DefaultGreylist;
    qint64 policyId = 0; // Policy
    qint64 groupId = 0;  // BlockedSender / PermittedSender
    // A policy based on the header From ranks above the result and might apply once the
    // header is known: a caller that can (the SMTP proxy) evaluates again at end of DATA.
    bool headerFromPending = false;
};

} // namespace greygate
