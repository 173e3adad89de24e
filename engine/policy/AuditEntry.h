// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QJsonObject>
#include <QString>

namespace greygate {

// Who changed what, when: one per admin change (not per learned auto allow entry).
struct AuditEntry
{
    quint64 revision = 0; // the PolicySet revision the change produced
    Seconds time = 0;
    QString who;
    QString what;       // "policy.create", "policy.update", "group.members.add", ...
    QString objectId;   // "policy:7", "group:3", "autoAllow:<external> <internal>", "internal"
    QJsonObject before; // empty for a creation
    QJsonObject after;  // empty for a deletion

    friend bool operator==(const AuditEntry &, const AuditEntry &) = default;
};

} // namespace greygate
