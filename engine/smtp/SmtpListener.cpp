// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpListener.h"

#include <QTcpSocket>

namespace greygate {

void SmtpListener::incomingConnection(qintptr descriptor)
{
    if (m_handOff)
        return m_handOff(descriptor);
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    addPendingConnection(socket);
}

} // namespace greygate
