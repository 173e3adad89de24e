// SPDX-License-Identifier: GPL-3.0-or-later
// Postfix's smtp-source against greygated's SMTP proxy, smtp-sink behind it: parallel
// sessions with several messages each and several recipients per message all arrive whole
// when greylisting is bypassed; greylisted bulk mail never reaches the backend; a Blocked
// sender is refused with 550 5.7.1.

#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"
#include "SmtpTestKit.h"

#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {
constexpr int Sessions = 5;
constexpr int Messages = 60;
constexpr int RecipientsPerMessage = 7;

ProgramResult smtpSource(quint16 port, const QStringList &args)
{
    return runProgram(QStringLiteral("/usr/sbin/smtp-source"),
                      args + QStringList{QStringLiteral("-M"), QStringLiteral("client.test"),
                                         QStringLiteral("127.0.0.1:%1").arg(port)},
                      120'000);
}
} // namespace

class SmtpProxySmtpSourceTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void parallelSessionsManyRecipientsAllArriveWhole();
    void greylistedBulkNeverReachesTheBackend();
    void blockedSenderRefusedWith550();

private:
    QTemporaryDir m_work;
    SmtpSinkProcess m_sink{{QStringLiteral("-C")}}; // no XCLIENT: see tst_smtp_proxy_swaks
    std::unique_ptr<SmtpProxyProcess> m_proxy;
};

void SmtpProxySmtpSourceTest::initTestCase()
{
    QVERIFY(m_work.isValid());
    const QString policies = m_work.filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(policies, PolicyDocument));
    QString error;
    QVERIFY2(m_sink.start(&error), qPrintable(error));
    m_proxy = std::make_unique<SmtpProxyProcess>(m_work.path());
    QVERIFY2(m_proxy->start(m_sink.port(),
                            proxyArgs({QStringLiteral("--policies=") + policies,
                                       QStringLiteral("--delay=3600")}),
                            &error),
             qPrintable(error));
}

void SmtpProxySmtpSourceTest::parallelSessionsManyRecipientsAllArriveWhole()
{
    const int before = m_sink.messageCount();
    // -d: several messages per session (RSET-free reuse of the connection).
    const ProgramResult run = smtpSource(
        m_proxy->port(),
        {QStringLiteral("-d"), QStringLiteral("-s"), QString::number(Sessions),
         QStringLiteral("-m"), QString::number(Messages), QStringLiteral("-r"),
         QString::number(RecipientsPerMessage), QStringLiteral("-l"), QStringLiteral("2048"),
         QStringLiteral("-f"), PartnerSender, QStringLiteral("-t"), Recipient, QStringLiteral("-S"),
         QStringLiteral("bulk through the proxy")});
    const QByteArray context = run.out + run.err + "\n--- greygated:\n" +
                               m_proxy->log().right(8'000).toUtf8() + "\n--- smtp-sink:\n" +
                               m_sink.log().right(4'000).toUtf8();
    QVERIFY2(run.finished && run.exitCode == 0, context.constData());

    QVERIFY2(m_sink.waitForMessages(before + Messages, 20'000), context.constData());
    QCOMPARE(m_sink.messageCount(), before + Messages);
    const QList<QByteArray> messages = m_sink.messages();
    QCOMPARE(messages.size(), before + Messages);
    for (const QByteArray &message : messages.mid(before)) {
        QCOMPARE(message.count("X-Rcpt-Args: <"), RecipientsPerMessage);
        QVERIFY2(message.contains("X-Mail-Args: <bulk@partner.test>"), message.constData());
        QVERIFY2(message.contains("Subject: bulk through the proxy"), message.constData());
    }
    QVERIFY(m_proxy->isRunning());
}

void SmtpProxySmtpSourceTest::greylistedBulkNeverReachesTheBackend()
{
    const int before = m_sink.messageCount();
    // -A: smtp-source goes on after the 451s instead of stopping at the first.
    const ProgramResult run = smtpSource(
        m_proxy->port(),
        {QStringLiteral("-A"), QStringLiteral("-s"), QStringLiteral("4"), QStringLiteral("-m"),
         QStringLiteral("20"), QStringLiteral("-r"), QStringLiteral("3"), QStringLiteral("-f"),
         QStringLiteral("bulk@unknown-sender.test"), QStringLiteral("-t"), Recipient});
    QVERIFY2(run.finished, run.err.constData());
    // Every session ended; none of it reached the backend.
    QVERIFY2(!m_sink.log().contains(QStringLiteral("unknown-sender.test")),
             qPrintable(m_sink.log()));
    QCOMPARE(m_sink.messageCount(), before);
    QVERIFY(m_proxy->isRunning());
}

void SmtpProxySmtpSourceTest::blockedSenderRefusedWith550()
{
    const int before = m_sink.messageCount();
    const ProgramResult run = smtpSource(
        m_proxy->port(), {QStringLiteral("-m"), QStringLiteral("1"), QStringLiteral("-f"),
                          BlockedSender, QStringLiteral("-t"), Recipient});
    QVERIFY2(run.finished, run.err.constData());
    // smtp-source stops at the unexpected reply and prints it. It says HELO, not EHLO, so
    // the reply carries no enhanced status code (RFC 2034: only once advertised).
    const QByteArray said = run.out + run.err;
    QVERIFY2(run.exitCode != 0, said.constData());
    QVERIFY2(said.contains("recipient rejected: 550 "), said.constData());
    QVERIFY2(!said.contains("550 5."), said.constData());
    QVERIFY2(!m_sink.log().contains(BlockedSender), qPrintable(m_sink.log()));
    QCOMPARE(m_sink.messageCount(), before);
}

QTEST_GUILESS_MAIN(SmtpProxySmtpSourceTest)
#include "tst_smtp_proxy_smtp_source.moc"
