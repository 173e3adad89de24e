// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpProxyFixture.h"

#include "SmtpTestKit.h"

#include <QDeadlineTimer>

namespace greygate::test::smtp {

SmtpProxyFixture::SmtpProxyFixture()
    : m_sink({QStringLiteral("-C")})
{}
SmtpProxyFixture::~SmtpProxyFixture() = default;

bool SmtpProxyFixture::start(const QStringList &extraArgs, QString *error)
{
    if (!m_work.isValid()) {
        *error = QStringLiteral("no temp dir");
        return false;
    }
    const QString policies = m_work.filePath(QStringLiteral("policies.json"));
    const QString cert = m_work.filePath(QStringLiteral("cert.pem"));
    const QString key = m_work.filePath(QStringLiteral("key.pem"));
    if (!writeFile(policies, PolicyDocument)) {
        *error = QStringLiteral("cannot write ") + policies;
        return false;
    }
    const ProgramResult openssl = runProgram(
        QStringLiteral("openssl"),
        {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
         QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
         QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
         QStringLiteral("-keyout"), key, QStringLiteral("-out"), cert, QStringLiteral("-days"),
         QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=mx.proxy.test")},
        30'000);
    if (!openssl.finished || openssl.exitCode != 0) {
        *error = QStringLiteral("openssl could not make a test certificate: ") +
                 QString::fromUtf8(openssl.err);
        return false;
    }
    if (!m_sink.start(error))
        return false;
    m_proxy = std::make_unique<SmtpProxyProcess>(m_work.path());
    return m_proxy->start(m_sink.port(),
                          proxyArgs(QStringList{QStringLiteral("--policies=") + policies,
                                                QStringLiteral("--delay=3600"),
                                                QStringLiteral("--smtp-tls-cert=") + cert,
                                                QStringLiteral("--smtp-tls-key=") + key} +
                                    extraArgs),
                          error);
}

bool SmtpProxyFixture::connect(SmtpClient &client, QString *error) const
{
    if (!client.connectTo(port())) {
        *error = client.errorString();
        return false;
    }
    const std::optional<SmtpClient::Reply> banner = client.readReply();
    if (!banner || banner->code != 220) {
        *error = QStringLiteral("no 220 banner: ") +
                 (banner ? QString::fromUtf8(banner->summary()) : client.errorString());
        return false;
    }
    return true;
}

bool SmtpProxyFixture::openTransaction(SmtpClient &client, int recipients, QString *error) const
{
    QList<QByteArray> commands = {QByteArrayLiteral("EHLO client.test"),
                                  "MAIL FROM:<" + PartnerSender.toUtf8() + '>'};
    for (int i = 0; i < recipients; ++i)
        commands.append("RCPT TO:<rcpt" + QByteArray::number(i) + "@example.test>");
    for (const QByteArray &command : std::as_const(commands)) {
        const std::optional<SmtpClient::Reply> reply = client.command(command);
        if (!reply || reply->codeClass() != 2) {
            *error = QString::fromUtf8(command) + QStringLiteral(" -> ") +
                     (reply ? QString::fromUtf8(reply->summary()) : client.errorString());
            return false;
        }
    }
    return true;
}

QList<SmtpClient::Reply> SmtpProxyFixture::readUntilClosed(SmtpClient &client, int maxReplies,
                                                           int timeoutMs, bool *closed)
{
    const QDeadlineTimer deadline(timeoutMs);
    QList<SmtpClient::Reply> replies;
    *closed = false;
    while (replies.size() < maxReplies && !deadline.hasExpired()) {
        const std::optional<SmtpClient::Reply> reply =
            client.readReply(int(qMax<qint64>(1, deadline.remainingTime())));
        if (!reply) {
            *closed = !client.isConnected();
            break;
        }
        replies.append(*reply);
    }
    return replies;
}

QByteArray SmtpProxyFixture::describe(const std::optional<SmtpClient::Reply> &reply,
                                      const SmtpClient &client)
{
    return reply ? reply->summary() : "no reply: " + client.errorString().toUtf8();
}

bool SmtpProxyFixture::servesNormalSession(QString *error)
{
    if (!m_proxy->isRunning()) {
        *error = QStringLiteral("greygated is no longer running:\n") + m_proxy->log();
        return false;
    }
    const Swaks s = swaks(port(), PartnerSender, Recipient, QStringLiteral("still-serving"));
    if (!s.accepted()) {
        *error = QStringLiteral("a normal session failed:\n") + s.transcript;
        return false;
    }
    const int expected = m_mark + m_expected + 1;
    if (!m_sink.waitForMessages(expected, 10'000) || m_sink.messageCount() != expected) {
        *error = QStringLiteral("the sink counted %1 messages since the test began, expected "
                                "%2 and the normal session's")
                     .arg(m_sink.messageCount() - m_mark)
                     .arg(m_expected);
        return false;
    }
    return true;
}

QByteArray SmtpProxyFixture::context() const
{
    return (QStringLiteral("--- greygated:\n") + m_proxy->log().right(12'000) +
            QStringLiteral("\n--- smtp-sink:\n") + m_sink.log().right(6'000))
        .toUtf8();
}

} // namespace greygate::test::smtp
