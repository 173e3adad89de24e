// SPDX-License-Identifier: GPL-3.0-or-later
#include "Clock.h"

#include <QDateTime>

namespace greygate {

Seconds SystemClock::now() const
{
    return QDateTime::currentSecsSinceEpoch();
}

} // namespace greygate
