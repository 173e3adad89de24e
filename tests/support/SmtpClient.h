// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QSslSocket>
#include <QString>
#include <optional>

namespace greygate::test {

// A blocking SMTP client that sends exactly the bytes a test gives it, for the hostile inputs
// no real client would send (smuggling sequences, over-long lines, pipelined garbage,
// commands hidden behind STARTTLS). It parses replies but never checks them: the test does.
// Use one per thread (it owns a socket and needs no event loop).
class SmtpClient
{
public:
    struct Reply
    {
        int code = 0;
        QList<QByteArray> lines; // the text of each line, after "250-" or "250 "

        // The first line's enhanced status code ("4.7.1"), or empty.
        QByteArray enhancedCode() const;
        QByteArray text() const { return lines.join('\n'); }
        int codeClass() const { return code / 100; }
        // "451 4.7.1 Greylisted..." (first line), for failure messages.
        QByteArray summary() const;
    };

    // Connects to 127.0.0.1:port, from localAddress when given (127.0.0.2 stands for a
    // client that is not the proxy's own address). Reads nothing: the banner is the first
    // readReply().
    bool connectTo(quint16 port, int timeoutMs = 5'000,
                   const QHostAddress &localAddress = QHostAddress());
    void close();
    bool isConnected() const;

    // Writes every byte (bounded by timeoutMs). False when the peer closed meanwhile.
    bool send(const QByteArray &bytes, int timeoutMs = 10'000);
    // Reads one reply, multi-line included. Nothing when the peer closed, did not answer in
    // time, or sent something that is not an SMTP reply (errorString() tells which).
    std::optional<Reply> readReply(int timeoutMs = 10'000);
    // send(line + CRLF), then readReply().
    std::optional<Reply> command(const QByteArray &line, int timeoutMs = 10'000);
    // The TLS handshake after the server's 220 to STARTTLS. The test's certificate is
    // self-signed, so the peer is not verified.
    bool startTls(int timeoutMs = 10'000);
    bool isEncrypted() const { return m_socket.isEncrypted(); }
    // True when the peer closes the connection within timeoutMs; what it sent before is
    // kept for readReply().
    bool waitForClosed(int timeoutMs);
    // Bytes received and not yet consumed by readReply().
    QByteArray unread() const { return m_buffer; }

    QString errorString() const { return m_error; }

private:
    bool fillBuffer(int timeoutMs);
    std::optional<QByteArray> readLine(int timeoutMs);

    QSslSocket m_socket;
    QByteArray m_buffer;
    QString m_error;
    bool m_peerClosed = false;
};

} // namespace greygate::test
