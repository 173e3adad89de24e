// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QTcpServer>
#include <functional>

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

    // With --smtp-threads, each accepted descriptor goes to `handOff` as it is (the I/O
    // thread makes the socket); without it, a QTcpSocket is queued as usual.
    void setHandOff(std::function<void(qintptr descriptor)> handOff)
    {
        m_handOff = std::move(handOff);
    }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    std::function<void(qintptr)> m_handOff;
};

} // namespace greygate
