// SPDX-License-Identifier: GPL-3.0-or-later
// SMTP smuggling (CVE-2023-51764/5/6) through greygated's SMTP proxy: a message whose text
// holds an ambiguous end-of-data (`\n.\n`, `\r.\r`, ...) followed by a second, smuggled
// transaction. The backend is a private Postfix 3.7 with its default
// smtpd_forbid_bare_newline = no: a lax server that ends DATA at a bare LF "." line, as
// the first test shows by smuggling straight to it. Through the proxy, with
// --smtp-bare-lf=refuse the message is refused; with normalise it may be delivered, as one
// message holding the smuggled text. Never does the client get a reply to the smuggled
// commands, never does the backend see the smuggled transaction, and a refused message
// never arrives half.

#include "PostfixInstance.h"
#include "SmtpClient.h"
#include "SmtpProxyProcess.h"
#include "SmtpTestKit.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {

const QString Carrier = QStringLiteral("carrier@example.test");
const QString Victim = QStringLiteral("victim@example.test");

QByteArray describe(const QList<SmtpClient::Reply> &replies)
{
    QByteArray text;
    for (const SmtpClient::Reply &reply : replies)
        text += reply.summary() + '\n';
    return text;
}

// The carrier message, the ambiguous sequence, a smuggled transaction, the real end, QUIT.
QByteArray smugglingPayload(const QByteArray &variant, const QByteArray &token)
{
    return "Subject: carrier " + token + "\r\n\r\ncarrier body " + token + variant +
           "MAIL FROM:<evil@partner.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
           "Subject: smuggled " +
           token + "\r\n\r\nsmuggled body " + token + "\r\n.\r\nQUIT\r\n";
}

// Connects to port and sends one transaction to Carrier whose DATA is `payload` (sent in
// one write, as an attacker's outbound server would relay it); returns every reply after
// the 354 until the server closes (bounded).
QList<SmtpClient::Reply> sendSmuggling(quint16 port, const QByteArray &payload, QString *error)
{
    SmtpClient client;
    if (!client.connectTo(port)) {
        *error = client.errorString();
        return {};
    }
    const QList<QByteArray> commands = {"EHLO client.test", "MAIL FROM:<bulk@partner.test>",
                                        "RCPT TO:<" + Carrier.toUtf8() + '>', "DATA"};
    if (const auto banner = client.readReply(); !banner || banner->code != 220) {
        *error = QStringLiteral("no banner: ") + client.errorString();
        return {};
    }
    for (const QByteArray &command : commands) {
        const std::optional<SmtpClient::Reply> reply = client.command(command);
        if (!reply || reply->codeClass() > 3) {
            *error = QString::fromUtf8(command) + QStringLiteral(" -> ") +
                     (reply ? QString::fromUtf8(reply->summary()) : client.errorString());
            return {};
        }
    }
    client.send(payload);
    QList<SmtpClient::Reply> replies;
    for (int i = 0; i < 10; ++i) {
        const std::optional<SmtpClient::Reply> reply = client.readReply(20'000);
        if (!reply)
            break;
        replies.append(*reply);
    }
    if (client.isConnected())
        *error = QStringLiteral("the server did not close after QUIT: ") + client.errorString();
    return replies;
}

} // namespace

class SmtpProxySmugglingTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void backendIsALaxWitness();
    void ambiguousEndOfDataNeverSplitsAMessage_data();
    void ambiguousEndOfDataNeverSplitsAMessage();

private:
    QByteArray context() const;

    QTemporaryDir m_refuseDir;
    QTemporaryDir m_normaliseDir;
    PostfixInstance m_backend;
    std::unique_ptr<SmtpProxyProcess> m_refuse;
    std::unique_ptr<SmtpProxyProcess> m_normalise;
    int m_normalSessions = 0;
    QByteArray m_mustNotArrive; // the text of a message the proxy refused
};

QByteArray SmtpProxySmugglingTest::context() const
{
    return (QStringLiteral("--- greygated (refuse):\n") + m_refuse->log().right(6'000) +
            QStringLiteral("\n--- greygated (normalise):\n") + m_normalise->log().right(6'000) +
            QStringLiteral("\n--- backend maillog:\n") + m_backend.maillog().right(8'000))
        .toUtf8();
}

void SmtpProxySmugglingTest::initTestCase()
{
    QVERIFY(m_refuseDir.isValid() && m_normaliseDir.isValid());
    for (const QString &address : {Carrier, Victim, Recipient})
        m_backend.addMailbox(address);
    QString error;
    QVERIFY2(m_backend.start(&error), qPrintable(error));
    const QString policies = m_refuseDir.filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(policies, PolicyDocument));
    m_refuse = std::make_unique<SmtpProxyProcess>(m_refuseDir.path());
    m_normalise = std::make_unique<SmtpProxyProcess>(m_normaliseDir.path());
    QVERIFY2(m_refuse->start(m_backend.smtpPort(),
                             proxyArgs({QStringLiteral("--policies=") + policies,
                                        QStringLiteral("--smtp-bare-lf=refuse")}),
                             &error),
             qPrintable(error));
    QVERIFY2(m_normalise->start(m_backend.smtpPort(),
                                proxyArgs({QStringLiteral("--policies=") + policies,
                                           QStringLiteral("--smtp-bare-lf=normalise")}),
                                &error),
             qPrintable(error));
}

// Every case ends with a normal session through both proxies; once it is in the mailbox,
// anything the case had let through would be too (one queue, delivered in order).
void SmtpProxySmugglingTest::cleanup()
{
    if (QTest::currentTestFailed())
        return;
    for (SmtpProxyProcess *proxy : {m_refuse.get(), m_normalise.get()}) {
        const QString token = QStringLiteral("normal-%1").arg(++m_normalSessions);
        const Swaks s = swaks(proxy->port(), PartnerSender, Recipient, token);
        QVERIFY2(s.accepted(), QByteArray(s.transcript.toUtf8() + '\n' + context()).constData());
        QTRY_VERIFY2_WITH_TIMEOUT(m_backend.mailbox(Recipient).contains(token.toUtf8()),
                                  context().constData(), 30'000);
    }
    QVERIFY2(m_mustNotArrive.isEmpty() || !m_backend.mailbox(Carrier).contains(m_mustNotArrive),
             context().constData());
    m_mustNotArrive.clear();
    QVERIFY2(!m_backend.mailbox(Victim).contains("evil@partner.test") &&
                 !m_backend.maillog().contains(QStringLiteral("evil@partner.test")),
             context().constData());
}

void SmtpProxySmugglingTest::backendIsALaxWitness()
{
    // Straight to Postfix, bypassing the proxy: `\n.\n` ends its DATA and the smuggled
    // transaction is accepted, so the checks below can fail.
    QString error;
    const QList<SmtpClient::Reply> replies =
        sendSmuggling(m_backend.smtpPort(), smugglingPayload("\n.\n", "control"), &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY2(replies.size() >= 4, describe(replies).constData());
    QTRY_VERIFY2_WITH_TIMEOUT(m_backend.mailbox(Victim).contains("smuggled control"),
                              context().constData(), 30'000);
    // Forget it: the checks after each case look for the smuggled sender.
    QFile::remove(m_backend.mailboxPath(Victim));
    QFile::resize(m_backend.rootPath() + QStringLiteral("/maillog"), 0);
}

void SmtpProxySmugglingTest::ambiguousEndOfDataNeverSplitsAMessage_data()
{
    QTest::addColumn<bool>("normalise");
    QTest::addColumn<QByteArray>("variant");
    static const char nulDot[] = "\r\n\0.\r\n";
    const QList<std::pair<const char *, QByteArray>> variants = {
        {"\\n.\\n", QByteArray("\n.\n")},
        {"\\r.\\r", QByteArray("\r.\r")},
        {"\\r.\\n", QByteArray("\r.\n")},
        {"\\n.\\r", QByteArray("\n.\r")},
        {"\\n.\\r\\n", QByteArray("\n.\r\n")},
        {"\\r\\n.\\n", QByteArray("\r\n.\n")},
        {"\\r.\\r\\n", QByteArray("\r.\r\n")},
        {"\\r\\n.\\r", QByteArray("\r\n.\r")},
        {"\\r\\n\\0.\\r\\n", QByteArray(nulDot, sizeof nulDot - 1)},
    };
    for (const bool normalise : {false, true}) {
        for (const auto &[name, bytes] : variants) {
            QTest::addRow("%s, bare LF %s", name, normalise ? "normalised" : "refused")
                << normalise << bytes;
        }
    }
}

void SmtpProxySmugglingTest::ambiguousEndOfDataNeverSplitsAMessage()
{
    QFETCH(bool, normalise);
    QFETCH(QByteArray, variant);
    SmtpProxyProcess &proxy = normalise ? *m_normalise : *m_refuse;
    const QByteArray token = QByteArray(QTest::currentDataTag()).toPercentEncoding();

    QString error;
    const QList<SmtpClient::Reply> replies =
        sendSmuggling(proxy.port(), smugglingPayload(variant, token), &error);
    const QByteArray said = describe(replies) + '\n' + error.toUtf8() + '\n' + context();
    QVERIFY2(error.isEmpty(), said.constData());

    // The client heard one final reply and the QUIT's (or a refusal and a close), nothing
    // for the smuggled commands.
    QVERIFY2(!replies.isEmpty() && replies.size() <= 2, said.constData());
    for (const SmtpClient::Reply &reply : replies)
        QVERIFY2(reply.code != 354, said.constData());
    const SmtpClient::Reply &final = replies.first();
    if (!normalise || final.codeClass() != 2) {
        // Refused: every bare LF/CR (and NUL) variant is, in refuse mode.
        QVERIFY2(normalise || final.codeClass() == 5 || final.codeClass() == 4, said.constData());
        QVERIFY2(final.codeClass() != 2, said.constData());
        m_mustNotArrive = "carrier body " + token; // cleanup() shows none of it arrived
        return;
    }
    // Normalised and accepted: one message, the smuggled part inside it as text.
    const QByteArray carrierText = "carrier body " + token;
    QTRY_VERIFY2_WITH_TIMEOUT(m_backend.mailbox(Carrier).contains(carrierText),
                              context().constData(), 30'000);
    const QByteArray mailbox = m_backend.mailbox(Carrier);
    const QByteArray message = mailbox.mid(mailbox.indexOf(carrierText));
    QVERIFY2(message.contains(QByteArray("smuggled body " + token)), message.constData());
}

QTEST_GUILESS_MAIN(SmtpProxySmugglingTest)
#include "tst_smtp_proxy_smuggling.moc"
