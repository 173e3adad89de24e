// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QString>

namespace greygate {

// The SMTP proxy's configuration (greygated's --smtp-* options, docs/smtp.md).
struct SmtpProxyOptions
{
    // How the real client is passed to the backend.
    enum class PassClient : quint8
    {
        Auto,    // XCLIENT when the backend offers it, else nothing
        Xclient, // XCLIENT, required: a backend without it is a configuration error (451)
        ProxyV1, // HAProxy PROXY protocol, text
        ProxyV2, // HAProxy PROXY protocol, binary
        None,
    };

    QHostAddress listenAddress = QHostAddress(QHostAddress::LocalHost);
    quint16 listenPort = 0;
    QHostAddress backendAddress = QHostAddress(QHostAddress::LocalHost);
    quint16 backendPort = 0;
    QByteArray hostname = QByteArrayLiteral("localhost"); // banner and EHLO name
    PassClient passClient = PassClient::Auto;
    QString tlsCertFile; // both set: STARTTLS offered
    QString tlsKeyFile;
    bool normaliseBareLf = false;
    int maxConnections = 2500;
    int maxPerClient = 20;
    int ratePerClient = 0; // connections per minute per client address; 0: no limit
    qint64 maxMessageSize = 50 * 1024 * 1024;
    int maxRecipients = 100; // RFC 5321 §4.5.3.1.8's minimum, also Postfix's default
    int maxErrors = 50;      // bad commands before the session is closed
    int commandTimeoutMs = 300'000;
    int dataTimeoutMs = 180'000;
    int finalTimeoutMs = 600'000;
    int bannerDelayMs = 0;
    int backendConnectTimeoutMs = 30'000;
    int shutdownGraceMs = 10'000; // sessions in a transaction finish within this, then 421
    int probeIntervalMs = 60'000; // the backend's EHLO is probed at start and this often
    // Idle, greeted backend connections kept for the next sessions (BackendPool); 0: each
    // session opens its own. Never with the PROXY protocol (its header is per connection).
    int backendPoolSize = 20;
    // Shorter than the backend's own idle timeout (Postfix smtpd's 300 s), so the pool
    // closes an idle connection before the backend does.
    int backendPoolIdleMs = 30'000;
    int backendPoolMaxUses = 100; // client sessions one backend connection serves
    int backendPoolPreopen = 2;   // connections opened ahead at once when the pool is dry
    // Client sessions spread over this many I/O threads, each with its own event loop and
    // backend pool shard (backendPoolSize / threads, rounded up); the decisions stay on the
    // main thread.
    // 0: the sessions run on the main thread.
    int threads = 0;

    static bool parsePassClient(QStringView text, PassClient *mode);
    static QString passClientName(PassClient mode);
};

} // namespace greygate
