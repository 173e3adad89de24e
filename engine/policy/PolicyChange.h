// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AuditEntry.h"

#include <QList>
#include <optional>

namespace greygate {

enum class ChangeObject : quint8
{
    Policy,
    Group,
    AutoAllow,
    Internal,
};

// One object's new state, for a store to persist: put `value` under (object, objectId), or
// remove it. Applying a PolicySet's changes in revision order reproduces its document.
struct PolicyChange
{
    quint64 revision = 0;
    ChangeObject object = ChangeObject::Policy;
    QString objectId; // the same form as AuditEntry::objectId
    bool removed = false;
    quint32 version = 0;
    QJsonObject value; // PolicyJson's form of the object; empty when removed
    std::optional<AuditEntry> audit;
};

enum class ChangeError : quint8
{
    None,
    Invalid,      // the new state breaks a rule (the message names the field)
    NotFound,     // no such policy, group, member or entry
    StaleVersion, // changed by someone else meanwhile: reload and retry
    InUse,        // a group still used by a policy
    Full,         // the auto allow table is at its capacity
};

// What a PolicySet call did: on success the changes to persist (none when nothing changed),
// on failure the error and NO change at all.
struct ChangeOutcome
{
    ChangeError code = ChangeError::None;
    QString error;
    qint64 id = 0;       // the created or changed object's id
    quint32 version = 0; // its version now
    QList<PolicyChange> changes;

    bool ok() const { return code == ChangeError::None; }
};

} // namespace greygate
