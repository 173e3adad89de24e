// SPDX-License-Identifier: GPL-3.0-or-later
#include "DaemonProcess.h"

#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <algorithm>
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace greygate::test {

namespace {
constexpr qint64 MaxLogShown = 64 * 1024;

// A program under test dies with the test, even when CTest kills the test on a timeout:
// nothing is left running that nobody will stop.
void dieWithParent(QProcess &process)
{
    process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
}
} // namespace

ProgramResult runProgram(const QString &program, const QStringList &args, int timeoutMs)
{
    ProgramResult result;
    QProcess process;
    dieWithParent(process);
    process.start(program, args);
    if (!process.waitForStarted(timeoutMs)) {
        result.err = process.errorString().toUtf8();
        return result;
    }
    process.closeWriteChannel();
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished(5'000);
    } else {
        result.finished = true;
    }
    result.exitCode = process.exitCode();
    result.exitStatus = process.exitStatus();
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

bool portAcceptsConnections(quint16 port, int timeoutMs)
{
    // A refused connection comes back at once: retry until the deadline, since a daemon
    // opens its listeners one after the other (the SMTP port after the policy port).
    QElapsedTimer clock;
    clock.start();
    do {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port);
        const bool ok = socket.waitForConnected(int(qMax<qint64>(1, timeoutMs - clock.elapsed())));
        socket.abort();
        if (ok)
            return true;
        QThread::msleep(50);
    } while (clock.elapsed() < timeoutMs);
    return false;
}

DaemonProcess::DaemonProcess(QString logPath)
    : m_logPath(std::move(logPath))
{
    dieWithParent(m_process);
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.setStandardOutputFile(m_logPath, QIODevice::Append);
}

DaemonProcess::~DaemonProcess()
{
    if (isRunning())
        kill();
}

bool DaemonProcess::start(const QString &program, const QStringList &args, quint16 port,
                          int timeoutMs, QString *error)
{
    m_program = program;
    m_port = port;
    QStringList effective = args;
    // Started as root (CI), greygated would drop to the packaged `greygate` user when it
    // exists and lose access to the test's temp dirs: tests keep root explicitly.
    // Only the build's own greygated: an installed one (the packaging test) must drop.
    const QString buildDir = qEnvironmentVariable("GREYGATE_BINARY_DIR");
    if (::geteuid() == 0 && !buildDir.isEmpty() && program.startsWith(buildDir) &&
        program.endsWith(QLatin1String("/greygated")) &&
        !std::any_of(args.begin(), args.end(),
                     [](const QString &a) { return a.startsWith(QLatin1String("--user")); }))
        effective.append(QStringLiteral("--user=root"));
    m_process.start(program, effective);
    if (!m_process.waitForStarted(timeoutMs)) {
        *error = QStringLiteral("cannot start %1: %2").arg(program, m_process.errorString());
        return false;
    }
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (m_process.state() != QProcess::Running) {
            *error = QStringLiteral("%1 exited (code %2) before listening on port %3:\n%4")
                         .arg(program)
                         .arg(m_process.exitCode())
                         .arg(port)
                         .arg(log());
            return false;
        }
        if (portAcceptsConnections(port, 200))
            return true;
        // Also reaps the child if it has exited, so state() above sees it.
        m_process.waitForFinished(50);
    }
    *error = QStringLiteral("%1 did not listen on port %2 within %3 ms:\n%4")
                 .arg(program)
                 .arg(port)
                 .arg(timeoutMs)
                 .arg(log());
    kill();
    return false;
}

bool DaemonProcess::startOnFreePort(const QString &program,
                                    const std::function<QStringList(quint16)> &argsForPort,
                                    int timeoutMs, QString *error)
{
    for (int attempt = 0; attempt < 3; ++attempt) {
        const quint16 port = freeTcpPort();
        if (start(program, argsForPort(port), port, timeoutMs, error))
            return true;
        // Only a port taken between our probe and the program's bind is worth a retry.
        if (!error->contains(QStringLiteral("in use"), Qt::CaseInsensitive))
            return false;
    }
    return false;
}

bool DaemonProcess::terminate(int timeoutMs)
{
    if (!isRunning())
        return true;
    m_process.terminate(); // SIGTERM to our child's PID
    return m_process.waitForFinished(timeoutMs);
}

void DaemonProcess::kill()
{
    if (!isRunning())
        return;
    m_process.kill(); // SIGKILL to our child's PID
    m_process.waitForFinished(10'000);
}

bool DaemonProcess::isRunning() const
{
    return m_process.state() != QProcess::NotRunning;
}

qint64 DaemonProcess::pid() const
{
    return m_process.processId();
}

int DaemonProcess::exitCode() const
{
    return m_process.exitCode();
}

QProcess::ExitStatus DaemonProcess::exitStatus() const
{
    return m_process.exitStatus();
}

QString DaemonProcess::log() const
{
    QFile file(m_logPath);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const qint64 size = file.size();
    if (size > MaxLogShown)
        file.seek(size - MaxLogShown);
    return QString::fromUtf8(file.readAll());
}

quint16 DaemonProcess::portFromLog(const QString &message, int timeoutMs) const
{
    const QRegularExpression re(QStringLiteral("msg=\"") + message +
                                QStringLiteral("\"[^\\n]* port=(\\d+)"));
    quint16 port = 0;
    const bool found = QTest::qWaitFor(
        [&] {
            const QRegularExpressionMatch m = re.match(log());
            if (m.hasMatch())
                port = quint16(m.captured(1).toUInt());
            return port != 0;
        },
        timeoutMs);
    return found ? port : 0;
}

} // namespace greygate::test
