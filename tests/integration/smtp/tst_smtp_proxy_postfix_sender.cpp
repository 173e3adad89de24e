// SPDX-License-Identifier: GPL-3.0-or-later
// A real Postfix as the sending MTA, relaying through greygated's SMTP proxy to smtp-sink: a
// message submitted to it is deferred by the proxy (451 4.7.1), Postfix keeps it in
// its queue and retries on its own (short backoff times, no flush from the test), and the
// retry after the greylisting delay is delivered to the backend with an X-Greylist header.

#include "PostfixInstance.h"
#include "SmtpClient.h"
#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"
#include "SmtpTestKit.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

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
    QVERIFY2(proxy.start(sink.port(), {QStringLiteral("--delay=%1").arg(DelaySeconds)}, &error),
             qPrintable(error));

    // A private Postfix whose master accepts connections but never serves them (no smtpd
    // greeting, nothing in its log after postfix-script's "starting") was seen now and then
    // on this loaded machine: make sure the sender greets, else start a fresh one (once).
    std::unique_ptr<PostfixInstance> started;
    for (int attempt = 0; attempt < 2 && !started; ++attempt) {
        auto candidate = std::make_unique<PostfixInstance>();
        // Mail for example.org goes to the proxy; retries come from the queue manager alone.
        candidate->setParameter(
            QStringLiteral("transport_maps"),
            QStringLiteral("inline:{example.org=smtp:[127.0.0.1]:%1}").arg(proxy.port()));
        candidate->setParameter(QStringLiteral("minimal_backoff_time"), QStringLiteral("2s"));
        candidate->setParameter(QStringLiteral("maximal_backoff_time"), QStringLiteral("4s"));
        candidate->setParameter(QStringLiteral("queue_run_delay"), QStringLiteral("2s"));
        candidate->setParameter(QStringLiteral("smtp_tls_security_level"), QStringLiteral("none"));
        QVERIFY2(candidate->start(&error), qPrintable(error));
        SmtpClient probe;
        const bool greets = probe.connectTo(candidate->smtpPort()) &&
                            probe.readReply(15'000).value_or(SmtpClient::Reply{}).code == 220;
        probe.close();
        if (greets) {
            started = std::move(candidate);
        } else {
            qWarning("the sending Postfix did not greet within 15 s; a fresh one:\n%s",
                     qPrintable(candidate->maillog()));
            candidate->stop();
        }
    }
    QVERIFY2(started, "no sending Postfix greeted");
    PostfixInstance &sender = *started;
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
