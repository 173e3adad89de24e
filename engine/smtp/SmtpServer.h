// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "BackendCapabilities.h"
#include "BackendPool.h"
#include "SmtpListener.h"
#include "SmtpProxyOptions.h"
#include "SmtpStats.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSslConfiguration>
#include <QTimer>
#include <memory>
#include <optional>
#include <unordered_map>

class QTcpSocket;

namespace greygate {

class BackendSession;
class Clock;
class EventLog;
class SmtpDecider;
class SmtpSession;

// The SMTP proxy's listener (docs/smtp.md): accepts clients within the connection limits
// (in all, per client address, per client address and minute; over a limit the client gets
// 421 4.7.0 or 421 4.3.2 and is closed), runs one SmtpSession each, probes the backend's
// EHLO at start and every probeIntervalMs so that EHLO advertises only what the backend
// supports too, and stops gracefully: shutdown() stops accepting, idle sessions get 421 at
// once, sessions in a transaction may finish it within the grace period, then get 421.
class SmtpServer : public QObject
{
    Q_OBJECT

public:
    using Stats = SmtpStats;

    SmtpServer(const SmtpProxyOptions &options, SmtpDecider &decider, QObject *parent = nullptr);
    ~SmtpServer() override;

    // One Message event per message at the end of DATA goes to `events`, timed by `clock`
    // (docs/api.md); without it (nullptr) none. Set before listen(); both outlive the server.
    void setEventLog(EventLog *events, const Clock *clock);

    // Loads the TLS certificate and key (when configured), listens and starts probing.
    bool listen(QString *error);
    quint16 serverPort() const { return m_listener.serverPort(); }
    QHostAddress serverAddress() const { return m_listener.serverAddress(); }
    void shutdown();

    int sessionCount() const { return int(m_sessions.size()); }
    const Stats &stats() const { return m_stats; }
    const BackendCapabilities &backendCapabilities() const { return m_probed; }
    const BackendPool &backendPool() const { return m_pool; }
    void probeBackend();

Q_SIGNALS:
    void shutdownFinished();
    void backendProbed(bool ok); // after each probe

private:
    struct RateWindow
    {
        qint64 startMs = 0;
        int count = 0;
    };

    bool loadTls(QString *error);
    void acceptConnections();
    void refuse(QTcpSocket *socket, const char *reply);
    void onSessionFinished(SmtpSession *session);
    void pruneRates();
    void maybeFinish();

    SmtpProxyOptions m_options;
    SmtpDecider &m_decider;
    SmtpListener m_listener;
    BackendPool m_pool; // before m_sessions: they give their connections back to it
    std::optional<QSslConfiguration> m_tls;
    std::unordered_map<SmtpSession *, std::unique_ptr<SmtpSession>> m_sessions;
    QHash<QHostAddress, int> m_perClient;
    QHash<QHostAddress, RateWindow> m_rates;
    QElapsedTimer m_clock;
    QTimer m_pruneTimer;
    QTimer m_probeTimer;
    QTimer m_graceTimer;
    BackendCapabilities m_probed;
    BackendSession *m_probe = nullptr;
    bool m_probeFailedLogged = false;
    quint64 m_nextId = 1;
    bool m_shuttingDown = false;
    bool m_finished = false;
    EventLog *m_events = nullptr;
    const Clock *m_eventClock = nullptr;
    Stats m_stats;
};

} // namespace greygate
