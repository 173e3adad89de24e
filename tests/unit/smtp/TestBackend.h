// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

// A minimal in-process SMTP server for the session tests: the backend the proxy relays to.
// It records every line it receives and every message (raw, still dot-stuffed), answers
// 250/354 and can be told to refuse a recipient, to vanish at the final dot or to offer
// XCLIENT; for the connection pool, to cut its connections (with a 421 first, as Postfix's
// idle timeout does, or silently) or to answer 421 to MAIL. The real peers (Postfix,
// smtp-sink) are the integration tests' business.
class TestBackend : public QObject
{
    Q_OBJECT

public:
    bool offerXclient = true;
    bool vanishAtDot = false;
    bool offerPipelining = true;
    bool refuseData = false;          // DATA gets 554 5.5.1
    QList<QByteArray> reads;          // what each read returned: which commands came in one write
    QByteArray refusedRecipient;      // RCPT TO:<this> gets 550 5.1.1
    QByteArray refusedSender;         // MAIL FROM:<this> gets 553 5.7.1, RCPT then 503
    QList<QByteArray> lines;          // every command line, in order
    QList<QByteArray> messages;       // raw DATA up to and without the final ".\r\n"
    bool vanishAtNextCommand = false; // the next command line: connection aborted, no reply
    int mail421 = 0;                  // the next n MAILs get 421 and the connection closes
    int connections = 0;
    QList<QByteArray> connectionOf; // per line in `lines`: which connection (1, 2 ...)

    // Connections still open now.
    int openConnections() const
    {
        int open = 0;
        for (const QPointer<QTcpSocket> &s : m_sockets)
            open += s && s->state() == QAbstractSocket::ConnectedState;
        return open;
    }
    // Says `goodbye` (when not empty) on every open connection and closes it.
    void dropAll(const QByteArray &goodbye)
    {
        for (const QPointer<QTcpSocket> &s : std::as_const(m_sockets)) {
            if (!s)
                continue;
            if (!goodbye.isEmpty())
                s->write(goodbye);
            s->disconnectFromHost();
        }
    }

    TestBackend()
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                ++connections;
                m_ids[s] = connections;
                m_sockets.append(s);
                s->setParent(this);
                s->write("220 backend.test ESMTP\r\n");
                connect(s, &QTcpSocket::readyRead, this, [this, s] { onRead(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
                // Keyed by the socket's address, which a later connection may get: what a
                // closed connection left unread must not become the next one's input.
                connect(s, &QObject::destroyed, this, [this, s] {
                    m_buffers.remove(s);
                    m_inData.remove(s);
                    m_noMail.remove(s);
                    m_ids.remove(s);
                });
            }
        });
    }
    bool listen() { return m_server.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_server.serverPort(); }
    void close() { m_server.close(); }

private:
    void onRead(QTcpSocket *s)
    {
        QByteArray &buf = m_buffers[s];
        const QByteArray chunk = s->readAll();
        reads.append(chunk);
        buf.append(chunk);
        for (;;) {
            if (m_inData.value(s)) {
                const qsizetype end = buf.startsWith(".\r\n") ? 0 : buf.indexOf("\r\n.\r\n");
                if (end < 0)
                    return;
                const qsizetype cut = end == 0 ? 0 : end + 2;
                messages.append(buf.left(cut));
                buf.remove(0, cut + 3);
                m_inData[s] = false;
                if (vanishAtDot) {
                    s->abort();
                    return;
                }
                s->write("250 2.0.0 Ok: queued as TEST" + QByteArray::number(messages.size()) +
                         "\r\n");
                continue;
            }
            const qsizetype lf = buf.indexOf("\r\n");
            if (lf < 0)
                return;
            const QByteArray line = buf.left(lf);
            buf.remove(0, lf + 2);
            lines.append(line);
            connectionOf.append(QByteArray::number(m_ids.value(s)));
            const QByteArray verb = line.left(4).toUpper();
            if (vanishAtNextCommand) {
                vanishAtNextCommand = false;
                s->abort();
                return;
            }
            if (line.startsWith("PROXY ")) // the PROXY protocol's header: no reply
                continue;
            if (verb == "MAIL" && mail421 > 0) {
                --mail421;
                s->write("421 4.3.2 backend.test Service shutting down\r\n");
                s->disconnectFromHost();
                return;
            }
            if (verb == "EHLO") {
                s->write("250-backend.test\r\n");
                if (offerPipelining)
                    s->write("250-PIPELINING\r\n");
                s->write("250-SIZE 10240000\r\n250-8BITMIME\r\n");
                if (offerXclient)
                    s->write("250-XCLIENT ADDR PORT NAME HELO PROTO\r\n");
                s->write("250 ENHANCEDSTATUSCODES\r\n");
            } else if (verb == "XCLI") {
                s->write("220 backend.test ESMTP\r\n");
            } else if (verb == "MAIL" && !refusedSender.isEmpty() &&
                       line.contains(QByteArray("<" + refusedSender + ">"))) {
                m_noMail[s] = true;
                s->write("553 5.7.1 <" + refusedSender + ">: Sender address rejected\r\n");
            } else if (verb == "RCPT" && m_noMail.value(s)) {
                s->write("503 5.5.1 Error: need MAIL command\r\n");
            } else if (verb == "RCPT" && !refusedRecipient.isEmpty() &&
                       line.contains(QByteArray("<" + refusedRecipient + ">"))) {
                s->write("550 5.1.1 <" + refusedRecipient + ">: Recipient address rejected\r\n");
            } else if (verb == "DATA" && (refuseData || m_noMail.value(s))) {
                s->write("554 5.5.1 Error: no valid recipients\r\n");
            } else if (verb == "DATA") {
                m_inData[s] = true;
                s->write("354 End data with <CR><LF>.<CR><LF>\r\n");
            } else if (verb == "QUIT") {
                s->write("221 2.0.0 Bye\r\n");
                s->disconnectFromHost();
                return;
            } else {
                s->write("250 2.0.0 Ok\r\n");
            }
        }
    }

    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QHash<QTcpSocket *, bool> m_inData;
    QHash<QTcpSocket *, bool> m_noMail; // MAIL refused, no transaction
    QHash<QTcpSocket *, int> m_ids;
    QList<QPointer<QTcpSocket>> m_sockets;
};
