// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>

class QSocketNotifier;

namespace greygate {

// The proxy's listening socket, on a plain descriptor: accept4() gives each connection
// non-blocking and close-on-exec with its peer's address, and TCP_NODELAY comes from the
// listening socket (Linux passes it on), so an accepted connection costs one system call.
// QTcpServer cost five more per connection (bench/README.md "SMTP proxy").
class SmtpListener final : public QObject
{
    Q_OBJECT

public:
    // An accepted descriptor (now the handler's) and its peer, an IPv4-mapped address as
    // plain IPv4.
    using Handler = std::function<void(int fd, const QHostAddress &peer, quint16 port)>;

    explicit SmtpListener(QObject *parent = nullptr);
    ~SmtpListener() override;

    void setHandler(Handler handler) { m_handler = std::move(handler); }
    // QHostAddress::Any listens on IPv6 and IPv4 (IPv4 only without IPv6), as QTcpServer.
    bool listen(const QHostAddress &address, quint16 port, int backlog, QString *error);
    void close();
    bool isListening() const { return m_fd >= 0; }
    QHostAddress serverAddress() const { return m_address; }
    quint16 serverPort() const { return m_port; }

private:
    void acceptPending();

    int m_fd = -1;
    std::unique_ptr<QSocketNotifier> m_notifier;
    Handler m_handler;
    QHostAddress m_address;
    quint16 m_port = 0;
    bool m_fdLimitLogged = false;
};

} // namespace greygate
