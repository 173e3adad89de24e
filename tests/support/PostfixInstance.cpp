// SPDX-License-Identifier: GPL-3.0-or-later
#include "PostfixInstance.h"

#include "DaemonProcess.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTcpSocket>
#include <QThread>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace greygate::test {

namespace {

constexpr qint64 MaxLogShown = 64 * 1024;
const QString PostfixCommand = QStringLiteral("/usr/sbin/postfix");
const QString PostqueueCommand = QStringLiteral("/usr/sbin/postqueue");

// Only the services a test needs, none chrooted (a chroot would need copies of /etc files
// in the queue dir), and postlog, without which maillog_file stays empty.
constexpr const char MasterCf[] = R"(# Written by greygate's PostfixInstance.
127.0.0.1:%1 inet n - n - - smtpd
pickup     unix  n  -  n  60    1  pickup
cleanup    unix  n  -  n  -     0  cleanup
qmgr       unix  n  -  n  300   1  qmgr
rewrite    unix  -  -  n  -     -  trivial-rewrite
bounce     unix  -  -  n  -     0  bounce
defer      unix  -  -  n  -     0  bounce
trace      unix  -  -  n  -     0  bounce
verify     unix  -  -  n  -     1  verify
flush      unix  n  -  n  1000? 0  flush
proxymap   unix  -  -  n  -     -  proxymap
proxywrite unix  -  -  n  -     1  proxymap
smtp       unix  -  -  n  -     -  smtp
relay      unix  -  -  n  -     -  smtp
showq      unix  n  -  n  -     -  showq
error      unix  -  -  n  -     -  error
retry      unix  -  -  n  -     -  error
discard    unix  -  -  n  -     -  discard
local      unix  -  n  n  -     -  local
virtual    unix  -  n  n  -     -  virtual
anvil      unix  -  -  n  -     1  anvil
scache     unix  -  -  n  -     1  scache
postlog    unix-dgram n - n -   1  postlogd
)";

QString mailboxFileName(const QString &address)
{
    QString name = address.toLower();
    name.replace(QLatin1Char('@'), QStringLiteral("_at_"));
    return name;
}

bool writeConfigFile(const QString &path, const QByteArray &data, QString *error)
{
    if (writeFile(path, data))
        return true;
    *error = QStringLiteral("cannot write %1").arg(path);
    return false;
}

// Reads the SMTP greeting from 127.0.0.1:port: true on a 220, else *why says what came.
// `proxyProtocol`: smtpd expects a PROXY header before it greets (smtpd_upstream_proxy_protocol).
bool greets(quint16 port, bool proxyProtocol, const QDeadlineTimer &deadline, QString *why)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(int(qMax<qint64>(1, deadline.remainingTime())))) {
        *why = QStringLiteral("no connection: ") + socket.errorString();
        return false;
    }
    if (proxyProtocol)
        socket.write("PROXY TCP4 127.0.0.1 127.0.0.1 " + QByteArray::number(socket.localPort()) +
                     ' ' + QByteArray::number(port) + "\r\n");
    QByteArray in;
    while (!in.contains('\n') && in.size() < 4096 && !deadline.hasExpired()) {
        if (socket.bytesAvailable() == 0 &&
            !socket.waitForReadyRead(
                int(qBound<qint64>(qint64(1), deadline.remainingTime(), qint64(200)))) &&
            socket.state() != QAbstractSocket::ConnectedState)
            break;
        in.append(socket.readAll());
    }
    socket.write("QUIT\r\n");
    socket.waitForBytesWritten(200);
    socket.abort();
    if (in.startsWith("220")) // "220 " or a multi-line "220-"
        return true;
    *why = in.isEmpty() ? QStringLiteral("connected, but no greeting")
                        : QStringLiteral("greeting: ") + QString::fromUtf8(in.trimmed());
    return false;
}

// The state letter of /proc/PID/stat (R, S, D, Z...), or '\0' when there is no such process.
char processState(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return '\0';
    const QByteArray line = stat.readAll();
    const qsizetype paren = line.lastIndexOf(')');
    return paren >= 0 && paren + 2 < line.size() ? line.at(paren + 2) : '?';
}

// A PID is gone when /proc has no entry for it or it is a zombie (nothing runs any more).
bool processAlive(qint64 pid)
{
    const char state = processState(pid);
    return state != '\0' && state != 'Z';
}

// Postfix's master daemonises; with this process as a child subreaper the orphaned master
// and its children become ours, so we can reap them (by PID) instead of leaving zombies
// for an init that may never reap them.
void reap(qint64 pid)
{
    ::waitpid(static_cast<pid_t>(pid), nullptr, WNOHANG);
}

bool waitGone(const QList<qint64> &pids, const QDeadlineTimer &deadline)
{
    while (true) {
        bool anyAlive = false;
        for (qint64 pid : pids) {
            reap(pid);
            anyAlive = anyAlive || processAlive(pid);
        }
        if (!anyAlive)
            return true;
        if (deadline.hasExpired())
            return false;
        QThread::msleep(20);
    }
}

QString tail(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("(no %1)").arg(path);
    if (file.size() > MaxLogShown)
        file.seek(file.size() - MaxLogShown);
    return QString::fromUtf8(file.readAll());
}

// One line a process: what it runs, its state and where the kernel holds it, so a failure
// says whether the master is stuck, and where, or never started a daemon.
QString describeProcesses(const QList<qint64> &pids)
{
    QString report;
    for (qint64 pid : pids) {
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
        QFile wchan(QStringLiteral("/proc/%1/wchan").arg(pid));
        const char state = processState(pid);
        if (state == '\0' || !cmdline.open(QIODevice::ReadOnly))
            continue;
        wchan.open(QIODevice::ReadOnly);
        report += QStringLiteral("  pid %1 [%2] wchan=%3: %4\n")
                      .arg(pid)
                      .arg(QString(QLatin1Char(state)), QString::fromLatin1(wchan.readAll()),
                           QString::fromLocal8Bit(cmdline.readAll().replace('\0', ' ').trimmed()));
    }
    return report.isEmpty() ? QStringLiteral("  (none)\n") : report;
}

} // namespace

PostfixInstance::PostfixInstance()
{
    // Postfix's daemons run as the postfix user and must reach the queue inside.
    QFile::setPermissions(m_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                            QFileDevice::ExeOwner | QFileDevice::ReadGroup |
                                            QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                            QFileDevice::ExeOther);
}

PostfixInstance::~PostfixInstance()
{
    stop();
}

void PostfixInstance::setParameter(const QString &name, const QString &value)
{
    m_parameters.append({name, value});
}

void PostfixInstance::addMailbox(const QString &address)
{
    m_mailboxes.append(address.toLower());
}

QString PostfixInstance::mailboxPath(const QString &address) const
{
    return m_dir.filePath(QStringLiteral("mail/") + mailboxFileName(address));
}

QByteArray PostfixInstance::mailbox(const QString &address) const
{
    QFile file(mailboxPath(address));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QString PostfixInstance::maillog() const
{
    return tail(m_dir.filePath(QStringLiteral("maillog")));
}

bool PostfixInstance::writeConfig(QString *error) const
{
    const passwd *pw = ::getpwnam("postfix");
    if (!pw) {
        *error = QStringLiteral("no postfix user: is Debian's postfix package installed?");
        return false;
    }
    const QString root = m_dir.path();
    for (const char *sub : {"etc", "queue", "data", "mail"}) {
        if (!QDir(root).mkpath(QString::fromLatin1(sub))) {
            *error = QStringLiteral("cannot create %1/%2").arg(root, QString::fromLatin1(sub));
            return false;
        }
    }
    // data_directory and the mailboxes are written by daemons running as postfix.
    for (const char *sub : {"data", "mail"}) {
        const QByteArray path = QFile::encodeName(root + u'/' + QString::fromLatin1(sub));
        if (::chown(path.constData(), pw->pw_uid, pw->pw_gid) != 0) {
            *error =
                QStringLiteral("chown %1: %2 (tests with Postfix need root)")
                    .arg(QString::fromLocal8Bit(path), QString::fromLocal8Bit(strerror(errno)));
            return false;
        }
    }

    QStringList domains;
    QStringList maps;
    for (const QString &address : m_mailboxes) {
        const QString domain = address.section(QLatin1Char('@'), 1);
        if (!domain.isEmpty() && !domains.contains(domain))
            domains.append(domain);
        maps.append(QStringLiteral("{%1=%2}").arg(address, mailboxFileName(address)));
    }
    if (domains.isEmpty())
        domains.append(QStringLiteral("mailbox.invalid"));
    if (maps.isEmpty())
        maps.append(QStringLiteral("{nobody@mailbox.invalid=nobody}"));

    QList<std::pair<QString, QString>> params = {
        {QStringLiteral("compatibility_level"), QStringLiteral("3.6")},
        {QStringLiteral("queue_directory"), root + QStringLiteral("/queue")},
        {QStringLiteral("data_directory"), root + QStringLiteral("/data")},
        {QStringLiteral("maillog_file"), root + QStringLiteral("/maillog")},
        {QStringLiteral("maillog_file_prefixes"), root},
        {QStringLiteral("inet_interfaces"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("inet_protocols"), QStringLiteral("ipv4")},
        {QStringLiteral("myhostname"), QStringLiteral("mx.greygate.test")},
        {QStringLiteral("mydomain"), QStringLiteral("greygate.test")},
        {QStringLiteral("mydestination"), QString()},
        {QStringLiteral("relay_domains"), QString()},
        {QStringLiteral("mynetworks"), QStringLiteral("127.0.0.0/8")},
        {QStringLiteral("alias_maps"), QString()},
        {QStringLiteral("alias_database"), QString()},
        {QStringLiteral("local_recipient_maps"), QString()},
        {QStringLiteral("biff"), QStringLiteral("no")},
        {QStringLiteral("smtpd_peername_lookup"), QStringLiteral("no")},
        {QStringLiteral("disable_dns_lookups"), QStringLiteral("yes")},
        {QStringLiteral("minimal_backoff_time"), QStringLiteral("5s")},
        {QStringLiteral("maximal_backoff_time"), QStringLiteral("10s")},
        {QStringLiteral("queue_run_delay"), QStringLiteral("5s")},
        {QStringLiteral("virtual_mailbox_domains"), domains.join(QStringLiteral(", "))},
        {QStringLiteral("virtual_mailbox_base"), root + QStringLiteral("/mail")},
        {QStringLiteral("virtual_mailbox_maps"),
         QStringLiteral("inline:{ ") + maps.join(QStringLiteral(", ")) + QStringLiteral(" }")},
        {QStringLiteral("virtual_uid_maps"), QStringLiteral("static:%1").arg(pw->pw_uid)},
        {QStringLiteral("virtual_gid_maps"), QStringLiteral("static:%1").arg(pw->pw_gid)},
    };
    // Each parameter once: Postfix warns "overriding earlier entry" for a repeated one, in
    // every daemon as it starts, and those warnings can deadlock a fresh instance. They go
    // to the postlog socket (a unix datagram queue of 10, net.unix.max_dgram_qlen), where
    // postlogd writes its own start-up warnings too, before it reads: when the others'
    // filled the queue first (a loaded machine), postlogd blocks on it, and so does every
    // daemon after it, smtpd before its greeting.
    for (const auto &parameter : m_parameters) {
        const auto same = std::find_if(params.begin(), params.end(),
                                       [&](const auto &p) { return p.first == parameter.first; });
        if (same != params.end())
            same->second = parameter.second;
        else
            params.append(parameter);
    }
    QByteArray mainCf = QByteArrayLiteral("# Written by greygate's PostfixInstance.\n");
    for (const auto &[name, value] : params)
        mainCf += (name + QStringLiteral(" = ") + value).toUtf8() + '\n';

    const QString etc = configDir();
    return writeConfigFile(etc + QStringLiteral("/main.cf"), mainCf, error) &&
           writeConfigFile(etc + QStringLiteral("/master.cf"),
                           QString::fromLatin1(MasterCf).arg(m_port).toUtf8(), error);
}

bool PostfixInstance::start(QString *error, int timeoutMs)
{
    if (!m_dir.isValid()) {
        *error = QStringLiteral("no temp dir: ") + m_dir.errorString();
        return false;
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    // The port was free a moment ago; another process may take it before Postfix binds
    // it (then something else answers there, or nothing greets), and on a loaded machine
    // a master was seen to accept connections without ever starting smtpd. Either way a
    // fresh instance on a new port is tried (bounded in count and in time).
    const QDeadlineTimer deadline(timeoutMs);
    for (int attempt = 0; attempt < 3 && !deadline.hasExpired(); ++attempt) {
        m_port = freeTcpPort();
        QString failure;
        if (startOnce(int(qMax<qint64>(1, deadline.remainingTime())), &failure))
            return true;
        const QString log = maillog();
        stop();
        *error = QStringLiteral("attempt %1: %2").arg(attempt + 1).arg(failure);
        // A broken configuration fails the same way every time: say so at once.
        if (failure.contains(QStringLiteral("set-permissions")) ||
            failure.contains(QStringLiteral("cannot ")) ||
            failure.contains(QStringLiteral("no postfix user")))
            return false;
        qWarning("private Postfix did not come up (%s), trying a fresh one; its log:\n%s",
                 qPrintable(failure), qPrintable(log.right(4000)));
        // Its files are reused: the queue and pid file of the instance just stopped.
        QFile::remove(m_dir.filePath(QStringLiteral("queue/pid/master.pid")));
    }
    return false;
}

bool PostfixInstance::startOnce(int timeoutMs, QString *error)
{
    if (!writeConfig(error))
        return false;
    const QString etc = configDir();
    // Every daemon logs main.cf's warnings as it starts, and those can deadlock the start
    // (see writeConfig()): a configuration Postfix warns about is refused here, with why.
    const ProgramResult check = runProgram(
        QStringLiteral("/usr/sbin/postconf"),
        {QStringLiteral("-c"), etc, QStringLiteral("-h"), QStringLiteral("mail_version")},
        timeoutMs);
    if (!check.finished || check.exitCode != 0 || check.err.contains("warning:")) {
        *error = QStringLiteral("cannot use this main.cf, postconf says (%1): %2")
                     .arg(check.exitCode)
                     .arg(QString::fromUtf8(check.err.left(2000)));
        return false;
    }
    const ProgramResult perms = runProgram(
        PostfixCommand, {QStringLiteral("-c"), etc, QStringLiteral("set-permissions")}, timeoutMs);
    if (!perms.finished || perms.exitCode != 0) {
        *error = QStringLiteral("postfix set-permissions failed (%1): %2\n%3")
                     .arg(perms.exitCode)
                     .arg(QString::fromUtf8(perms.out + perms.err), maillog());
        return false;
    }
    const ProgramResult started =
        runProgram(PostfixCommand, {QStringLiteral("-c"), etc, QStringLiteral("start")}, timeoutMs);
    QFile pidFile(m_dir.filePath(QStringLiteral("queue/pid/master.pid")));
    if (pidFile.open(QIODevice::ReadOnly))
        m_masterPid = pidFile.readAll().trimmed().toLongLong();
    if (!started.finished || started.exitCode != 0 || m_masterPid <= 0) {
        *error = QStringLiteral("postfix start failed (%1): %2\n%3")
                     .arg(started.exitCode)
                     .arg(QString::fromUtf8(started.out + started.err), maillog());
        return false;
    }
    // The master daemonises, so it would outlive a test killed on a timeout. The guardian
    // holds the read end of a pipe only we write to; when we die it reads EOF and stops
    // the master by its PID.
    m_guardian.start(QStringLiteral("/bin/sh"),
                     {QStringLiteral("-c"),
                      QStringLiteral("read -r _; kill -TERM \"$1\" 2>/dev/null"),
                      QStringLiteral("postfix-guardian"), QString::number(m_masterPid)});
    if (!m_guardian.waitForStarted(timeoutMs)) {
        *error = QStringLiteral("cannot start the guardian shell: ") + m_guardian.errorString();
        return false;
    }
    // Ready means smtpd greets, from our master: accepting connections is not enough (the
    // master accepts before any smtpd runs, and another process may hold the port when
    // ours could not bind it and died).
    // 20 s is many times what a first smtpd takes even on a loaded machine; past it, a
    // fresh instance does better than waiting on.
    const QDeadlineTimer deadline(qMin(timeoutMs, 20'000));
    QString why;
    const bool proxyProtocol =
        std::any_of(m_parameters.begin(), m_parameters.end(), [](const auto &parameter) {
            return parameter.first == u"smtpd_upstream_proxy_protocol" &&
                   !parameter.second.isEmpty();
        });
    while (true) {
        if (!processAlive(m_masterPid)) {
            *error = QStringLiteral("the postfix master (pid %1) exited:\n%2")
                         .arg(m_masterPid)
                         .arg(maillog());
            return false;
        }
        // Each try bounded, so a master that never hands a connection on gets a few.
        const QDeadlineTimer attempt(qMin<qint64>(deadline.remainingTime(), 10'000));
        if (portAcceptsConnections(m_port, 200) && greets(m_port, proxyProtocol, attempt, &why) &&
            processAlive(m_masterPid))
            return true;
        if (deadline.hasExpired()) {
            QList<qint64> pids = ownProcesses();
            if (!pids.contains(m_masterPid))
                pids.prepend(m_masterPid);
            *error = QStringLiteral("postfix smtpd on port %1 did not greet (%2); its processes:\n"
                                    "%3its log:\n%4")
                         .arg(m_port)
                         .arg(why.isEmpty() ? QStringLiteral("not listening") : why,
                              describeProcesses(pids), maillog());
            return false;
        }
        QThread::msleep(50);
    }
}

// Every process of this instance: Postfix's daemons chdir to their queue directory, which
// is inside our temp dir and nobody else's.
QList<qint64> PostfixInstance::ownProcesses() const
{
    QList<qint64> pids;
    const QString queue = m_dir.filePath(QStringLiteral("queue"));
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &entry : entries) {
        bool ok = false;
        const qint64 pid = entry.toLongLong(&ok);
        if (!ok || pid == ::getpid())
            continue;
        const QString cwd = QFileInfo(QStringLiteral("/proc/%1/cwd").arg(pid)).symLinkTarget();
        if (cwd == queue || cwd.startsWith(queue + u'/'))
            pids.append(pid);
    }
    return pids;
}

void PostfixInstance::stop(int timeoutMs)
{
    if (m_guardian.state() != QProcess::NotRunning) {
        m_guardian.kill();
        m_guardian.waitForFinished(5'000);
    }
    if (m_masterPid <= 0 && ownProcesses().isEmpty())
        return;
    QList<qint64> pids = ownProcesses();
    if (m_masterPid > 0 && !pids.contains(m_masterPid))
        pids.append(m_masterPid);
    // SIGTERM to the master is `postfix stop`: it terminates its children and exits.
    if (m_masterPid > 0 && processAlive(m_masterPid))
        ::kill(static_cast<pid_t>(m_masterPid), SIGTERM);
    if (!waitGone(pids, QDeadlineTimer(timeoutMs))) {
        for (qint64 pid : std::as_const(pids)) {
            if (processAlive(pid))
                ::kill(static_cast<pid_t>(pid), SIGKILL);
        }
    }
    // Anything started in between (a daemon spawned while the master went down).
    const QList<qint64> late = ownProcesses();
    for (qint64 pid : late) {
        if (processAlive(pid))
            ::kill(static_cast<pid_t>(pid), SIGKILL);
    }
    waitGone(pids + late, QDeadlineTimer(5'000));
    m_masterPid = 0;
}

bool PostfixInstance::isRunning() const
{
    return m_masterPid > 0 && processAlive(m_masterPid);
}

bool PostfixInstance::flushQueue()
{
    const ProgramResult result = runProgram(
        PostqueueCommand, {QStringLiteral("-c"), configDir(), QStringLiteral("-f")}, 30'000);
    return result.finished && result.exitCode == 0;
}

} // namespace greygate::test
