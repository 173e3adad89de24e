// SPDX-License-Identifier: GPL-3.0-or-later
// greygated as an SMTP proxy with swaks as the client and real backends: smtp-sink for the
// greylisting cycle (451 4.7.1 first, the backend's own 250 after the delay, the message at
// the backend with X-Greylist), a Blocked sender refused with 550 5.7.1 without touching the
// backend, and a private Postfix as the backend to show the real client's address arrives
// through XCLIENT or the PROXY protocol (swaks speaks from 127.0.0.2, the proxy from
// 127.0.0.1).

#include "PostfixInstance.h"
#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"
#include "SmtpTestKit.h"

#include <QDeadlineTimer>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <algorithm>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {
constexpr int DelaySeconds = 2;
} // namespace

class SmtpProxySwaksTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstAttemptDeferredThenBackendAcceptsAfterDelayWithHeader_data();
    void firstAttemptDeferredThenBackendAcceptsAfterDelayWithHeader();
    void blockedSenderRefusedWith550AndBackendNeverSeesIt();
    void realClientAddressReachesPostfixBackend_data();
    void realClientAddressReachesPostfixBackend();
};

void SmtpProxySwaksTest::firstAttemptDeferredThenBackendAcceptsAfterDelayWithHeader_data()
{
    // smtp-sink offers "XCLIENT NAME HELO" (no ADDR) and answers XCLIENT with 250, where
    // Postfix says 220; with -C it offers no XCLIENT. The proxy's default (auto) must
    // deliver to both.
    QTest::addColumn<QStringList>("sinkArgs");
    QTest::newRow("smtp-sink offering XCLIENT NAME HELO") << QStringList();
    QTest::newRow("smtp-sink without XCLIENT") << QStringList{QStringLiteral("-C")};
}

void SmtpProxySwaksTest::firstAttemptDeferredThenBackendAcceptsAfterDelayWithHeader()
{
    QFETCH(QStringList, sinkArgs);
    QTemporaryDir work;
    QVERIFY(work.isValid());
    SmtpSinkProcess sink(sinkArgs);
    QString error;
    QVERIFY2(sink.start(&error), qPrintable(error));
    SmtpProxyProcess proxy(work.path());
    QVERIFY2(proxy.start(sink.port(), proxyArgs({QStringLiteral("--delay=%1").arg(DelaySeconds)}),
                         &error),
             qPrintable(error));
    const auto context = [&](const Swaks &s) {
        return (QStringLiteral("swaks exit %1:\n").arg(s.exitCode) + s.transcript +
                QStringLiteral("\n--- greygated:\n") + proxy.log() +
                QStringLiteral("\n--- smtp-sink:\n") + sink.log())
            .toUtf8();
    };

    // First sight: deferred at RCPT with the configured text, and the backend never hears
    // of the transaction.
    const Swaks first = swaks(proxy.port(), GreylistedSender, Recipient, QStringLiteral("first"));
    QVERIFY2(first.refusedWith(QStringLiteral("451 4.7.1 ")), context(first).constData());
    QVERIFY2(first.transcript.contains(QStringLiteral("Greylisted")), context(first).constData());
    QVERIFY2(!sink.log().contains(GreylistedSender), context(first).constData());
    QCOMPARE(sink.messageCount(), 0);
    // One logfmt line at the session's end tells who was greylisted (the start-up probe's
    // connection has a line too, without a sender).
    const auto greylistedLine = [&] {
        const QStringList lines = proxy.sessionLines();
        return std::any_of(lines.begin(), lines.end(), [](const QString &line) {
            return line.contains(QStringLiteral("from=alice@sender.example")) &&
                   line.contains(QStringLiteral("rcpt@example.test=greylisted"));
        });
    };
    QTRY_VERIFY2_WITH_TIMEOUT(greylistedLine(), context(first).constData(), 5'000);

    // Retried as an MTA would, until accepted (bounded well beyond the delay).
    Swaks retry;
    const QDeadlineTimer deadline((DelaySeconds + 30) * 1000);
    do {
        QThread::msleep(300);
        retry = swaks(proxy.port(), GreylistedSender, Recipient, QStringLiteral("retry"));
    } while (retry.refusedWith(QStringLiteral("451 ")) && !deadline.hasExpired());
    QVERIFY2(retry.accepted(), context(retry).constData());
    // The final reply is the backend's own (smtp-sink says "250 2.0.0 Ok").
    QVERIFY2(retry.transcript.contains(QStringLiteral("<-  250 2.0.0 Ok")),
             context(retry).constData());

    QVERIFY2(sink.waitForMessages(1, 10'000), context(retry).constData());
    QCOMPARE(sink.messageCount(), 1);
    const QList<QByteArray> messages = sink.messages();
    QCOMPARE(messages.size(), 1);
    const QString delivered = QString::fromUtf8(messages.first());
    QVERIFY2(delivered.contains(QStringLiteral("X-Mail-Args: <alice@sender.example>")),
             qPrintable(delivered));
    QVERIFY2(delivered.contains(QStringLiteral("X-Rcpt-Args: <rcpt@example.test>")),
             qPrintable(delivered));
    QVERIFY2(delivered.contains(QStringLiteral("Subject: retry")), qPrintable(delivered));
    QVERIFY2(delivered.contains(QStringLiteral("Body of retry")), qPrintable(delivered));
    const QRegularExpressionMatch header =
        QRegularExpression(QStringLiteral("X-Greylist: delayed ([0-9]+) seconds by greygate"))
            .match(delivered);
    QVERIFY2(header.hasMatch(), qPrintable(delivered));
    QVERIFY2(header.captured(1).toInt() >= DelaySeconds, qPrintable(delivered));

    // The triplet passed: the next message goes through at once.
    const Swaks second = swaks(proxy.port(), GreylistedSender, Recipient, QStringLiteral("second"));
    QVERIFY2(second.accepted(), context(second).constData());
    QVERIFY2(sink.waitForMessages(2, 10'000), context(second).constData());

    QVERIFY2(proxy.terminate(), qPrintable(proxy.log()));
}

void SmtpProxySwaksTest::blockedSenderRefusedWith550AndBackendNeverSeesIt()
{
    QTemporaryDir work;
    const QString policies = writePolicies(work);
    QVERIFY(!policies.isEmpty());
    SmtpSinkProcess sink({QStringLiteral("-C")}); // XCLIENT is the tests' above and below
    QString error;
    QVERIFY2(sink.start(&error), qPrintable(error));
    SmtpProxyProcess proxy(work.path());
    QVERIFY2(
        proxy.start(sink.port(), proxyArgs({QStringLiteral("--policies=") + policies}), &error),
        qPrintable(error));

    const Swaks blocked = swaks(proxy.port(), BlockedSender, Recipient, QStringLiteral("spam"));
    const QByteArray context =
        (blocked.transcript + QStringLiteral("\n--- greygated:\n") + proxy.log()).toUtf8();
    QVERIFY2(blocked.refusedWith(QStringLiteral("550 5.7.1 ")), context.constData());
    // Refused at RCPT: swaks never reached DATA.
    QVERIFY2(!blocked.transcript.contains(QStringLiteral(" -> DATA")), context.constData());

    // A partner's mail (a bypass policy) on the same proxy goes through: the refusal was
    // the policy's, not a broken backend.
    const Swaks partner = swaks(proxy.port(), PartnerSender, Recipient, QStringLiteral("partner"));
    QVERIFY2(partner.accepted(), (partner.transcript + proxy.log()).toUtf8().constData());
    QVERIFY2(sink.waitForMessages(1, 10'000), qPrintable(sink.log()));
    QVERIFY2(!sink.log().contains(BlockedSender), qPrintable(sink.log()));
    QCOMPARE(sink.messageCount(), 1);
}

void SmtpProxySwaksTest::realClientAddressReachesPostfixBackend_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("postfixParameter"); // what the backend must be told to accept
    QTest::addColumn<QString>("postfixValue");
    QTest::addColumn<QString>("expectedClient");
    QTest::newRow("auto: XCLIENT offered")
        << QStringLiteral("auto") << QStringLiteral("smtpd_authorized_xclient_hosts")
        << QStringLiteral("127.0.0.0/8") << QStringLiteral("127.0.0.2");
    QTest::newRow("xclient") << QStringLiteral("xclient")
                             << QStringLiteral("smtpd_authorized_xclient_hosts")
                             << QStringLiteral("127.0.0.0/8") << QStringLiteral("127.0.0.2");
    QTest::newRow("proxy-v1") << QStringLiteral("proxy-v1")
                              << QStringLiteral("smtpd_upstream_proxy_protocol")
                              << QStringLiteral("haproxy") << QStringLiteral("127.0.0.2");
    QTest::newRow("proxy-v2") << QStringLiteral("proxy-v2")
                              << QStringLiteral("smtpd_upstream_proxy_protocol")
                              << QStringLiteral("haproxy") << QStringLiteral("127.0.0.2");
    // Without it the backend sees the proxy: the check above is not vacuous.
    QTest::newRow("none") << QStringLiteral("none")
                          << QStringLiteral("smtpd_authorized_xclient_hosts")
                          << QStringLiteral("127.0.0.0/8") << QStringLiteral("127.0.0.1");
}

void SmtpProxySwaksTest::realClientAddressReachesPostfixBackend()
{
    QFETCH(QString, mode);
    QFETCH(QString, postfixParameter);
    QFETCH(QString, postfixValue);
    QFETCH(QString, expectedClient);

    QTemporaryDir work;
    const QString policies = writePolicies(work);
    QVERIFY(!policies.isEmpty());
    PostfixInstance backend;
    backend.addMailbox(Recipient);
    backend.setParameter(postfixParameter, postfixValue);
    QString error;
    QVERIFY2(backend.start(&error), qPrintable(error));
    SmtpProxyProcess proxy(work.path());
    QVERIFY2(proxy.start(backend.smtpPort(),
                         proxyArgs({QStringLiteral("--policies=") + policies,
                                    QStringLiteral("--smtp-pass-client=") + mode}),
                         &error),
             qPrintable(error));

    const Swaks sent = swaks(proxy.port(), PartnerSender, Recipient, QStringLiteral("passed-on"),
                             {QStringLiteral("--local-interface"), QStringLiteral("127.0.0.2")});
    const auto context = [&] {
        return (sent.transcript + QStringLiteral("\n--- greygated:\n") + proxy.log() +
                QStringLiteral("\n--- backend maillog:\n") + backend.maillog())
            .toUtf8();
    };
    QVERIFY2(sent.accepted(), context().constData());
    // The backend's own final reply came back to the client.
    QVERIFY2(sent.transcript.contains(QStringLiteral("250 2.0.0 Ok: queued as")),
             context().constData());
    QTRY_VERIFY2_WITH_TIMEOUT(backend.mailbox(Recipient).contains("Subject: passed-on"),
                              context().constData(), 30'000);
    // Postfix's Received header names the client it believes it talked to.
    const QString mailbox = QString::fromUtf8(backend.mailbox(Recipient));
    const QRegularExpressionMatch received =
        QRegularExpression(QStringLiteral("Received: from [^\\n]*\\(([^\\n]*)\\[([0-9.]+)\\]\\)"))
            .match(mailbox);
    QVERIFY2(received.hasMatch(), qPrintable(mailbox));
    QVERIFY2(received.captured(2) == expectedClient, qPrintable(mailbox));

    QVERIFY2(proxy.terminate(), qPrintable(proxy.log()));
    backend.stop();
}

QTEST_GUILESS_MAIN(SmtpProxySwaksTest)
#include "tst_smtp_proxy_swaks.moc"
