// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QTcpServer>

namespace greygate {

// The proxy's listening socket. Its connections are plain QTcpSockets: a QSslSocket costs
// about a quarter of the proxy's whole CPU per session (its construction and its relayed
// signals, bench/README.md "Per-message cost") and most sessions never say STARTTLS, so
// SmtpSession moves the connection to a QSslSocket only when one does.
class SmtpListener final : public QTcpServer
{
    Q_OBJECT

public:
    using QTcpServer::QTcpServer;

protected:
    void incomingConnection(qintptr descriptor) override;
};

} // namespace greygate
