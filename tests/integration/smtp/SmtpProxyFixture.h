// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpClient.h"
#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"

#include <QList>
#include <QTemporaryDir>
#include <memory>

namespace greygate::test::smtp {

// One smtp-sink and one greygated proxying to it, for a test file of hostile sessions: the
// policy document of SmtpTestKit.h (partner.test bypasses greylisting, so its transactions
// reach the backend at once), a self-signed certificate for STARTTLS, and the checks every
// hostile session ends with: the daemon still serves a normal swaks session, and the sink
// received exactly the messages it should (nothing half-received). The sink offers no
// XCLIENT (-C): passing the client on is tst_smtp_proxy_swaks's subject, not these tests'.
class SmtpProxyFixture
{
public:
    SmtpProxyFixture();
    ~SmtpProxyFixture();

    // Starts the sink and the proxy (with --policies, --smtp-tls-cert/-key and extraArgs).
    bool start(const QStringList &extraArgs, QString *error);
    SmtpSinkProcess &sink() { return m_sink; }
    SmtpProxyProcess &proxy() { return *m_proxy; }
    quint16 port() const { return m_proxy->port(); }

    // Connects and reads the 220 banner.
    bool connect(SmtpClient &client, QString *error) const;
    // EHLO, MAIL FROM a partner, then `recipients` RCPTs: every reply positive.
    bool openTransaction(SmtpClient &client, int recipients, QString *error) const;
    // Reads replies until the server closes the connection or maxReplies were read (bounded
    // by timeoutMs). *closed tells whether it closed.
    static QList<SmtpClient::Reply> readUntilClosed(SmtpClient &client, int maxReplies,
                                                    int timeoutMs, bool *closed);

    // A reply's first line, or why there was none, for failure messages.
    static QByteArray describe(const std::optional<SmtpClient::Reply> &reply,
                               const SmtpClient &client);

    // Remembers the sink's message count: delivered() counts from here, and the test
    // expects nothing delivered until it says otherwise with expectDelivered().
    void mark()
    {
        m_mark = m_sink.messageCount();
        m_expected = 0;
    }
    int delivered() const { return m_sink.messageCount() - m_mark; }
    void expectDelivered(int count) { m_expected = count; }
    // The daemon still runs, a swaks session from a partner is delivered, and the sink then
    // holds exactly the expected messages and that one: nothing of the hostile session
    // arrived late.
    bool servesNormalSession(QString *error);
    // The logs of both, for failure messages (bounded).
    QByteArray context() const;

private:
    QTemporaryDir m_work;
    SmtpSinkProcess m_sink;
    std::unique_ptr<SmtpProxyProcess> m_proxy;
    int m_mark = 0;
    int m_expected = 0;
};

} // namespace greygate::test::smtp
