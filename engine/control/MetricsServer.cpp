// SPDX-License-Identifier: GPL-3.0-or-later
#include "MetricsServer.h"

#include "HttpRequestParser.h"
#include "util/LogLine.h"

#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>

Q_LOGGING_CATEGORY(lcMetrics, "greygate.metrics", QtInfoMsg)

namespace greygate {

namespace {

QByteArrayView reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

constexpr QByteArrayView kTextPlain = "text/plain; charset=utf-8";

} // namespace

struct MetricsServer::Connection
{
    HttpRequestParser parser;
    QTimer *timeout = nullptr; // a child of the socket: it goes with it (deleteLater)
    bool answered = false;
};

MetricsServer::MetricsServer(Options options, std::function<QByteArray()> metrics,
                             std::function<bool()> healthy, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_metrics(std::move(metrics))
    , m_healthy(std::move(healthy))
{
    connect(&m_server, &QTcpServer::pendingConnectionAvailable, this, &MetricsServer::accept);
}

MetricsServer::~MetricsServer()
{
    stop();
}

bool MetricsServer::start(QString *error)
{
    if (!m_server.listen(m_options.address, m_options.port)) {
        *error = QStringLiteral("cannot listen on %1 port %2: %3")
                     .arg(m_options.address.toString())
                     .arg(m_options.port)
                     .arg(m_server.errorString());
        return false;
    }
    qCInfo(lcMetrics).noquote() << LogLine("metrics listening")
                                       .add("address", m_server.serverAddress().toString())
                                       .add("port", qint64(m_server.serverPort()))
                                       .text();
    return true;
}

void MetricsServer::stop()
{
    m_server.close();
    std::vector<QTcpSocket *> sockets;
    for (const auto &[socket, connection] : m_connections)
        sockets.push_back(socket);
    for (QTcpSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
        drop(socket);
    }
}

void MetricsServer::accept()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        if (int(m_connections.size()) >= m_options.maxConnections) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto connection = std::make_unique<Connection>();
        connection->timeout = new QTimer(socket);
        connection->timeout->setSingleShot(true);
        connection->timeout->setInterval(m_options.requestTimeoutMs);
        connect(connection->timeout, &QTimer::timeout, this, [this, socket] {
            const auto it = m_connections.find(socket);
            if (it == m_connections.end())
                return;
            if (it->second->answered) {
                socket->abort(); // the client does not take its answer
                drop(socket);
                return;
            }
            respond(socket, 408, kTextPlain, QByteArrayLiteral("request timeout\n"));
        });
        connection->timeout->start();
        // Nothing is read beyond the head: a small read buffer keeps a flood from filling
        // memory before the parser sees it.
        socket->setReadBufferSize(HttpRequestParser::kMaxHeadBytes + 4);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] { drop(socket); });
        m_connections.emplace(socket, std::move(connection));
        if (socket->bytesAvailable() > 0)
            onReadyRead(socket);
    }
}

void MetricsServer::onReadyRead(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection &c = *it->second;
    if (c.answered) {
        socket->read(socket->bytesAvailable()); // after the answer: discarded
        return;
    }
    HttpRequestParser::Status status = c.parser.status();
    while (socket->bytesAvailable() > 0 && status == HttpRequestParser::Status::NeedMore)
        status = c.parser.feed(socket->read(4096));
    if (status == HttpRequestParser::Status::NeedMore)
        return;
    ++m_requests;
    if (status == HttpRequestParser::Status::Error) {
        qCDebug(lcMetrics).noquote() << LogLine("bad metrics request")
                                            .add("peer", socket->peerAddress().toString())
                                            .add("error", c.parser.errorString())
                                            .text();
        respond(socket, c.parser.errorStatus(), kTextPlain, c.parser.errorString().toUtf8() + '\n');
        return;
    }
    const QByteArray path = c.parser.path();
    const bool known = path == "/metrics" || path == "/healthz";
    if (!known) {
        respond(socket, 404, kTextPlain, QByteArrayLiteral("not found\n"));
    } else if (c.parser.method() != "GET") {
        respond(socket, 405, kTextPlain, QByteArrayLiteral("only GET\n"),
                QByteArrayView("Allow: GET\r\n"));
    } else if (path == "/metrics") {
        respond(socket, 200, kContentType, m_metrics ? m_metrics() : QByteArray());
    } else if (!m_healthy || m_healthy()) {
        respond(socket, 200, kTextPlain, QByteArrayLiteral("ok\n"));
    } else {
        respond(socket, 503, kTextPlain, QByteArrayLiteral("unhealthy\n"));
    }
}

void MetricsServer::respond(QTcpSocket *socket, int status, QByteArrayView contentType,
                            const QByteArray &body, QByteArrayView extraHeaders)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    it->second->answered = true;
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' +
                      reasonPhrase(status).toByteArray() +
                      "\r\nContent-Type: " + contentType.toByteArray() +
                      "\r\nContent-Length: " + QByteArray::number(body.size()) +
                      "\r\nCache-Control: no-store\r\nConnection: close\r\n" +
                      extraHeaders.toByteArray() + "\r\n";
    socket->write(head);
    socket->write(body);
    // Closed once written; the timer bounds a client that does not read its answer.
    it->second->timeout->start(m_options.requestTimeoutMs);
    socket->disconnectFromHost();
}

void MetricsServer::drop(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    m_connections.erase(it);
    socket->deleteLater();
}

} // namespace greygate
