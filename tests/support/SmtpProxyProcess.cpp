// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpProxyProcess.h"

#include "TestSupport.h"

#include <QDir>

namespace greygate::test {

namespace {
// A greygated that drops privileges refuses to keep root unless told --user=root; the tests
// run as root with root-owned temp dirs, so they say it, to a build that has the option.
bool knowsUserOption()
{
    static const bool knows = [] {
        const ProgramResult help =
            runProgram(program(QStringLiteral("greygated")), {QStringLiteral("--help")}, 10'000);
        return QByteArray(help.out + help.err).contains("--user");
    }();
    return knows;
}
} // namespace

SmtpProxyProcess::SmtpProxyProcess(const QString &workDir)
    : m_dbdir(workDir + QStringLiteral("/db"))
    , m_process(workDir + QStringLiteral("/greygated-smtp.log"))
{}

bool SmtpProxyProcess::start(quint16 backendPort, const QStringList &extraArgs, QString *error,
                             int timeoutMs)
{
    if (!QDir().mkpath(m_dbdir)) {
        *error = QStringLiteral("cannot create ") + m_dbdir;
        return false;
    }
    QStringList common = {QStringLiteral("--dbdir=") + m_dbdir,
                          QStringLiteral("--smtp-backend=127.0.0.1:%1").arg(backendPort)};
    if (!extraArgs.join(u' ').contains(QStringLiteral("--smtp-hostname=")))
        common.append(QStringLiteral("--smtp-hostname=") + QLatin1String(Hostname));
    if (knowsUserOption() && !extraArgs.join(u' ').contains(QStringLiteral("--user=")))
        common.append(QStringLiteral("--user=root"));
    return m_process.startOnFreePort(
        program(QStringLiteral("greygated")),
        [&](quint16 port) {
            return common +
                   QStringList{QStringLiteral("--smtp-listen=127.0.0.1:%1").arg(port),
                               QStringLiteral("--inet=127.0.0.1:%1").arg(freeTcpPort())} +
                   extraArgs;
        },
        timeoutMs, error);
}

QStringList SmtpProxyProcess::sessionLines() const
{
    QStringList lines;
    const QStringList all = log().split(u'\n');
    for (const QString &line : all) {
        if (line.contains(QStringLiteral("msg=\"smtp session")))
            lines.append(line);
    }
    return lines;
}

} // namespace greygate::test
