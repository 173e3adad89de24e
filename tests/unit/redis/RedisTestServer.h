// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DaemonProcess.h"

#include <QTemporaryDir>
#include <memory>

namespace greygate::test {

// A private redis-server for one test: loopback, an ephemeral port, its own temp dir,
// `--save "" --appendonly yes`, stopped by its PID (DaemonProcess kills it with the test).
// restart() keeps the port and the data dir (the append-only file), as a real restart does.
class RedisTestServer
{
public:
    RedisTestServer();
    // More redis-server arguments ("--replicaof", "127.0.0.1", "6379"; "--cluster-enabled",
    // "yes"), given before start().
    void setExtraArgs(const QStringList &args) { m_extra = args; }
    bool start(QString *error);
    // A Sentinel (redis-server --sentinel) watching the primary at masterPort as "name",
    // quick to act: down after 300 ms, a failover allowed every 2 s.
    bool startSentinel(const QByteArray &name, quint16 masterPort, QString *error);
    bool restart(QString *error);
    void kill();   // SIGKILL, by PID
    void pause();  // SIGSTOP: connected but silent, to test timeouts
    void resume(); // SIGCONT
    quint16 port() const { return m_port; }
    QString url() const;
    QString log() const { return m_process ? m_process->log() : QString(); }
    QString dir() const { return m_dir.path(); }

    // redis-server is there (the tests are skipped with a clear message otherwise).
    static bool available();

private:
    QStringList args(quint16 port) const;

    QTemporaryDir m_dir;
    std::unique_ptr<DaemonProcess> m_process;
    quint16 m_port = 0;
    int m_starts = 0;
    QStringList m_extra;
};

} // namespace greygate::test

// In a test function: skips it when Debian's redis-server is not installed (the test command
// installs it), else starts `server` or fails the test with redis-server's reason. A macro
// because QSKIP and QVERIFY return from the test function itself.
#define GREYGATE_START_REDIS(server)                                                               \
    do {                                                                                           \
        if (!greygate::test::RedisTestServer::available())                                         \
            QSKIP("redis-server is not installed (scripts/install-deps.sh --test)");               \
        QString redisError_;                                                                       \
        QVERIFY2((server).start(&redisError_), qPrintable(redisError_));                           \
    } while (false)
