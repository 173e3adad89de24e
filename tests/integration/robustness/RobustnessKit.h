// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What the robustness tests share: readings of a process under test from /proc, the file
// descriptor limit, greygatectl against a daemon's control API, ports from a daemon's log.

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace greygate::test::robustness {

// Letters only (a, b, ..., z, ba, ...): normalisation reduces digits in local parts.
QByteArray letters(quint64 n);

// The process's resident memory in KiB (VmRSS), or -1.
qint64 residentKb(qint64 pid);
// Open file descriptors of the process, and how many of them are sockets; -1 when unknown.
int openFds(qint64 pid);
int openSockets(qint64 pid);
// Established TCP connections on loopback to or from `port` (from /proc/net/tcp{,6}).
int establishedOnPort(quint16 port);
// TCP sockets whose local port is `port`, in any state but LISTEN and TIME_WAIT: the
// connections a server still holds, closing ones (CLOSE_WAIT, LAST_ACK) included.
int serverConnectionsOnPort(quint16 port);
// Waits (up to timeoutMs) until the server on `port` holds no connection, e.g. after a
// start's readiness probe, so that socket counts start from the daemon at rest.
bool waitServerAtRest(quint16 port, int timeoutMs = 5'000);

// Raises this process's RLIMIT_NOFILE soft limit to `wanted` (or the hard limit); returns
// the limit in force afterwards. Children (the daemons) inherit it.
int raiseFileLimit(int wanted);

// The port a daemon logged with `message` (e.g. "control API listening"), read from the
// start of its log file (DaemonProcess::log() shows only the tail), waiting up to timeoutMs.
quint16 portFromLogFile(const QString &logPath, const QString &message, int timeoutMs = 10'000);
// How many lines of the log file contain `text`.
int countInLogFile(const QString &logPath, const QString &text);

struct CtlResult
{
    int code = -2; // -2: did not finish in time or crashed
    QString out;
    QString err;
};
// greygatectl --proxy ws://127.0.0.1:PORT --token-file DBDIR/control.token ARGS...
CtlResult ctl(quint16 controlPort, const QString &dbdir, const QStringList &args,
              int timeoutMs = 20'000);

// Raw client sockets, for the thousands of idle, slow or vanishing clients a test holds
// (cheaper than QTcpSocket, and free to misbehave). rawConnect: a blocking connect to
// 127.0.0.1:port from localAddress (any 127/8 address stands for another client), bounded;
// -1 on failure. drain: reads what has arrived without blocking, appended to *received;
// false once the peer closed (or reset) the connection. rawClose with reset: an RST
// instead of a FIN (SO_LINGER 0), as a client that vanishes.
int rawConnect(quint16 port, const char *localAddress = "127.0.0.1");
bool rawSend(int fd, const QByteArray &bytes);
bool drain(int fd, QByteArray *received = nullptr);
void rawClose(int fd, bool reset = false);

// kill -9 rounds of a crash test: GREYGATE_CRASH_ROUNDS, else 30 (as in CI).
int crashRounds();
// A random seed, or GREYGATE_TEST_SEED to replay a run; logged either way.
quint32 testSeed();

// greygated's own binary from this build.
QString greygated();

} // namespace greygate::test::robustness
