// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "BackendCapabilities.h"
#include "BackendPool.h"
#include "CrossThreadQueue.h"
#include "SmtpDecision.h"
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

class QThread;

namespace greygate {

class BackendSession;
class Clock;
class EventLog;
class RemoteDecider;
class SmtpDecider;
class SmtpWorker;
struct Event;

// The SMTP proxy's listener (docs/smtp.md): accepts clients within the connection limits
// (in all, per client address, per client address and minute; over a limit the client gets
// 421 4.7.0 or 421 4.3.2 and is closed), runs one SmtpSession each, probes the backend's
// EHLO at start and every probeIntervalMs so that EHLO advertises only what the backend
// supports too, and stops gracefully: shutdown() stops accepting, idle sessions get 421 at
// once, sessions in a transaction may finish it within the grace period, then get 421.
// The sessions run in SmtpWorkers: one on this thread, or with options.threads = N one per
// I/O thread, each connection handed to the worker with the fewest sessions; the limits,
// the decisions (SmtpDecider), the events and the probe stay on this thread.
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

    int sessionCount() const { return m_sessionCount; }
    Stats stats() const; // the server's counters and every worker's
    const BackendCapabilities &backendCapabilities() const { return m_probed; }
    // The pool of the main thread's worker (threads = 0; with I/O threads, use poolStats()).
    const BackendPool &backendPool() const;
    BackendPool::Stats poolStats() const; // every worker's, from this thread
    int poolIdleCount() const;
    bool poolEnabled() const;
    int threadCount() const { return int(m_threads.size()); }
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

    // A worker's note to this thread (batched through m_notes).
    struct Note
    {
        int worker = 0;
        QHostAddress client; // a session ended
        bool drained = false;
    };
    struct Question
    {
        SmtpRecipientQuery query;
        RemoteDecider *from = nullptr;
        quint64 ticket = 0;
    };

    bool loadTls(QString *error);
    void startWorkers();
    void stopWorkers();
    // A connection accepted (its descriptor now the server's): admitted and handed to the
    // least loaded worker, or refused.
    void acceptConnection(int fd, const QHostAddress &client, quint16 port);
    // nullptr: admitted and counted; else the refusal to send.
    const char *admit(const QHostAddress &client);
    void refuse(int fd, const char *reply);
    void onNotes(std::vector<Note> &notes);
    void onSessionEnded(int worker, const QHostAddress &client);
    void onQuestions(std::vector<Question> &questions);
    void onMessages(std::vector<Event> &events);
    void pruneRates();
    void maybeFinish();

    SmtpProxyOptions m_options;
    SmtpDecider &m_decider;
    SmtpListener m_listener;
    std::optional<QSslConfiguration> m_tls;
    // Workers: [0] on this thread when threads = 0, else one per thread of m_threads.
    std::vector<std::unique_ptr<SmtpWorker>> m_workers;
    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<std::unique_ptr<RemoteDecider>> m_remoteDeciders; // one per I/O thread
    std::vector<int> m_workerSessions;                            // per worker, as counted here
    int m_drainedWorkers = 0;
    int m_sessionCount = 0;
    CrossThreadQueue<Note> m_notes;
    CrossThreadQueue<Question> m_questions;
    CrossThreadQueue<Event> m_messages;
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
