// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>
#include <functional>

namespace greygate::test {

// What a program printed and how it ended, for a program run to completion.
struct ProgramResult
{
    bool finished = false; // false: it did not end in time and was killed
    int exitCode = -1;
    QProcess::ExitStatus exitStatus = QProcess::CrashExit;
    QByteArray out;
    QByteArray err;
};

// Runs a program to completion (bounded): for command-line checks and tools such as swaks.
ProgramResult runProgram(const QString &program, const QStringList &args, int timeoutMs);

// A server under test (greygated, postgrey, ...), started by the test and stopped only by its
// own PID. Its stdout and stderr go to a file, so a failing test can show what it said. The
// destructor kills it (SIGKILL) if it is still running, so a failed QVERIFY leaves nothing.
class DaemonProcess
{
public:
    explicit DaemonProcess(QString logPath);
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess &) = delete;
    DaemonProcess &operator=(const DaemonProcess &) = delete;

    // Starts the program and waits until 127.0.0.1:port accepts a connection (bounded by
    // timeoutMs). Fails early, with the program's output in *error, if it exits meanwhile.
    bool start(const QString &program, const QStringList &args, quint16 port, int timeoutMs,
               QString *error);
    // start() on a free loopback port, built into the arguments by argsForPort; retried on
    // a new port (bounded) when the one picked was taken meanwhile. port() tells which.
    bool startOnFreePort(const QString &program,
                         const std::function<QStringList(quint16)> &argsForPort, int timeoutMs,
                         QString *error);
    quint16 port() const { return m_port; }

    // SIGTERM, then waits for the exit (bounded). True if it exited within the time.
    bool terminate(int timeoutMs = 10'000);
    // SIGKILL (kill -9), then waits for the exit.
    void kill();

    bool isRunning() const;
    qint64 pid() const;
    int exitCode() const;
    QProcess::ExitStatus exitStatus() const;
    QString program() const { return m_program; }
    QString logPath() const { return m_logPath; }
    // Everything the program wrote so far (stdout and stderr), bounded, for failure messages.
    QString log() const;
    // Waits (bounded) until the log says what listens ("msg=\"<message>\" ... port=N", e.g.
    // "control API listening") and returns that port; 0 if it never did.
    quint16 portFromLog(const QString &message, int timeoutMs = 10'000) const;

private:
    QString m_logPath;
    QString m_program;
    quint16 m_port = 0;
    QProcess m_process;
};

// True when 127.0.0.1:port accepts a TCP connection within timeoutMs (refusals retried).
bool portAcceptsConnections(quint16 port, int timeoutMs);

} // namespace greygate::test
