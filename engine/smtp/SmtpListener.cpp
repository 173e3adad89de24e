// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpListener.h"

#include <QSslSocket>

namespace greygate {

void SmtpListener::incomingConnection(qintptr descriptor)
{
    auto *socket = new QSslSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    addPendingConnection(socket);
}

} // namespace greygate
