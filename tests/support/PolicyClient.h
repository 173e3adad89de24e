// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QTcpSocket>
#include <optional>
#include <utility>

namespace greygate::test {

// A blocking client of the Postfix policy delegation protocol, as Postfix's smtpd speaks it:
// "name=value" lines, an empty line, then "action=..." and an empty line back; many requests
// on one connection. Use one per thread (it owns a QTcpSocket and needs no event loop).
class PolicyClient
{
public:
    using Attributes = QList<std::pair<QByteArray, QByteArray>>;

    bool connectTo(quint16 port, int timeoutMs = 5'000);
    void close();
    bool isConnected() const;

    // Sends one request and returns the action without "action=" ("DUNNO",
    // "DEFER_IF_PERMIT ..."), or nothing if the server closed the connection, answered
    // something that is not a policy reply, or did not answer within timeoutMs.
    std::optional<QByteArray> ask(const Attributes &attributes, int timeoutMs = 10'000);

    // A RCPT-stage request like the ones Postfix sends for one recipient.
    static Attributes rcptRequest(const QByteArray &clientAddress, const QByteArray &sender,
                                  const QByteArray &recipient, const QByteArray &instance);
    std::optional<QByteArray> askRcpt(const QByteArray &clientAddress, const QByteArray &sender,
                                      const QByteArray &recipient, const QByteArray &instance = {},
                                      int timeoutMs = 10'000);

    QString errorString() const { return m_error; }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
    QString m_error;
};

} // namespace greygate::test
