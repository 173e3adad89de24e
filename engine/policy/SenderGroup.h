// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "GroupMember.h"
#include "greylist/Clock.h"

#include <QList>

namespace greygate {

enum class GroupKind : quint8
{
    Custom,    // usable in policies only
    Permitted, // members bypass greylisting (Permitted Senders)
    Blocked,   // members are rejected with 550 5.7.1 (Blocked Senders)
};

struct SenderGroup
{
    qint64 id = 0;
    QString name; // unique, compared case-insensitively
    GroupKind kind = GroupKind::Custom;
    quint32 version = 0;
    QList<GroupMember> members;
    Seconds updatedAt = 0;
    QString updatedBy;

    static QString kindName(GroupKind kind); // "custom" / "permitted" / "blocked"
    static bool kindFromName(QStringView name, GroupKind *kind);
    // The kind a group without an explicit "kind" gets: the two well-known names are
    // Permitted and Blocked Senders, every other name is a custom group.
    static GroupKind kindForName(QStringView name);

    friend bool operator==(const SenderGroup &, const SenderGroup &) = default;
};

} // namespace greygate
