// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace greygate {

struct Event;

// An event as one record of the binary event frame (docs/api.md, "Binary events";
// protocol::BinaryEvents decodes it to what EventJson::toJson gives): the length, the type,
// the time, then its type's fields, with exactly the information of the object form. Written
// once per event into the server's window (EventWindow) and shared by every binary
// subscriber; appends to *out without a temporary for what the policy server records.
class EventBinary
{
public:
    static void append(QByteArray *out, const Event &event);
};

} // namespace greygate
