// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// A real greygated with its control API on an ephemeral loopback port, for the analysis
// models' and pages' tests: started in a temp dir, stopped by its own PID, reached through a
// ProxyRegistry like any proxy the console talks to.
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"
#include "client/ProxyRegistry.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

namespace greygate::test {

class AnalysisDaemon
{
public:
    AnalysisDaemon()
        : m_process(m_dir.filePath(QStringLiteral("greygated.log")))
    {}

    QString dbdir() const { return m_dir.filePath(QStringLiteral("db")); }

    bool start(const QStringList &extra = {}, QString *error = nullptr)
    {
        QString why;
        const bool started = m_process.startOnFreePort(
            program(QStringLiteral("greygated")),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:") + QString::number(port),
                                   QStringLiteral("--dbdir=") + dbdir(),
                                   QStringLiteral("--control-listen=127.0.0.1:0")} +
                       extra;
            },
            30'000, &why);
        if (!started) {
            if (error)
                *error = why;
            return false;
        }
        const QRegularExpression re(
            QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
        QTest::qWaitFor(
            [&] {
                const QRegularExpressionMatch m = re.match(m_process.log());
                if (m.hasMatch())
                    m_controlPort = quint16(m.captured(1).toUInt());
                return m_controlPort != 0;
            },
            10'000);
        QFile token(dbdir() + QStringLiteral("/control.token"));
        if (m_controlPort == 0 || !token.open(QIODevice::ReadOnly)) {
            if (error)
                *error = QStringLiteral("no control port or token: ") + m_process.log();
            return false;
        }
        m_token = token.readAll().trimmed();
        return true;
    }

    ProxyEndpoint endpoint(const QString &name) const
    {
        ProxyEndpoint e;
        e.name = name;
        e.url = QUrl(QStringLiteral("ws://127.0.0.1:") + QString::number(m_controlPort));
        e.token = m_token;
        return e;
    }

    quint16 policyPort() const { return m_process.port(); }
    DaemonProcess &process() { return m_process; }

    // One RCPT decision through the policy port; the action ("DEFER_IF_PERMIT ...").
    QByteArray decide(const QByteArray &client, const QByteArray &sender,
                      const QByteArray &recipient)
    {
        if (!m_policy.isConnected() && !m_policy.connectTo(policyPort()))
            return {};
        return m_policy.askRcpt(client, sender, recipient, QByteArray::number(++m_instance))
            .value_or(QByteArray());
    }

private:
    QTemporaryDir m_dir;
    DaemonProcess m_process;
    quint16 m_controlPort = 0;
    QByteArray m_token;
    PolicyClient m_policy;
    int m_instance = 0;
};

// Adds the daemon to the registry and waits until its connection is ready.
inline QString addReady(ProxyRegistry &registry, const AnalysisDaemon &daemon, const QString &name)
{
    const QString id = registry.add(daemon.endpoint(name));
    const bool ready = QTest::qWaitFor(
        [&] { return registry.connection(id)->state() == ProxyConnection::State::Connected; },
        15'000);
    return ready ? id : QString();
}

// One control-API call, waited for (bounded); the result, or an invalid value on error.
inline QJsonValue callWait(ProxyRegistry &registry, const QString &id, const QString &method,
                           const QJsonObject &params, QString *error = nullptr)
{
    bool done = false;
    ProxyConnection::Reply reply;
    registry.connection(id)->call(method, params, [&](const ProxyConnection::Reply &r) {
        reply = r;
        done = true;
    });
    QTest::qWaitFor([&] { return done; }, 15'000);
    if (!reply.ok && error)
        *error = reply.error.message;
    return reply.ok ? reply.result : QJsonValue(QJsonValue::Undefined);
}

// A Blocked Senders group holding `member`, made through the control API.
inline bool blockSender(ProxyRegistry &registry, const QString &id, const QString &member)
{
    const QJsonObject group{{QStringLiteral("name"), QStringLiteral("Blocked Senders")},
                            {QStringLiteral("kind"), QStringLiteral("blocked")},
                            {QStringLiteral("members"), QJsonArray{member}}};
    QString error;
    const QJsonValue r = callWait(registry, id, QStringLiteral("group.create"),
                                  QJsonObject{{QStringLiteral("group"), group}}, &error);
    if (r.isUndefined())
        qWarning("group.create: %s", qPrintable(error));
    return !r.isUndefined();
}

} // namespace greygate::test
