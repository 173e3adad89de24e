// SPDX-License-Identifier: GPL-3.0-or-later
#include "RobustnessKit.h"

#include "DaemonProcess.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QThread>
#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace greygate::test::robustness {

QByteArray letters(quint64 n)
{
    QByteArray s;
    do {
        s.prepend(char('a' + n % 26));
        n /= 26;
    } while (n > 0);
    return s;
}

qint64 residentKb(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

int openFds(qint64 pid)
{
    const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
    return fds.exists() ? int(fds.entryList(QDir::NoDotAndDotDot | QDir::AllEntries).size()) : -1;
}

int openSockets(qint64 pid)
{
    const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
    if (!fds.exists())
        return -1;
    int sockets = 0;
    for (const QString &fd : fds.entryList(QDir::NoDotAndDotDot | QDir::AllEntries)) {
        if (QFileInfo(fds.filePath(fd)).symLinkTarget().contains(QLatin1String("socket:")))
            ++sockets;
    }
    return sockets;
}

namespace {

// Rows of /proc/net/tcp{,6} that `counts` accepts. Columns: sl local_address rem_address st
// ...; addresses are HEX_IP:HEX_PORT, st is the state in hex (01 ESTABLISHED, 06 TIME_WAIT,
// 0A LISTEN).
template <typename Counts> int tcpRows(Counts counts)
{
    int count = 0;
    for (const char *path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        QFile table(QString::fromLatin1(path));
        if (!table.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &line : table.readAll().split('\n')) {
            const QList<QByteArray> f = line.simplified().split(' ');
            if (f.size() >= 4 && counts(f[1], f[2], f[3]))
                ++count;
        }
    }
    return count;
}

QByteArray portSuffix(quint16 port)
{
    return ':' + QByteArray::number(port, 16).toUpper().rightJustified(4, '0');
}

} // namespace

int establishedOnPort(quint16 port)
{
    const QByteArray suffix = portSuffix(port);
    return tcpRows([&](const QByteArray &local, const QByteArray &remote, const QByteArray &st) {
        return st == "01" && (local.endsWith(suffix) || remote.endsWith(suffix));
    });
}

int serverConnectionsOnPort(quint16 port)
{
    const QByteArray suffix = portSuffix(port);
    return tcpRows([&](const QByteArray &local, const QByteArray &, const QByteArray &st) {
        return local.endsWith(suffix) && st != "0A" && st != "06";
    });
}

bool waitServerAtRest(quint16 port, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (serverConnectionsOnPort(port) > 0) {
        if (deadline.hasExpired())
            return false;
        QThread::msleep(20);
    }
    return true;
}

int raiseFileLimit(int wanted)
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    const rlim_t target = std::min<rlim_t>(rlim_t(wanted), limit.rlim_max);
    if (limit.rlim_cur < target) {
        limit.rlim_cur = target;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return int(limit.rlim_cur);
}

quint16 portFromLogFile(const QString &logPath, const QString &message, int timeoutMs)
{
    const QRegularExpression re(QStringLiteral("msg=\"") + message +
                                QStringLiteral("\"[^\\n]* port=(\\d+)"));
    const QDeadlineTimer deadline(timeoutMs);
    do {
        QFile log(logPath);
        if (log.open(QIODevice::ReadOnly)) {
            const QRegularExpressionMatch m = re.match(QString::fromUtf8(log.read(1 << 20)));
            if (m.hasMatch())
                return quint16(m.captured(1).toUInt());
        }
        QThread::msleep(20); // the daemon's log is buffered up to 100 ms
    } while (!deadline.hasExpired());
    return 0;
}

int countInLogFile(const QString &logPath, const QString &text)
{
    QFile log(logPath);
    if (!log.open(QIODevice::ReadOnly))
        return 0;
    return int(QString::fromUtf8(log.readAll()).count(text));
}

CtlResult ctl(quint16 controlPort, const QString &dbdir, const QStringList &args, int timeoutMs)
{
    const QStringList all =
        QStringList{
            QStringLiteral("--proxy"),      QStringLiteral("ws://127.0.0.1:%1").arg(controlPort),
            QStringLiteral("--token-file"), dbdir + QStringLiteral("/control.token"),
            QStringLiteral("--timeout"),    QString::number(timeoutMs / 1000)} +
        args;
    const ProgramResult r = runProgram(program(QStringLiteral("greygatectl")), all, timeoutMs);
    CtlResult result;
    result.code = r.finished && r.exitStatus == QProcess::NormalExit ? r.exitCode : -2;
    result.out = QString::fromUtf8(r.out);
    result.err = QString::fromUtf8(r.err);
    return result;
}

int rawConnect(quint16 port, const char *localAddress)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    const timeval bound{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, localAddress, &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof local) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr *>(&remote), sizeof remote) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool rawSend(int fd, const QByteArray &bytes)
{
    return ::send(fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL) == bytes.size();
}

bool drain(int fd, QByteArray *received)
{
    char buffer[4096];
    for (int i = 0; i < 64; ++i) { // bounded: a test peer never sends more than a few replies
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n == 0)
            return false;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        if (received)
            received->append(buffer, n);
    }
    return true;
}

void rawClose(int fd, bool reset)
{
    if (fd < 0)
        return;
    if (reset) {
        const linger abort{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    ::close(fd);
}

int crashRounds()
{
    const int n = qEnvironmentVariableIntValue("GREYGATE_CRASH_ROUNDS");
    return n > 0 ? n : 30;
}

quint32 testSeed()
{
    const quint32 seed = qEnvironmentVariableIsSet("GREYGATE_TEST_SEED")
                             ? quint32(qEnvironmentVariableIntValue("GREYGATE_TEST_SEED"))
                             : QRandomGenerator::global()->generate();
    qInfo("seed %u (set GREYGATE_TEST_SEED to replay)", seed);
    return seed;
}

QString greygated()
{
    return program(QStringLiteral("greygated"));
}

} // namespace greygate::test::robustness
