// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "greylist/Clock.h"

#include <QJsonObject>
#include <QMetaType>
#include <QString>

namespace greygate {

// One alert (docs/api.md, "Alerts"): fired when a rule's condition starts (and again every
// `repeat` minutes while it lasts), and once more with `cleared` when it ends.
struct Alert
{
    quint64 id = 0;
    Seconds time = 0;
    QString kind;    // "deferralSpike", "failedToRetrySpike", "storeTrouble"
    QString subject; // what it is about: a sender domain, the store ("sqlite", "redis")
    QString message; // one line for a person
    bool cleared = false;
    double value = 0;    // what was measured (deferrals in the window, entries, seconds)
    double baseline = 0; // what is usual
    QString proxy;       // the daemon's name (set by the monitor)

    QJsonObject toJson() const;
};

} // namespace greygate

Q_DECLARE_METATYPE(greygate::Alert)
