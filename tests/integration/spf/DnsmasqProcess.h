// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DaemonProcess.h"
#include "TestSupport.h"

#include <QStandardPaths>
#include <QStringList>

namespace greygate::test {

// Debian's dnsmasq as a private authoritative-only DNS server on loopback: the zone is given
// as dnsmasq options (--txt-record=NAME,TEXT without quotes: on the command line dnsmasq
// keeps them), nothing is forwarded, names
// under the --local domains that are not given are NXDOMAIN.
class DnsmasqProcess
{
public:
    explicit DnsmasqProcess(const QString &dir)
        : m_dir(dir)
        , m_process(dir + QStringLiteral("/dnsmasq.log"))
    {}

    static QString program()
    {
        QString p = QStandardPaths::findExecutable(QStringLiteral("dnsmasq"));
        if (p.isEmpty())
            p = QStandardPaths::findExecutable(
                QStringLiteral("dnsmasq"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
        return p;
    }

    bool start(const QStringList &zone, QString *error)
    {
        const QString dir = m_dir;
        return m_process.startOnFreePort(
            program(),
            [&zone, dir](quint16 port) {
                return QStringList{QStringLiteral("--keep-in-foreground"),
                                   QStringLiteral("--conf-file=/dev/null"),
                                   QStringLiteral("--no-resolv"),
                                   QStringLiteral("--no-hosts"),
                                   QStringLiteral("--bind-interfaces"),
                                   QStringLiteral("--listen-address=127.0.0.1"),
                                   QStringLiteral("--port=") + QString::number(port),
                                   QStringLiteral("--user=root"),
                                   QStringLiteral("--pid-file=") + dir +
                                       QStringLiteral("/dnsmasq.pid"),
                                   QStringLiteral("--log-facility=-"),
                                   QStringLiteral("--log-queries")} +
                       zone;
            },
            10'000, error);
    }
    quint16 port() const { return m_process.port(); }
    bool terminate() { return m_process.terminate(); }
    QString log() const { return m_process.log(); }

private:
    QString m_dir;
    DaemonProcess m_process;
};

} // namespace greygate::test
