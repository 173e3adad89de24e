// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DaemonProcess.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

namespace greygate::test {

// Postfix's smtp-sink as the backend MTA under the SMTP proxy: on a free loopback port, run
// as the postfix user (it refuses to keep root), with its conversation (-v) and its counters
// (-c) in a log, and one capture file per message (-d) in its own temp dir.
//
// smtp-sink frames DATA strictly (only CRLF "." CRLF ends a message) and its capture files
// drop line ends: for SMTP smuggling, whose witness must be a lax server, use a private
// Postfix as the backend instead (tst_smtp_proxy_smuggling).
//
// What counts as delivered is the sink's own message counter ("mesg=N", bumped only when it
// answers the final dot), never the capture files alone: a file exists while a transaction
// is in progress and is removed when it is aborted.
class SmtpSinkProcess
{
public:
    // extraArgs: further smtp-sink options, e.g. "-C" (no XCLIENT) or "-e" (no ESMTP).
    explicit SmtpSinkProcess(QStringList extraArgs = {});
    SmtpSinkProcess(const SmtpSinkProcess &) = delete;
    SmtpSinkProcess &operator=(const SmtpSinkProcess &) = delete;

    // Starts smtp-sink on a free loopback port and waits (bounded) until it accepts.
    bool start(QString *error, int timeoutMs = 15'000);
    // SIGTERM by its PID, then SIGKILL.
    void stop();
    bool isRunning() const { return m_process.isRunning(); }
    quint16 port() const { return m_process.port(); }
    qint64 pid() const { return m_process.pid(); }

    // Messages the sink answered the final dot for, from its own counter.
    int messageCount() const;
    // Connections (SMTP sessions) that have ended, from its own counter: a connection
    // still open is not counted yet.
    int sessionCount() const;
    // Waits (bounded) until messageCount() >= count.
    bool waitForMessages(int count, int timeoutMs) const;
    // The captured messages: smtp-sink's X-Client-Addr, X-Helo-Args, X-Mail-Args,
    // X-Rcpt-Args and Received lines, then the message as received. Oldest first. Call it
    // when no transaction is in progress (see above).
    QList<QByteArray> messages() const;
    // The conversation as the sink logged it (the commands it received), bounded.
    QString log() const { return m_process.log(); }

private:
    QStringList m_extraArgs;
    QTemporaryDir m_dir;
    DaemonProcess m_process;
};

} // namespace greygate::test
