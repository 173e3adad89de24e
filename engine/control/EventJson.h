// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "events/Event.h"

#include <QJsonObject>

namespace greygate {

// An event's wire form (docs/api.md, "Events"): {"id","type","time", ...fields of its type}.
class EventJson
{
public:
    static QJsonObject toJson(const Event &event);
};

} // namespace greygate
