// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DaemonProcess.h"

#include <QString>
#include <QStringList>

namespace greygate::test {

// greygated as an SMTP proxy (docs/smtp.md) in front of a backend on loopback: its database
// in workDir/db, its log in workDir/greygated-smtp.log, the SMTP listener on a free loopback
// port and the policy server on another one, so tests running in parallel never meet on
// greygated's default port. Stopped by its own PID (the destructor kills it).
class SmtpProxyProcess
{
public:
    static constexpr auto Hostname = "mx.proxy.test"; // --smtp-hostname, unless given

    explicit SmtpProxyProcess(const QString &workDir);

    // Starts greygated with --smtp-listen, --smtp-backend=127.0.0.1:backendPort and
    // extraArgs (--delay, --policies, --smtp-* limits ...), and waits (bounded) until the
    // SMTP port accepts connections.
    bool start(quint16 backendPort, const QStringList &extraArgs, QString *error,
               int timeoutMs = 30'000);
    bool terminate(int timeoutMs = 10'000) { return m_process.terminate(timeoutMs); }
    bool isRunning() const { return m_process.isRunning(); }
    qint64 pid() const { return m_process.pid(); }
    quint16 port() const { return m_process.port(); }
    QString dbdir() const { return m_dbdir; }
    QString log() const { return m_process.log(); }
    // The logfmt lines greygated writes at each session's end (bounded to the log's tail).
    QStringList sessionLines() const;

private:
    QString m_dbdir;
    DaemonProcess m_process;
};

} // namespace greygate::test
