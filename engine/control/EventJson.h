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
    // The same object as compact JSON text, appended to *out, written directly: the event
    // stream serialises every event once per flush, and building QJsonObjects for that cost
    // more than the decision itself (bench/README.md, "Events").
    static void appendJson(QByteArray *out, const Event &event);
    // The compact form for subscribers that ask for it (events.subscribe "compact"): a plain
    // policy-server attempt as [id,time,outcome,attempts,policy,ref,client,sender,recipient,
    // key,keyWhy], every other event as appendJson writes it. protocol::Envelope expands it.
    static void appendCompact(QByteArray *out, const Event &event);
    static bool compactable(const Event &event);
    // Who decided an attempt, as stats.breakdown and attempt events name it: "7" (policy 7),
    // "none" (plain greylisting), "group:3", "autoallow", "outbound", "other".
    static QString deciderKey(DecidedBy by, qint64 id);
};

} // namespace greygate
