// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisTestServer.h"

#include <QStandardPaths>
#include <csignal>

namespace greygate::test {

RedisTestServer::RedisTestServer() = default;

bool RedisTestServer::available()
{
    return !QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty();
}

QStringList RedisTestServer::args(quint16 port) const
{
    return {QStringLiteral("--port"),
            QString::number(port),
            QStringLiteral("--bind"),
            QStringLiteral("127.0.0.1"),
            QStringLiteral("--dir"),
            m_dir.path(),
            QStringLiteral("--save"),
            QString(),
            QStringLiteral("--appendonly"),
            QStringLiteral("yes"),
            QStringLiteral("--daemonize"),
            QStringLiteral("no"),
            QStringLiteral("--protected-mode"),
            QStringLiteral("yes"),
            QStringLiteral("--loglevel"),
            QStringLiteral("warning")};
}

bool RedisTestServer::start(QString *error)
{
    m_process = std::make_unique<DaemonProcess>(
        m_dir.filePath(QStringLiteral("redis-%1.log").arg(++m_starts)));
    const bool ok = m_process->startOnFreePort(
        QStringLiteral("redis-server"), [this](quint16 port) { return args(port); }, 10'000, error);
    m_port = m_process->port();
    return ok;
}

bool RedisTestServer::restart(QString *error)
{
    if (m_process && m_process->isRunning())
        m_process->kill();
    m_process = std::make_unique<DaemonProcess>(
        m_dir.filePath(QStringLiteral("redis-%1.log").arg(++m_starts)));
    return m_process->start(QStringLiteral("redis-server"), args(m_port), m_port, 10'000, error);
}

void RedisTestServer::kill()
{
    if (m_process && m_process->isRunning())
        m_process->kill();
}

void RedisTestServer::pause()
{
    if (m_process && m_process->isRunning())
        ::kill(pid_t(m_process->pid()), SIGSTOP);
}

void RedisTestServer::resume()
{
    if (m_process && m_process->isRunning())
        ::kill(pid_t(m_process->pid()), SIGCONT);
}

QString RedisTestServer::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port);
}

} // namespace greygate::test
