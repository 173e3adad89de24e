// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// A real greygated for the model tests: its own dbdir in a temp dir, the policy port and the
// control API on loopback ephemeral ports, the admin token read from the dbdir where the
// daemon wrote it (mode 0600), and a ProxyRegistry connected to it, as the console does.
// Stopped by its PID when the fixture goes.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"
#include "client/ProxyRegistry.h"

#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

namespace greygate::test {

// The tests run as root with root-owned temp dirs: a greygated that drops privileges is told
// to keep root, when the build has that option.
inline QStringList keepRootOption()
{
    static const bool knows = [] {
        const ProgramResult help =
            runProgram(program(QStringLiteral("greygated")), {QStringLiteral("--help")}, 10'000);
        return QByteArray(help.out + help.err).contains("--user");
    }();
    return knows ? QStringList{QStringLiteral("--user=root")} : QStringList();
}

struct LiveModelsDaemon
{
    QTemporaryDir dir;
    DaemonProcess daemon{dir.filePath(QStringLiteral("greygated.log"))};
    quint16 controlPort = 0;
    QByteArray token;
    ProxyRegistry registry;
    QString proxyId;
    PolicyClient policy;
    QString error;

    // delaySeconds: the greylisting delay (a long one keeps every triplet deferred).
    bool start(int delaySeconds = 3600, const QStringList &extra = {})
    {
        const QString dbdir = dir.filePath(QStringLiteral("db"));
        if (!QDir().mkpath(dbdir)) {
            error = QStringLiteral("cannot make ") + dbdir;
            return false;
        }
        const bool up = daemon.startOnFreePort(
            program(QStringLiteral("greygated")),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                   QStringLiteral("--dbdir=") + dbdir,
                                   QStringLiteral("--delay=%1").arg(delaySeconds),
                                   QStringLiteral("--control-listen=127.0.0.1:0")} +
                       keepRootOption() + extra;
            },
            30'000, &error);
        if (!up)
            return false;
        // The control port is the kernel's choice: the daemon logs it.
        const QRegularExpression re(
            QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
        const bool logged = QTest::qWaitFor(
            [&] {
                const QRegularExpressionMatch m = re.match(daemon.log());
                if (m.hasMatch())
                    controlPort = quint16(m.captured(1).toUInt());
                return controlPort != 0;
            },
            10'000);
        QFile file(dbdir + QStringLiteral("/control.token"));
        if (!logged || !file.open(QIODevice::ReadOnly)) {
            error = QStringLiteral("no control port or token: ") + daemon.log();
            return false;
        }
        token = file.readAll().trimmed();
        if (!policy.connectTo(daemon.port())) {
            error = QStringLiteral("policy port: ") + policy.errorString();
            return false;
        }
        return true;
    }

    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(controlPort)); }

    // Adds the daemon to the registry and waits until it is connected.
    bool connectRegistry(const QString &name = QStringLiteral("test proxy"))
    {
        ProxyEndpoint endpoint;
        endpoint.name = name;
        endpoint.url = url();
        endpoint.token = token;
        QSignalSpy ready(&registry, &ProxyRegistry::ready);
        proxyId = registry.add(endpoint);
        return ready.wait(10'000);
    }

    ProxyConnection *connection() const { return registry.connection(proxyId); }

    // One RCPT through the policy port; the answer ("DEFER_IF_PERMIT ...", "DUNNO"...).
    QByteArray rcpt(const QByteArray &client, const QByteArray &sender, const QByteArray &recipient)
    {
        return policy.askRcpt(client, sender, recipient).value_or(QByteArray());
    }

    // A call on the daemon's API, waited for (bounded).
    ProxyConnection::Reply call(const QString &method, const QJsonObject &params = {})
    {
        std::optional<ProxyConnection::Reply> reply;
        connection()->call(method, params, [&](const ProxyConnection::Reply &r) { reply = r; });
        if (!QTest::qWaitFor([&] { return reply.has_value(); }, 10'000)) {
            ProxyConnection::Reply none;
            none.error.message = QStringLiteral("no answer within 10 s");
            return none;
        }
        return *reply;
    }
};

} // namespace greygate::test
