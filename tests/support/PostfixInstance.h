// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <utility>

namespace greygate::test {

// A private Postfix (Debian's package) for integration tests, next to nothing else on the
// machine: its own config, queue, data and mail directories in a temp dir, smtpd on a
// loopback ephemeral port, no chroot, logging to a file inside the temp dir (there is no
// syslog here, and a silent Postfix is undebuggable). Mail for addMailbox() addresses is
// delivered by virtual(8) to one mbox file each, so a test can read what arrived.
// Needs root (as Postfix's own start does). Stopped, by its own master PID, in stop() and in
// the destructor, so a failed test leaves no Postfix running. See
// shared/notes/postfix-private-instance.md for the traps this avoids.
class PostfixInstance
{
public:
    PostfixInstance();
    ~PostfixInstance();
    PostfixInstance(const PostfixInstance &) = delete;
    PostfixInstance &operator=(const PostfixInstance &) = delete;

    // A main.cf parameter, replacing a default (or an earlier call) of the same name, e.g.
    // setParameter("smtpd_recipient_restrictions", "check_policy_service inet:127.0.0.1:N, ...").
    void setParameter(const QString &name, const QString &value);
    // An address (local@domain) whose mail is delivered to mailboxPath(address).
    void addMailbox(const QString &address);

    // Writes the configuration, sets permissions, starts Postfix and waits (bounded) until
    // its smtpd greets with 220. An instance that does not (its port taken by another
    // process, a master that never starts smtpd) is stopped and a fresh one started on a
    // new port, up to three within timeoutMs. On failure, *error holds the reason and the
    // mail log.
    bool start(QString *error, int timeoutMs = 60'000);
    // Stops the master by its PID (SIGTERM, then SIGKILL for anything of this instance
    // still alive after timeoutMs). Safe to call twice.
    void stop(int timeoutMs = 15'000);
    bool isRunning() const;

    quint16 smtpPort() const { return m_port; }
    qint64 masterPid() const { return m_masterPid; }
    QString rootPath() const { return m_dir.path(); }
    QString configDir() const { return m_dir.filePath(QStringLiteral("etc")); }
    QString mailboxPath(const QString &address) const;
    QByteArray mailbox(const QString &address) const;
    // The instance's mail log (bounded to its tail), for failure messages.
    QString maillog() const;
    // Runs `postqueue -f`: the deferred queue is tried again now.
    bool flushQueue();

private:
    bool writeConfig(QString *error) const;
    bool startOnce(int timeoutMs, QString *error);
    QList<qint64> ownProcesses() const;

    QTemporaryDir m_dir;
    quint16 m_port = 0;
    qint64 m_masterPid = 0;
    QList<std::pair<QString, QString>> m_parameters;
    QList<QString> m_mailboxes;
    // Stops the master if this test process dies without stop() (a CTest timeout kill).
    QProcess m_guardian;
};

} // namespace greygate::test
