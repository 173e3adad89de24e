// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpSinkProcess.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTest>
#include <cerrno>
#include <cstring>
#include <pwd.h>
#include <unistd.h>

namespace greygate::test {

namespace {
const QString SinkCommand = QStringLiteral("/usr/sbin/smtp-sink");
constexpr qint64 MaxMessageRead = 16 * 1024 * 1024;
} // namespace

SmtpSinkProcess::SmtpSinkProcess(QStringList extraArgs)
    : m_extraArgs(std::move(extraArgs))
    , m_process(m_dir.filePath(QStringLiteral("sink.log")))
{}

bool SmtpSinkProcess::start(QString *error, int timeoutMs)
{
    if (!m_dir.isValid()) {
        *error = QStringLiteral("no temp dir: ") + m_dir.errorString();
        return false;
    }
    const passwd *pw = ::getpwnam("postfix");
    if (!pw) {
        *error = QStringLiteral("no postfix user: is Debian's postfix package installed?");
        return false;
    }
    // smtp-sink drops to the postfix user before it writes its capture files.
    const QString messagesDir = m_dir.filePath(QStringLiteral("messages"));
    QFile::setPermissions(m_dir.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                            QFileDevice::ExeOwner | QFileDevice::ReadGroup |
                                            QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                            QFileDevice::ExeOther);
    if (!QDir().mkpath(messagesDir) ||
        ::chown(QFile::encodeName(messagesDir).constData(), pw->pw_uid, pw->pw_gid) != 0) {
        *error = QStringLiteral("cannot prepare %1: %2 (smtp-sink needs root to drop to postfix)")
                     .arg(messagesDir, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    return m_process.startOnFreePort(
        SinkCommand,
        [&](quint16 port) {
            return QStringList{QStringLiteral("-u"), QStringLiteral("postfix"),
                               QStringLiteral("-v"), QStringLiteral("-c"),
                               QStringLiteral("-d"), messagesDir + QStringLiteral("/msg.")} +
                   m_extraArgs +
                   QStringList{QStringLiteral("127.0.0.1:%1").arg(port), QStringLiteral("256")};
        },
        timeoutMs, error);
}

void SmtpSinkProcess::stop()
{
    if (!m_process.terminate(5'000))
        m_process.kill();
}

namespace {
// -c rewrites "sess=N quit=N mesg=N" after each session, QUIT and final dot: the last one.
int lastCounter(const QString &log, const QRegularExpression &counter)
{
    int count = 0;
    QRegularExpressionMatchIterator it = counter.globalMatch(log);
    while (it.hasNext())
        count = it.next().captured(1).toInt();
    return count;
}
} // namespace

int SmtpSinkProcess::messageCount() const
{
    static const QRegularExpression counter(QStringLiteral("mesg=(\\d+)"));
    return lastCounter(m_process.log(), counter);
}

int SmtpSinkProcess::sessionCount() const
{
    static const QRegularExpression counter(QStringLiteral("sess=(\\d+)"));
    return lastCounter(m_process.log(), counter);
}

bool SmtpSinkProcess::waitForMessages(int count, int timeoutMs) const
{
    return QTest::qWaitFor([&] { return messageCount() >= count; }, timeoutMs);
}

QList<QByteArray> SmtpSinkProcess::messages() const
{
    const QFileInfoList files = QDir(m_dir.filePath(QStringLiteral("messages")))
                                    .entryInfoList(QDir::Files, QDir::Time | QDir::Reversed);
    QList<QByteArray> result;
    for (const QFileInfo &info : files) {
        QFile file(info.filePath());
        if (file.open(QIODevice::ReadOnly))
            result.append(file.read(MaxMessageRead));
    }
    return result;
}

} // namespace greygate::test
