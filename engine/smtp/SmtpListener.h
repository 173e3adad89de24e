// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QTcpServer>

namespace greygate {

// A QTcpServer whose connections are QSslSocket, unencrypted until STARTTLS: the session
// can then start TLS on the socket it already has.
class SmtpListener final : public QTcpServer
{
    Q_OBJECT

public:
    using QTcpServer::QTcpServer;

protected:
    void incomingConnection(qintptr descriptor) override;
};

} // namespace greygate
