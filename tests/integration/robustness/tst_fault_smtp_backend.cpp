// SPDX-License-Identifier: GPL-3.0-or-later
// Fault injection at the SMTP proxy's backend (a ScriptedSmtpBackend): at each stage of the
// backend session (greeting, EHLO, MAIL, RCPT, DATA, the final dot) it answers 4xx, 5xx or
// 421, drops the connection without a word, or stalls. The client always gets an answer
// within the proxy's timeouts (2 s here), of the class docs/smtp.md promises (the backend's
// own refusal, or 451 4.4.x when it failed), never a 250 for a message the backend did not
// accept; nothing half-received is recorded; and once the fault is cleared the same proxy
// relays a message at once (no session, no connection left behind).

#include "DaemonProcess.h"
#include "RobustnessKit.h"
#include "ScriptedSmtpBackend.h"
#include "SmtpClient.h"
#include "TestSupport.h"

#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;
using namespace Qt::StringLiterals;
using Stage = ScriptedSmtpBackend::Stage;
using Fault = ScriptedSmtpBackend::Fault;

Q_DECLARE_METATYPE(ScriptedSmtpBackend::Stage)
Q_DECLARE_METATYPE(ScriptedSmtpBackend::Fault)

namespace {

const QByteArray Policies = QByteArrayLiteral(R"({"policies": [{"id": 1,
  "narrative": "Partners skip greylisting", "action": "bypass",
  "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}]})");

// The proxy's bound on every wait for the backend, and ours on every reply (well above it).
constexpr int ProxyTimeoutSeconds = 2;
constexpr int ReplyDeadlineMs = 20'000;

} // namespace

class FaultSmtpBackendTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void clientGetsTheDocumentedReplyAndNothingHalfIsDelivered_data();
    void clientGetsTheDocumentedReplyAndNothingHalfIsDelivered();

private:
    // One message through the proxy; the reply that ended it (RCPT, DATA or the final dot).
    std::optional<SmtpClient::Reply> sendOne(const QByteArray &token, QString *stageReached);

    QTemporaryDir m_work;
    ScriptedSmtpBackend m_backend;
    std::unique_ptr<DaemonProcess> m_proxy;
};

void FaultSmtpBackendTest::initTestCase()
{
    QVERIFY(m_work.isValid());
    QString error;
    QVERIFY2(m_backend.startListening(&error), qPrintable(error));
    const QString policies = m_work.filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(policies, Policies));
    m_proxy = std::make_unique<DaemonProcess>(m_work.filePath(QStringLiteral("greygated.log")));
    const QString timeout = QString::number(ProxyTimeoutSeconds);
    QVERIFY2(m_proxy->startOnFreePort(
                 greygated(),
                 [&](quint16 port) {
                     return QStringList{
                         QStringLiteral("--smtp-listen=127.0.0.1:%1").arg(port),
                         QStringLiteral("--smtp-backend=127.0.0.1:%1").arg(m_backend.port()),
                         QStringLiteral("--dbdir=") + m_work.filePath(QStringLiteral("db")),
                         QStringLiteral("--policies=") + policies,
                         QStringLiteral("--smtp-command-timeout=") + timeout,
                         QStringLiteral("--smtp-final-timeout=") + timeout,
                         QStringLiteral("--user=root")};
                 },
                 30'000, &error),
             qPrintable(error));
}

void FaultSmtpBackendTest::cleanupTestCase()
{
    if (m_proxy) {
        QVERIFY2(m_proxy->terminate(), qPrintable(m_proxy->log()));
        QCOMPARE(m_proxy->exitCode(), 0);
    }
}

std::optional<SmtpClient::Reply> FaultSmtpBackendTest::sendOne(const QByteArray &token,
                                                               QString *stageReached)
{
    SmtpClient smtp;
    if (!smtp.connectTo(m_proxy->port()))
        return std::nullopt;
    *stageReached = QStringLiteral("banner");
    auto reply = smtp.readReply(ReplyDeadlineMs);
    if (!reply || reply->code != 220)
        return reply;
    *stageReached = QStringLiteral("EHLO");
    reply = smtp.command("EHLO client.test", ReplyDeadlineMs);
    if (!reply || reply->code != 250)
        return reply;
    *stageReached = QStringLiteral("MAIL");
    reply = smtp.command("MAIL FROM:<bulk@partner.test>", ReplyDeadlineMs);
    if (!reply || reply->code != 250)
        return reply;
    *stageReached = QStringLiteral("RCPT");
    reply = smtp.command("RCPT TO:<rcpt@example.test>", ReplyDeadlineMs);
    if (!reply || reply->code != 250)
        return reply;
    *stageReached = QStringLiteral("DATA");
    reply = smtp.command("DATA", ReplyDeadlineMs);
    if (!reply || reply->code != 354)
        return reply;
    *stageReached = QStringLiteral("dot");
    reply = smtp.command("Subject: " + token + "\r\n\r\nbody\r\n.", ReplyDeadlineMs);
    smtp.command("QUIT", 2'000);
    return reply;
}

void FaultSmtpBackendTest::clientGetsTheDocumentedReplyAndNothingHalfIsDelivered_data()
{
    QTest::addColumn<Stage>("stage");
    QTest::addColumn<Fault>("fault");
    QTest::addColumn<QByteArray>("backendReply");
    // Where the client gets the refusal; "DATA|dot": the proxy may answer DATA itself
    // before the backend's 354 (pipelining) and give the refusal at the dot.
    QTest::addColumn<QString>("clientStage");
    QTest::addColumn<int>("clientCode"); // exact code, or 4/5 for its class

    QTest::newRow("greeting 421") << Stage::Greeting << Fault::Reply << QByteArray("421 4.3.2 Busy")
                                  << u"RCPT"_s << 451;
    QTest::newRow("greeting 554") << Stage::Greeting << Fault::Reply
                                  << QByteArray("554 5.3.2 Not now") << u"RCPT"_s << 451;
    QTest::newRow("greeting silent disconnect")
        << Stage::Greeting << Fault::Disconnect << QByteArray() << u"RCPT"_s << 451;
    QTest::newRow("greeting stalls")
        << Stage::Greeting << Fault::Stall << QByteArray() << u"RCPT"_s << 451;
    QTest::newRow("EHLO 502") << Stage::Ehlo << Fault::Reply << QByteArray("502 5.5.1 No EHLO")
                              << u"RCPT"_s << 451;
    QTest::newRow("EHLO stalls") << Stage::Ehlo << Fault::Stall << QByteArray() << u"RCPT"_s << 451;
    QTest::newRow("MAIL 451") << Stage::Mail << Fault::Reply << QByteArray("451 4.3.0 Try later")
                              << u"RCPT"_s << 451;
    QTest::newRow("MAIL 552") << Stage::Mail << Fault::Reply << QByteArray("552 5.3.4 Too big")
                              << u"RCPT"_s << 552;
    QTest::newRow("MAIL silent disconnect")
        << Stage::Mail << Fault::Disconnect << QByteArray() << u"RCPT"_s << 4;
    QTest::newRow("RCPT 450") << Stage::Rcpt << Fault::Reply << QByteArray("450 4.2.1 Mailbox busy")
                              << u"RCPT"_s << 450;
    QTest::newRow("RCPT 550") << Stage::Rcpt << Fault::Reply << QByteArray("550 5.1.1 No such user")
                              << u"RCPT"_s << 550;
    QTest::newRow("RCPT 421") << Stage::Rcpt << Fault::Reply
                              << QByteArray("421 4.3.2 Shutting down") << u"RCPT"_s << 4;
    QTest::newRow("RCPT silent disconnect")
        << Stage::Rcpt << Fault::Disconnect << QByteArray() << u"RCPT"_s << 4;
    QTest::newRow("RCPT stalls") << Stage::Rcpt << Fault::Stall << QByteArray() << u"RCPT"_s << 4;
    QTest::newRow("DATA 451") << Stage::Data << Fault::Reply << QByteArray("451 4.3.0 Queue full")
                              << u"DATA|dot"_s << 451;
    QTest::newRow("DATA 554") << Stage::Data << Fault::Reply << QByteArray("554 5.5.1 No thanks")
                              << u"DATA|dot"_s << 554;
    QTest::newRow("DATA silent disconnect")
        << Stage::Data << Fault::Disconnect << QByteArray() << u"DATA|dot"_s << 4;
    QTest::newRow("DATA stalls") << Stage::Data << Fault::Stall << QByteArray() << u"DATA|dot"_s
                                 << 4;
    QTest::newRow("dot 451") << Stage::Dot << Fault::Reply << QByteArray("451 4.3.0 Local error")
                             << u"dot"_s << 451;
    QTest::newRow("dot 552") << Stage::Dot << Fault::Reply
                             << QByteArray("552 5.3.4 Message too big") << u"dot"_s << 552;
    QTest::newRow("dot 421") << Stage::Dot << Fault::Reply << QByteArray("421 4.3.2 Going away")
                             << u"dot"_s << 4;
    QTest::newRow("dot silent disconnect")
        << Stage::Dot << Fault::Disconnect << QByteArray() << u"dot"_s << 451;
    QTest::newRow("dot stalls") << Stage::Dot << Fault::Stall << QByteArray() << u"dot"_s << 451;
}

void FaultSmtpBackendTest::clientGetsTheDocumentedReplyAndNothingHalfIsDelivered()
{
    QFETCH(Stage, stage);
    QFETCH(Fault, fault);
    QFETCH(QByteArray, backendReply);
    QFETCH(QString, clientStage);
    QFETCH(int, clientCode);
    const QByteArray token = QTest::currentDataTag();

    m_backend.setFault(stage, fault, backendReply);
    // A new backend connection for this message, whatever the proxy keeps for reuse.
    m_backend.dropSessions();
    const qsizetype before = m_backend.messageCount();
    QString reached;
    const auto reply = sendOne(token, &reached);
    m_backend.setFault(stage, Fault::None);
    QVERIFY2(reply, qPrintable(QStringLiteral("no reply at ") + reached + u'\n' + m_proxy->log()));
    QVERIFY2(clientStage.split(u'|').contains(reached),
             qPrintable(reached + u' ' + QString::fromLatin1(reply->summary())));
    if (clientCode < 10)
        QVERIFY2(reply->codeClass() == clientCode, reply->summary().constData());
    else
        QVERIFY2(reply->code == clientCode, reply->summary().constData());
    QCOMPARE(m_backend.messageCount(), before);

    // The fault cleared, the same proxy relays the next message at once.
    const QByteArray next = token + "-after";
    const auto ok = sendOne(next, &reached);
    QVERIFY2(ok && ok->code == 250 && reached == u"dot",
             qPrintable(reached + u' ' + QString::fromLatin1(ok ? ok->summary() : "no reply")));
    QCOMPARE(m_backend.messageCount(), before + 1);
    QVERIFY(
        m_backend.messages().constLast().content.contains(QByteArray("Subject: " + next + "\r\n")));
    QVERIFY(m_proxy->isRunning());
}

QTEST_GUILESS_MAIN(FaultSmtpBackendTest)
#include "tst_fault_smtp_backend.moc"
