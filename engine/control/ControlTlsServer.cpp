// SPDX-License-Identifier: GPL-3.0-or-later
#include "ControlTlsServer.h"

#include <QSslSocket>
#include <unistd.h>

namespace greygate {

ControlTlsServer::ControlTlsServer(std::function<bool(int)> room, QObject *parent)
    : QSslServer(parent)
    , m_room(std::move(room))
{}

int ControlTlsServer::handshakesInProgress() const
{
    // QSslServer parents each socket to itself until it is handed on; at most the
    // connection limit of them, so counting is cheap.
    int n = 0;
    for (const QSslSocket *s : findChildren<QSslSocket *>(Qt::FindDirectChildrenOnly)) {
        if (!s->isEncrypted() && s->state() != QAbstractSocket::UnconnectedState)
            ++n;
    }
    return n;
}

void ControlTlsServer::incomingConnection(qintptr socket)
{
    if (!m_room(handshakesInProgress())) {
        ::close(int(socket));
        return;
    }
    QSslServer::incomingConnection(socket);
}

} // namespace greygate
