// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyClient.h"

#include <QDeadlineTimer>

namespace greygate::test {

namespace {
// A reply is one short line; anything this long is not a policy server talking.
constexpr qsizetype MaxReply = 64 * 1024;
} // namespace

bool PolicyClient::connectTo(quint16 port, int timeoutMs)
{
    m_buffer.clear();
    m_socket.abort();
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    if (!m_socket.waitForConnected(timeoutMs)) {
        m_error = m_socket.errorString();
        return false;
    }
    m_socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
    return true;
}

void PolicyClient::close()
{
    m_socket.abort();
    m_buffer.clear();
}

bool PolicyClient::isConnected() const
{
    return m_socket.state() == QAbstractSocket::ConnectedState;
}

PolicyClient::Attributes PolicyClient::rcptRequest(const QByteArray &clientAddress,
                                                   const QByteArray &sender,
                                                   const QByteArray &recipient,
                                                   const QByteArray &instance)
{
    return {
        {QByteArrayLiteral("request"), QByteArrayLiteral("smtpd_access_policy")},
        {QByteArrayLiteral("protocol_state"), QByteArrayLiteral("RCPT")},
        {QByteArrayLiteral("protocol_name"), QByteArrayLiteral("ESMTP")},
        {QByteArrayLiteral("client_address"), clientAddress},
        {QByteArrayLiteral("client_name"), QByteArrayLiteral("unknown")},
        {QByteArrayLiteral("reverse_client_name"), QByteArrayLiteral("unknown")},
        {QByteArrayLiteral("helo_name"), QByteArrayLiteral("client.example")},
        {QByteArrayLiteral("sender"), sender},
        {QByteArrayLiteral("recipient"), recipient},
        {QByteArrayLiteral("recipient_count"), QByteArrayLiteral("0")},
        {QByteArrayLiteral("queue_id"), QByteArray()},
        {QByteArrayLiteral("instance"), instance},
        {QByteArrayLiteral("size"), QByteArrayLiteral("0")},
    };
}

std::optional<QByteArray> PolicyClient::askRcpt(const QByteArray &clientAddress,
                                                const QByteArray &sender,
                                                const QByteArray &recipient,
                                                const QByteArray &instance, int timeoutMs)
{
    const QByteArray inst = instance.isEmpty() ? sender + '/' + recipient : instance;
    return ask(rcptRequest(clientAddress, sender, recipient, inst), timeoutMs);
}

std::optional<QByteArray> PolicyClient::ask(const Attributes &attributes, int timeoutMs)
{
    if (!isConnected()) {
        m_error = QStringLiteral("not connected");
        return std::nullopt;
    }
    QByteArray request;
    for (const auto &[name, value] : attributes)
        request += name + '=' + value + '\n';
    request += '\n';
    const QDeadlineTimer deadline(timeoutMs);
    m_socket.write(request);
    while (m_socket.bytesToWrite() > 0) {
        if (deadline.hasExpired() || !m_socket.waitForBytesWritten(deadline.remainingTime())) {
            m_error = QStringLiteral("write: ") + m_socket.errorString();
            return std::nullopt;
        }
    }
    qsizetype end = -1;
    while ((end = m_buffer.indexOf("\n\n")) < 0) {
        if (m_buffer.size() > MaxReply) {
            m_error = QStringLiteral("reply too long");
            return std::nullopt;
        }
        if (m_socket.bytesAvailable() == 0 &&
            (deadline.hasExpired() || !m_socket.waitForReadyRead(deadline.remainingTime()))) {
            m_error = deadline.hasExpired() ? QStringLiteral("no answer in time")
                                            : QStringLiteral("read: ") + m_socket.errorString();
            return std::nullopt;
        }
        m_buffer += m_socket.readAll();
    }
    const QByteArray reply = m_buffer.left(end);
    m_buffer.remove(0, end + 2);
    // One reply is "action=..."; Postfix ignores other attributes, so do we.
    for (const QByteArray &line : reply.split('\n')) {
        if (line.startsWith("action="))
            return line.mid(7);
    }
    m_error = QStringLiteral("reply without action: ") + QString::fromLatin1(reply.left(200));
    return std::nullopt;
}

} // namespace greygate::test
