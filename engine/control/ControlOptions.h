// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ControlCertificate.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QStringList>
#include <functional>

namespace greygate {

class DaemonWatch;

// The control API server's settings (greygated --control-listen and the config file).
struct ControlOptions
{
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 0; // 0: an ephemeral port (tests)
    // Holds control.token and control-readonly.token (created on first start, mode 0600).
    QString tokenDir;
    QString proxyName = QStringLiteral("greygate");
    // Shown by "hello" beside the engine's own settings (listen addresses, store path...).
    QJsonObject configSummary;
    // The store's health for hello and status: "ok"/"failing" (SQLite), "up"/"connecting"/
    // "down" (Redis); unset: not told.
    std::function<QString()> storeHealth;
    // Delay analytics, alerts and the senders' recent passes (engine/alerts), for delay.stats,
    // alerts.list and triage.list; unset: those say they are not running.
    DaemonWatch *watch = nullptr;
    // TLS (wss): required on any address but loopback (ControlCertificate::useTls). The
    // certificate and key files, or none: generated into tokenDir on first start.
    ControlCertificate::Mode tlsMode = ControlCertificate::Mode::Auto;
    QString tlsCertFile;
    QString tlsKeyFile;
    // Browser origins allowed to connect (a web console); empty: any Origin is refused, so
    // a web page cannot reach the API (DNS rebinding, CVE-2018-5702).
    QStringList allowedOrigins;

    qint64 maxMessageBytes = 4 << 20; // larger requests get too_large
    // Beyond this the WebSocket layer closes the connection (1009) without reading it.
    qint64 hardMessageBytes = 16 << 20;
    int maxConnections = 64;
    // From the TCP accept to the end of the TLS handshake, and again from there to the end
    // of the WebSocket upgrade: a client that stalls in either is dropped.
    int handshakeTimeoutMs = 10'000;
    int authTimeoutMs = 10'000; // to authenticate after the upgrade
    // Per connection: a token bucket of `burst` requests refilled at `requestsPerSecond`.
    int requestsPerSecond = 100;
    int burst = 200;
    int closeAfterRateLimited = 1000; // refusals before the connection is closed
    // Authentication failures per address within failureWindowSeconds before a ban.
    int banAfterFailures = 5;
    int failureWindowSeconds = 60;
    int banSeconds = 300;
    // Event push: at most this many events per message; what a subscriber's connection may
    // hold unread is bounded by maxPendingBytes (its send buffer: at most 4 MiB), the rest
    // waits in the event log (docs/api.md, "Events").
    int maxEventsPerMessage = 2000;
    qint64 maxPendingBytes = 8 << 20;
    int flushIntervalMs = 50;
};

} // namespace greygate
