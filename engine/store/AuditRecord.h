// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QByteArray>

namespace greygate {

// One entry of the audit log, opaque to the store beyond time and objectId (which it
// filters on). Entries are only ever appended; pruneBefore() drops old ones.
struct AuditRecord
{
    quint64 revision = 0;
    Seconds time = 0;
    QByteArray who;
    QByteArray what;
    QByteArray objectId;
    QByteArray beforeJson;
    QByteArray afterJson;

    friend bool operator==(const AuditRecord &, const AuditRecord &) = default;
};

} // namespace greygate
