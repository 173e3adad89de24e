// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyConnection.h"

namespace greygate {

// Makes sure a connected proxy pushes its events, without moving a cursor another model
// already follows: a connection that has seen an event keeps its subscription (it is
// resumed across reconnects by ProxyConnection), one that has not is asked to start now.
inline void followEvents(ProxyConnection *connection)
{
    if (!connection || connection->state() != ProxyConnection::State::Connected)
        return;
    if (connection->lastEventId() == 0)
        connection->subscribe();
}

} // namespace greygate
