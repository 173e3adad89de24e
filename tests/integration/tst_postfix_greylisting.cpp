// SPDX-License-Identifier: GPL-3.0-or-later
// A real Postfix whose smtpd_recipient_restrictions ask the policy server, and swaks as the
// sending MTA: the first attempt of a triplet is deferred with Postfix's 450 4.7.1, a retry
// after the delay is accepted and delivered (with the X-Greylist header the server
// prepended), the same triplet then passes at once, a new recipient is deferred again.
// Runs against greygated and, as a reference for the harness and for drop-in
// compatibility, Debian's postgrey with the same options.

#include "DaemonProcess.h"
#include "PostfixInstance.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace greygate::test;

namespace {

constexpr int DelaySeconds = 2;
const QString Sender = QStringLiteral("alice@sender.example");
const QString Recipient = QStringLiteral("rcpt@example.test");
const QString OtherRecipient = QStringLiteral("other@example.test");

struct Swaks
{
    int exitCode = -1;
    QString transcript;
    bool accepted() const
    {
        return exitCode == 0 && transcript.contains(QStringLiteral("250 2.0.0 Ok: queued as"));
    }
    // Postfix answers DEFER_IF_PERMIT with 450 and the enhanced code of the action's text,
    // 4.7.1 when the text has none.
    bool greylisted(const QString &code) const
    {
        return exitCode != 0 && transcript.contains(QStringLiteral("<** 450 ") + code + u' ');
    }
};

Swaks swaks(quint16 port, const QString &to, const QString &token)
{
    const ProgramResult r = runProgram(
        QStringLiteral("swaks"),
        {QStringLiteral("--server"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
         QString::number(port), QStringLiteral("--helo"), QStringLiteral("client.sender.example"),
         QStringLiteral("--from"), Sender, QStringLiteral("--to"), to, QStringLiteral("--header"),
         QStringLiteral("Subject: ") + token, QStringLiteral("--body"),
         QStringLiteral("Body of ") + token, QStringLiteral("--timeout"), QStringLiteral("20")},
        60'000);
    return {r.finished ? r.exitCode : -1, QString::fromUtf8(r.out + r.err)};
}

} // namespace

class PostfixGreylistingTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstAttemptDeferredThenAcceptedAndDeliveredAfterDelay_data();
    void firstAttemptDeferredThenAcceptedAndDeliveredAfterDelay();
};

void PostfixGreylistingTest::firstAttemptDeferredThenAcceptedAndDeliveredAfterDelay_data()
{
    QTest::addColumn<QString>("program");
    QTest::addColumn<QStringList>("extraArgs");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("agent"); // who the X-Greylist header names
    QTest::newRow("greygated") << program(QStringLiteral("greygated")) << QStringList()
                               << QStringLiteral("4.7.1") << QStringLiteral("greygate");
    // postgrey drops to its own user by default and could not write our root-owned dbdir.
    QTest::newRow("postgrey (reference)")
        << QStringLiteral("/usr/sbin/postgrey")
        << QStringList{QStringLiteral("--user=root"), QStringLiteral("--group=root")}
        << QStringLiteral("4.2.0") // postgrey's own default text carries 4.2.0
        << QStringLiteral("postgrey");
}

void PostfixGreylistingTest::firstAttemptDeferredThenAcceptedAndDeliveredAfterDelay()
{
    QFETCH(QString, program);
    QFETCH(QStringList, extraArgs);
    QFETCH(QString, code);
    QFETCH(QString, agent);
    if (program.startsWith(QStringLiteral("/usr/sbin/")) && !QFileInfo::exists(program))
        QSKIP("Debian's postgrey is not installed (scripts/install-deps.sh --test installs it)");

    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString dbdir = work.filePath(QStringLiteral("db"));
    QVERIFY(QDir().mkpath(dbdir));
    DaemonProcess policy(work.filePath(QStringLiteral("policy.log")));
    QString error;
    const bool policyUp = policy.startOnFreePort(
        program,
        [&](quint16 port) {
            return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                               QStringLiteral("--dbdir=") + dbdir,
                               QStringLiteral("--delay=%1").arg(DelaySeconds)} +
                   extraArgs;
        },
        30'000, &error);
    QVERIFY2(policyUp, qPrintable(error));

    PostfixInstance postfix;
    postfix.addMailbox(Recipient);
    postfix.addMailbox(OtherRecipient);
    postfix.setParameter(QStringLiteral("smtpd_recipient_restrictions"),
                         QStringLiteral("check_policy_service inet:127.0.0.1:%1, "
                                        "permit_mynetworks, reject")
                             .arg(policy.port()));
    QVERIFY2(postfix.start(&error), qPrintable(error));
    const auto context = [&](const Swaks &s) {
        return (QStringLiteral("swaks exit %1:\n").arg(s.exitCode) + s.transcript +
                QStringLiteral("\n--- maillog:\n") + postfix.maillog() +
                QStringLiteral("\n--- policy server:\n") + policy.log())
            .toUtf8();
    };

    // First sight: Postfix maps DEFER_IF_PERMIT to 450 4.7.1 on the recipient.
    const Swaks first = swaks(postfix.smtpPort(), Recipient, QStringLiteral("greygate-first"));
    QVERIFY2(first.greylisted(code), context(first).constData());
    QVERIFY2(first.transcript.contains(QStringLiteral("<rcpt@example.test>: Recipient address "
                                                      "rejected")),
             context(first).constData());
    QVERIFY(!QFileInfo::exists(postfix.mailboxPath(Recipient)));

    // A retry at once is before the delay: still deferred.
    const Swaks early = swaks(postfix.smtpPort(), Recipient, QStringLiteral("greygate-early"));
    QVERIFY2(early.greylisted(code), context(early).constData());

    // Retry as an MTA would, until accepted (bounded well beyond the delay).
    Swaks retry;
    const QDeadlineTimer retryDeadline((DelaySeconds + 30) * 1000);
    do {
        QThread::msleep(300);
        retry = swaks(postfix.smtpPort(), Recipient, QStringLiteral("greygate-retry"));
    } while (retry.greylisted(code) && !retryDeadline.hasExpired());
    QVERIFY2(retry.accepted(), context(retry).constData());

    // The message reached the mailbox, carrying the header the policy server prepended.
    QTRY_VERIFY2_WITH_TIMEOUT(postfix.mailbox(Recipient).contains("Subject: greygate-retry"),
                              context(retry).constData(), 30'000);
    const QByteArray delivered = postfix.mailbox(Recipient);
    // ... and it says the message was held at least the delay.
    const QRegularExpressionMatch header =
        QRegularExpression(QStringLiteral("X-Greylist: delayed ([0-9]+) seconds by ") + agent)
            .match(QString::fromUtf8(delivered));
    QVERIFY2(header.hasMatch(), delivered.constData());
    QVERIFY2(header.captured(1).toInt() >= DelaySeconds, delivered.constData());
    QVERIFY(delivered.contains("Body of greygate-retry"));
    QVERIFY(!delivered.contains("greygate-first"));

    // The triplet passed: the next message of the same triplet is accepted at once.
    const Swaks second = swaks(postfix.smtpPort(), Recipient, QStringLiteral("greygate-second"));
    QVERIFY2(second.accepted(), context(second).constData());
    QTRY_VERIFY2_WITH_TIMEOUT(postfix.mailbox(Recipient).contains("Subject: greygate-second"),
                              context(second).constData(), 30'000);

    // Another recipient is another triplet: deferred.
    const Swaks other = swaks(postfix.smtpPort(), OtherRecipient, QStringLiteral("greygate-other"));
    QVERIFY2(other.greylisted(code), context(other).constData());
    QVERIFY(!QFileInfo::exists(postfix.mailboxPath(OtherRecipient)));

    postfix.stop();
    QVERIFY2(!postfix.isRunning(), qPrintable(postfix.maillog()));
    QVERIFY2(policy.terminate(), qPrintable(policy.log()));
}

QTEST_GUILESS_MAIN(PostfixGreylistingTest)
#include "tst_postfix_greylisting.moc"
