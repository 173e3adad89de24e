// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QSslServer>
#include <functional>

namespace greygate {

// The control API's TLS listener: a QSslServer (TLS handshake with its timeout) that also
// bounds the connections still in their handshake. QSslServer counts a connection only once
// the client has sent its first TLS record, so a client that opens TCP and stays silent is
// invisible to anything above it until the timeout drops it; here every accepted socket that
// is not yet encrypted counts, and beyond `room` the new one is closed at once.
class ControlTlsServer : public QSslServer
{
    Q_OBJECT

public:
    // room(inHandshake): whether one more connection may start its handshake.
    explicit ControlTlsServer(std::function<bool(int inHandshake)> room, QObject *parent = nullptr);

    // Accepted connections whose TLS handshake has not finished.
    int handshakesInProgress() const;

protected:
    void incomingConnection(qintptr socket) override;

private:
    std::function<bool(int)> m_room;
};

} // namespace greygate
