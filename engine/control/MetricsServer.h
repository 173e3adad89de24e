// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QTcpServer>
#include <functional>
#include <unordered_map>

class QTcpSocket;
class QTimer;

namespace greygate {

// greygated --metrics-listen: a deliberately small HTTP/1.1 server for Prometheus and
// health checks. GET /metrics (text format 0.0.4, from the producer) and GET /healthz
// ("ok", or 503 when the health check says no); 404 for another path, 405 for another
// method, 400/431/505 for a malformed request (HttpRequestParser), 408 when the head does
// not arrive within requestTimeoutMs. One request per connection: the answer carries
// "Connection: close" and the connection is closed after it. Connections beyond
// maxConnections are closed at once, so a flood cannot grow memory.
class MetricsServer : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QHostAddress address = QHostAddress::LocalHost;
        quint16 port = 0; // 0: ephemeral
        int maxConnections = 32;
        int requestTimeoutMs = 5'000;
    };

    MetricsServer(Options options, std::function<QByteArray()> metrics,
                  std::function<bool()> healthy, QObject *parent = nullptr);
    ~MetricsServer() override;

    bool start(QString *error);
    void stop();

    quint16 serverPort() const { return m_server.serverPort(); }
    QHostAddress serverAddress() const { return m_server.serverAddress(); }
    int connectionCount() const { return int(m_connections.size()); }
    quint64 requestCount() const { return m_requests; }

    static constexpr QByteArrayView kContentType = "text/plain; version=0.0.4; charset=utf-8";

private:
    struct Connection;

    void accept();
    void onReadyRead(QTcpSocket *socket);
    void respond(QTcpSocket *socket, int status, QByteArrayView contentType, const QByteArray &body,
                 QByteArrayView extraHeaders = {});
    void drop(QTcpSocket *socket);

    Options m_options;
    std::function<QByteArray()> m_metrics;
    std::function<bool()> m_healthy;
    QTcpServer m_server;
    std::unordered_map<QTcpSocket *, std::unique_ptr<Connection>> m_connections;
    quint64 m_requests = 0;
};

} // namespace greygate
