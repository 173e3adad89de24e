// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "config/DaemonOptions.h"
#include "greylist/Clock.h"
#include "greylist/GreylistConfig.h"
#include "greylist/PassClock.h"

#include <QObject>
#include <QTimer>
#include <memory>

namespace greygate {

class AnswerFirstRecorder;
class ControlServer;
class DecisionRecorder;
class EventLog;
class MetricsServer;
class GreylistEngine;
class GreylistPolicyHandler;
class PolicyServer;
class PolicyHandlerDecider;
class SmtpServer;
class RedisRuntime;
class Store;

// The daemon's parts wired together: store, engine, policy handler, event log, policy
// server (answering through the DecisionRecorder) and, with --control-listen, the control API.
// start() brings them up in order and tells what failed with an exit code; shutdown() stops
// accepting, answers what was decided, closes the store and emits stopped().
class Greygated : public QObject
{
    Q_OBJECT

public:
    explicit Greygated(const DaemonOptions &options, QObject *parent = nullptr);
    ~Greygated() override;

    int start(); // ExitOk when serving, else an ExitCode with the reason logged
    void shutdown();
    // The store for the control API's status and hello: "sqlite" or "redis", and its health
    // ("ok"/"failing" for SQLite's commits; "up"/"connecting"/"down" for Redis).
    QString storeKind() const;
    QString storeHealth() const;
    // SIGHUP: re-reads the config file and the --policies document under the same command
    // line and applies, without dropping a connection, what a running daemon can take (the
    // policies, the internal domains and networks, the log level); it logs "reloaded" with
    // what changed and what needs a restart. An invalid configuration changes nothing (logged,
    // false): a typo in a reload must not take a serving gateway down.
    bool reload();

    // What start() actually bound (port 0 asks for an ephemeral one), for the console's
    // bundled engine; 0 when not listening.
    quint16 policyPort() const;
    quint16 controlPort() const;
    // The admin token file of the control API (empty without --control-listen).
    QString adminTokenPath() const;

Q_SIGNALS:
    void stopped();

private:
    void finishShutdown();
    int startSmtp(); // --smtp-listen: ExitOk, or why the SMTP proxy could not start
    // --migrate-store FROM TO: copies, logs, and stops.
    int migrateStore();
    // --store=redis://: ExitOk or why not.
    int openRedis(const GreylistConfig &config);
    bool writePidFile(QString *error);
    int startControl(); // ExitOk, or why the control API could not start
    int startMetrics(); // likewise for --metrics-listen
    void restoreStats();
    void saveStats();

    DaemonOptions m_options;
    SystemClock m_clock;
    // The decision path's clock (engine, policy handler, recorder): read once per pass of
    // the main thread's epoll loop instead of three or four times per decision.
    PassClock m_passClock{m_clock};
    std::unique_ptr<Store> m_store; // SqliteStore, or RedisStore with --store=redis://
    // --store=redis://: the connections, decider, sweep and policy sync around m_store
    // (declared after it: destroyed first).
    std::unique_ptr<RedisRuntime> m_redis;
    std::unique_ptr<GreylistEngine> m_engine;
    std::unique_ptr<GreylistPolicyHandler> m_handler;
    // Always made, with or without --control-listen: the server answers through the
    // recorder, so the statistics and the event stream are the same either way.
    std::unique_ptr<EventLog> m_events;
    std::unique_ptr<DecisionRecorder> m_recorder;
    std::unique_ptr<AnswerFirstRecorder> m_serverHandler; // the policy server's: m_recorder's
    std::unique_ptr<PolicyServer> m_server;
    std::unique_ptr<ControlServer> m_control;
    std::unique_ptr<MetricsServer> m_metrics;
    // --smtp-listen: the SMTP proxy, deciding through the same recorder and handler.
    std::unique_ptr<PolicyHandlerDecider> m_smtpDecider;
    std::unique_ptr<SmtpServer> m_smtp;
    bool m_smtpStopped = false;
    bool m_waitingForSmtp = false;
    qint64 m_startedAt = 0;
    QTimer m_statsTimer; // saves the per-minute statistics every few minutes
    bool m_stopping = false;
};

} // namespace greygate
