// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpClient.h"

#include <QDeadlineTimer>
#include <QSslConfiguration>

namespace greygate::test {

namespace {
// A reply line longer than this, or a reply of more lines, is not SMTP: the server under test
// is misbehaving and the client stops rather than buffering without end.
constexpr qsizetype MaxReplyLine = 64 * 1024;
constexpr int MaxReplyLines = 1'000;
constexpr qint64 WriteChunk = 64 * 1024;

int remaining(const QDeadlineTimer &deadline)
{
    return int(qMax<qint64>(0, deadline.remainingTime()));
}
} // namespace

QByteArray SmtpClient::Reply::enhancedCode() const
{
    if (lines.isEmpty())
        return {};
    const QByteArray first = lines.first();
    const qsizetype space = first.indexOf(' ');
    const QByteArray word = space < 0 ? first : first.left(space);
    // x.y.z with a class digit and one to three digits in each of the others.
    const QList<QByteArray> parts = word.split('.');
    if (parts.size() != 3 || parts[0].size() != 1)
        return {};
    for (const QByteArray &part : parts) {
        if (part.isEmpty() || part.size() > 3)
            return {};
        for (char c : part) {
            if (c < '0' || c > '9')
                return {};
        }
    }
    return word;
}

QByteArray SmtpClient::Reply::summary() const
{
    return QByteArray::number(code) + ' ' + (lines.isEmpty() ? QByteArray() : lines.first());
}

bool SmtpClient::connectTo(quint16 port, int timeoutMs, const QHostAddress &localAddress)
{
    m_buffer.clear();
    m_error.clear();
    m_peerClosed = false;
    if (!localAddress.isNull() && !m_socket.bind(localAddress, 0)) {
        m_error = QStringLiteral("cannot bind %1: %2")
                      .arg(localAddress.toString(), m_socket.errorString());
        return false;
    }
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    if (!m_socket.waitForConnected(timeoutMs)) {
        m_error =
            QStringLiteral("cannot connect to port %1: %2").arg(port).arg(m_socket.errorString());
        return false;
    }
    return true;
}

void SmtpClient::close()
{
    m_socket.abort();
}

bool SmtpClient::isConnected() const
{
    return !m_peerClosed && m_socket.state() == QAbstractSocket::ConnectedState;
}

bool SmtpClient::send(const QByteArray &bytes, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (qsizetype offset = 0; offset < bytes.size(); offset += WriteChunk) {
        if (m_socket.state() != QAbstractSocket::ConnectedState) {
            m_error = QStringLiteral("the server closed the connection while we were writing");
            return false;
        }
        const QByteArray chunk = bytes.mid(offset, WriteChunk);
        if (m_socket.write(chunk) != chunk.size()) {
            m_error = QStringLiteral("write failed: ") + m_socket.errorString();
            return false;
        }
        while (m_socket.bytesToWrite() > 0) {
            if (deadline.hasExpired() || !m_socket.waitForBytesWritten(remaining(deadline))) {
                m_error = QStringLiteral("write did not complete: ") + m_socket.errorString();
                return false;
            }
        }
    }
    return true;
}

bool SmtpClient::fillBuffer(int timeoutMs)
{
    if (m_socket.bytesAvailable() == 0 && !m_peerClosed) {
        if (m_socket.state() != QAbstractSocket::ConnectedState ||
            !m_socket.waitForReadyRead(timeoutMs)) {
            if (m_socket.state() != QAbstractSocket::ConnectedState)
                m_peerClosed = true;
        }
    }
    const QByteArray data = m_socket.readAll();
    m_buffer += data;
    return !data.isEmpty();
}

std::optional<QByteArray> SmtpClient::readLine(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (true) {
        const qsizetype lf = m_buffer.indexOf('\n');
        if (lf >= 0) {
            QByteArray line = m_buffer.left(lf);
            m_buffer.remove(0, lf + 1);
            if (line.endsWith('\r'))
                line.chop(1);
            return line;
        }
        if (m_buffer.size() > MaxReplyLine) {
            m_error = QStringLiteral("a reply line longer than %1 bytes").arg(MaxReplyLine);
            return std::nullopt;
        }
        if (!fillBuffer(remaining(deadline))) {
            if (m_peerClosed || m_socket.state() != QAbstractSocket::ConnectedState) {
                m_peerClosed = true;
                m_error = m_buffer.isEmpty()
                              ? QStringLiteral("the server closed the connection")
                              : QStringLiteral("the server closed the connection mid-line: ") +
                                    QString::fromLatin1(m_buffer.left(200).toPercentEncoding());
                return std::nullopt;
            }
            if (deadline.hasExpired()) {
                m_error = QStringLiteral("no reply within %1 ms").arg(timeoutMs);
                return std::nullopt;
            }
        }
    }
}

std::optional<SmtpClient::Reply> SmtpClient::readReply(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    Reply reply;
    for (int n = 0; n < MaxReplyLines; ++n) {
        const std::optional<QByteArray> line = readLine(remaining(deadline));
        if (!line)
            return std::nullopt;
        bool ok = false;
        const int code = line->left(3).toInt(&ok);
        const char separator = line->size() > 3 ? line->at(3) : ' ';
        if (line->size() < 3 || !ok || code < 200 || code > 599 ||
            (separator != ' ' && separator != '-') || (reply.code != 0 && code != reply.code)) {
            m_error = QStringLiteral("not an SMTP reply line: ") +
                      QString::fromLatin1(line->left(200).toPercentEncoding(" <>@.-:,;()[]"));
            return std::nullopt;
        }
        reply.code = code;
        reply.lines.append(line->mid(4));
        if (separator == ' ')
            return reply;
    }
    m_error = QStringLiteral("a reply of more than %1 lines").arg(MaxReplyLines);
    return std::nullopt;
}

std::optional<SmtpClient::Reply> SmtpClient::command(const QByteArray &line, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    if (!send(line + "\r\n", timeoutMs))
        return std::nullopt;
    return readReply(remaining(deadline));
}

bool SmtpClient::startTls(int timeoutMs)
{
    if (!m_buffer.isEmpty()) {
        // The server sent something after its 220 in plaintext: that is a bug under test.
        m_error = QStringLiteral("plaintext bytes after the 220 to STARTTLS: ") +
                  QString::fromLatin1(m_buffer.left(200).toPercentEncoding());
        return false;
    }
    QSslConfiguration config = m_socket.sslConfiguration();
    config.setPeerVerifyMode(QSslSocket::VerifyNone);
    m_socket.setSslConfiguration(config);
    m_socket.startClientEncryption();
    if (!m_socket.waitForEncrypted(timeoutMs)) {
        m_error = QStringLiteral("TLS handshake failed: ") + m_socket.errorString();
        return false;
    }
    return true;
}

bool SmtpClient::waitForClosed(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (!m_peerClosed && m_socket.state() == QAbstractSocket::ConnectedState) {
        // Keep what arrives: a test may still want to read the last reply.
        if (!fillBuffer(remaining(deadline)) && deadline.hasExpired())
            break;
        // Bounded: a server flooding us with bytes is not a close either.
        if (m_buffer.size() > 16 * MaxReplyLine)
            m_buffer.remove(0, m_buffer.size() - MaxReplyLine);
    }
    m_buffer += m_socket.readAll();
    return m_peerClosed || m_socket.state() != QAbstractSocket::ConnectedState;
}

} // namespace greygate::test
