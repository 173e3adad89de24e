// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QThread>
#include <atomic>

namespace greygate {

// A whole proxy on its own thread, wired as greygated wires it (a SqliteStore in a temp dir,
// the engine, the policy handler, the EventLog and the real ControlServer on a loopback
// ephemeral port), whose event log receives `rate` attempt events a second for `seconds`:
// the console under test reads them through the real control API, batched by the real
// server, exactly as it reads a busy proxy's. Appending to the log directly (instead of
// deciding real RCPTs) keeps the rate exact and the server thread's cost small; the events
// are what DecisionRecorder records: varied clients, senders, outcomes and reasons.
class BenchEventSource : public QThread
{
    Q_OBJECT

public:
    BenchEventSource(int rate, double seconds, QString dir);

    // After ready(): where to connect.
    quint16 port() const { return m_port.load(); }
    QByteArray token() const { return m_token; }
    QString error() const { return m_error; }
    quint64 appended() const { return m_appended.load(); }
    // CPU seconds of the proxy's thread (the server's encoding and sending), after wait().
    double cpuSeconds() const { return m_cpuSeconds; }
    // Starts the events (the console is subscribed); they stop after `seconds`.
    void go() { m_go.store(true); }
    void finish() { m_stop.store(true); }

Q_SIGNALS:
    void ready(bool ok);

protected:
    void run() override;

private:
    int m_rate;
    double m_seconds;
    QString m_dir;
    std::atomic<quint16> m_port{0};
    QByteArray m_token;
    QString m_error;
    std::atomic<quint64> m_appended{0};
    std::atomic<bool> m_go{false};
    std::atomic<bool> m_stop{false};
    double m_cpuSeconds = 0;
};

} // namespace greygate
