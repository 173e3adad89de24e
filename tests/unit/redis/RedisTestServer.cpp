// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisTestServer.h"

#include <QFile>
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
    return QStringList{QStringLiteral("--port"),
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
                       QStringLiteral("warning")} +
           m_extra;
}

bool RedisTestServer::startSentinel(const QByteArray &name, quint16 masterPort, QString *error)
{
    m_process = std::make_unique<DaemonProcess>(
        m_dir.filePath(QStringLiteral("sentinel-%1.log").arg(++m_starts)));
    const QString conf = m_dir.filePath(QStringLiteral("sentinel.conf"));
    const bool ok = m_process->startOnFreePort(
        QStringLiteral("redis-server"),
        [&](quint16 port) {
            // Sentinel rewrites its configuration file: one of its own, in the temp dir.
            QFile file(conf);
            if (file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
                file.write("port " + QByteArray::number(port) + "\nbind 127.0.0.1\ndir " +
                           m_dir.path().toUtf8() + "\nsentinel monitor " + name + " 127.0.0.1 " +
                           QByteArray::number(masterPort) +
                           " 1\nsentinel down-after-milliseconds " + name +
                           " 300\nsentinel failover-timeout " + name + " 2000\n");
            }
            return QStringList{conf, QStringLiteral("--sentinel")};
        },
        10'000, error);
    m_port = m_process->port();
    return ok;
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
