// SPDX-License-Identifier: GPL-3.0-or-later
// A real Postfix as the sending MTA, relaying through greygated's SMTP proxy to smtp-sink: a
// message submitted to it is deferred by the proxy (451 4.7.1), Postfix keeps it in
// its queue and retries on its own (short backoff times, no flush from the test), and the
// retry after the greylisting delay is delivered to the backend with an X-Greylist header.

#include "PostfixInstance.h"
#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"
#include "SmtpTestKit.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {
constexpr int DelaySeconds = 3;
const QString RemoteRecipient = QStringLiteral("someone@example.org");
} // namespace

class SmtpProxyPostfixSenderTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void postfixRetriesDeferredMessageOnItsOwnAndItArrives();
};

void SmtpProxyPostfixSenderTest::postfixRetriesDeferredMessageOnItsOwnAndItArrives()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    SmtpSinkProcess sink({QStringLiteral("-C")}); // no XCLIENT: see tst_smtp_proxy_swaks
    QString error;
    QVERIFY2(sink.start(&error), qPrintable(error));
    SmtpProxyProcess proxy(work.path());
    QVERIFY2(proxy.start(sink.port(), proxyArgs({QStringLiteral("--delay=%1").arg(DelaySeconds)}),
                         &error),
             qPrintable(error));

    // start() returns once the sender's smtpd greets (a master that accepts connections
    // without serving them is replaced there).
    PostfixInstance sender;
    // Mail for example.org goes to the proxy; retries come from the queue manager alone.
    sender.setParameter(
        QStringLiteral("transport_maps"),
        QStringLiteral("inline:{example.org=smtp:[127.0.0.1]:%1}").arg(proxy.port()));
    sender.setParameter(QStringLiteral("minimal_backoff_time"), QStringLiteral("2s"));
    sender.setParameter(QStringLiteral("maximal_backoff_time"), QStringLiteral("4s"));
    sender.setParameter(QStringLiteral("queue_run_delay"), QStringLiteral("2s"));
    sender.setParameter(QStringLiteral("smtp_tls_security_level"), QStringLiteral("none"));
    QVERIFY2(sender.start(&error), qPrintable(error));
    const auto context = [&] {
        return (QStringLiteral("--- sender maillog:\n") + sender.maillog() +
                QStringLiteral("\n--- greygated:\n") + proxy.log() +
                QStringLiteral("\n--- smtp-sink:\n") + sink.log())
            .toUtf8();
    };

    // Submitted over SMTP to the sending Postfix (a relay for 127.0.0.0/8), which queues it:
    // deterministic, where sendmail's hand-off to pickup could wait for pickup's next
    // wake-up (60 s) on a loaded machine.
    const Swaks submitted = swaks(sender.smtpPort(), GreylistedSender, RemoteRecipient,
                                  QStringLiteral("queued by postfix"));
    QVERIFY2(submitted.accepted() &&
                 submitted.transcript.contains(QStringLiteral("250 2.0.0 Ok: queued as")),
             QByteArray(submitted.transcript.toUtf8() + '\n' + context()).constData());

    // The proxy deferred the first attempt; Postfix noted it and kept the message. (Bounded
    // generously: on a loaded machine Postfix's pickup and first delivery take a while.)
    QTRY_VERIFY2_WITH_TIMEOUT(sender.maillog().contains(QStringLiteral("status=deferred")),
                              context().constData(), 60'000);
    QVERIFY2(sender.maillog().contains(QStringLiteral(" said: 451 4.7.1 ")), context().constData());
    QCOMPARE(sink.messageCount(), 0);

    // Postfix retries on its own after its backoff; the delay has passed by then.
    QTRY_VERIFY2_WITH_TIMEOUT(sender.maillog().contains(QStringLiteral("status=sent")),
                              context().constData(), 60'000);
    QVERIFY2(sink.waitForMessages(1, 10'000), context().constData());
    QCOMPARE(sink.messageCount(), 1);
    const QString delivered = QString::fromUtf8(sink.messages().value(0));
    QVERIFY2(delivered.contains(QStringLiteral("Subject: queued by postfix")),
             qPrintable(delivered));
    QVERIFY2(delivered.contains(QStringLiteral("X-Mail-Args: <alice@sender.example>")),
             qPrintable(delivered));
    QVERIFY2(delivered.contains(QStringLiteral("Body of queued by postfix")),
             qPrintable(delivered));
    const QRegularExpressionMatch header =
        QRegularExpression(QStringLiteral("X-Greylist: delayed ([0-9]+) seconds")).match(delivered);
    QVERIFY2(header.hasMatch(), qPrintable(delivered));
    QVERIFY2(header.captured(1).toInt() >= DelaySeconds, qPrintable(delivered));
    // Postfix reports the backend's reply as passed on by the proxy.
    QVERIFY2(sender.maillog().contains(QStringLiteral("status=sent (250 2.0.0 Ok")),
             context().constData());

    sender.stop();
    QVERIFY2(proxy.terminate(), qPrintable(proxy.log()));
}

QTEST_GUILESS_MAIN(SmtpProxyPostfixSenderTest)
#include "tst_smtp_proxy_postfix_sender.moc"
