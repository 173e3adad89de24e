// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Cidr.h"
#include "Specifier.h"
#include "greylist/Clock.h"

#include <QList>
#include <optional>

namespace greygate {

enum class PolicyAction : quint8
{
    Greylist, // apply greylisting
    Bypass,   // take no action: the mail is not greylisted
};

// Whether a policy acts (docs/policies.md, "Shadow policies"). A shadow policy is evaluated
// beside the enforced ones and its would-be effect recorded, but it never decides: so an
// admin can watch what a new rule would do before it bites.
enum class PolicyMode : quint8
{
    Enforce,
    Shadow,
};

// What "Emails From" is matched against (Mimecast's "Addresses Based On").
enum class AddressBasis : quint8
{
    Envelope, // MAIL FROM
    Header,   // the From: header; only known once DATA has been read
    Both,     // either of them
};

// A greylisting policy (docs/policies.md, "The model"). A plain value: the PolicySet
// versions it, the PolicyIndex compiles it, the JSON codec reads and writes it.
struct Policy
{
    qint64 id = 0;
    quint32 version = 0; // 0 until the PolicySet has stored it
    QString narrative;
    PolicyAction action = PolicyAction::Greylist;
    PolicyMode mode = PolicyMode::Enforce;
    AddressBasis fromBasis = AddressBasis::Envelope;
    Specifier from;
    Specifier to;
    bool enabled = true;
    // Validity, half-open: in force from `start` (inclusive) until `end` (exclusive). No
    // start and no end: perpetual. Past its end a policy is out of force by itself.
    std::optional<Seconds> start;
    std::optional<Seconds> end;
    bool override = false;      // learn auto allow for every internal user (docs/policies.md)
    bool bidirectional = false; // also applies with sender and recipient swapped
    QList<Cidr> sourceRanges;   // empty: any client
    Seconds updatedAt = 0;
    QString updatedBy;

    bool inForceAt(Seconds now) const
    {
        return enabled && (!start || now >= *start) && (!end || now < *end);
    }

    static QString actionName(PolicyAction action); // "greylist" / "bypass"
    static QString basisName(AddressBasis basis);   // "envelope" / "header" / "both"
    static QString modeName(PolicyMode mode);       // "enforce" / "shadow"

    friend bool operator==(const Policy &, const Policy &) = default;
};

} // namespace greygate
