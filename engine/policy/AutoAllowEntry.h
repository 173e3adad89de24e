// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QString>

namespace greygate {

// "internal user sent mail to external address": mail from externalAddress to
// internalAddress bypasses greylisting until expiresAt (exclusive). internalAddress "*"
// stands for every internal user (learned through a policy with override set).
struct AutoAllowEntry
{
    static inline const QString kEveryInternalUser = QStringLiteral("*");

    QString internalAddress; // lower case
    QString externalAddress; // lower case
    Seconds createdAt = 0;
    Seconds expiresAt = 0;

    bool liveAt(Seconds now) const { return now < expiresAt; }

    friend bool operator==(const AutoAllowEntry &, const AutoAllowEntry &) = default;
};

} // namespace greygate
