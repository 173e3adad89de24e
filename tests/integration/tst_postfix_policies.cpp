// SPDX-License-Identifier: GPL-3.0-or-later
// Policies through a real Postfix (check_policy_service) with swaks as the sending MTA: a
// Blocked sender gets a permanent 5xx 5.7.1 with the configured text (Postfix maps
// "REJECT 5.7.1 text" to its access_map_reject_code, 554 by default, and 550 when set so),
// a sender a bypass policy names is accepted and delivered at once, and anyone else is still
// greylisted with 450 4.7.1.

#include "DaemonProcess.h"
#include "PostfixInstance.h"
#include "TestSupport.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;

namespace {

const QString Recipient = QStringLiteral("rcpt@example.test");

const QByteArray kDocument = QByteArrayLiteral(R"({
  "policies": [{"id": 1, "narrative": "Partners skip greylisting", "action": "bypass",
                "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}],
  "groups": [{"name": "Blocked Senders", "members": ["spam@bad.test"]}]
})");

struct Swaks
{
    int exitCode = -1;
    QString transcript;
};

Swaks swaks(quint16 port, const QString &from, const QString &token)
{
    const ProgramResult r = runProgram(
        QStringLiteral("swaks"),
        {QStringLiteral("--server"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
         QString::number(port), QStringLiteral("--helo"), QStringLiteral("client.sender.example"),
         QStringLiteral("--from"), from, QStringLiteral("--to"), Recipient,
         QStringLiteral("--header"), QStringLiteral("Subject: ") + token,
         QStringLiteral("--timeout"), QStringLiteral("20")},
        60'000);
    return {r.finished ? r.exitCode : -1, QString::fromUtf8(r.out + r.err)};
}

} // namespace

class PostfixPoliciesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void blockedSenderRejectedBypassDeliveredOthersGreylisted_data();
    void blockedSenderRejectedBypassDeliveredOthersGreylisted();
};

void PostfixPoliciesTest::blockedSenderRejectedBypassDeliveredOthersGreylisted_data()
{
    QTest::addColumn<QString>("rejectCodeParameter"); // access_map_reject_code, "" = default
    QTest::addColumn<QString>("expectedCode");
    QTest::newRow("Postfix default") << QString() << QStringLiteral("554");
    QTest::newRow("access_map_reject_code = 550") << QStringLiteral("550") << QStringLiteral("550");
}

void PostfixPoliciesTest::blockedSenderRejectedBypassDeliveredOthersGreylisted()
{
    QFETCH(QString, rejectCodeParameter);
    QFETCH(QString, expectedCode);

    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString policies = work.filePath(QStringLiteral("policies.json"));
    {
        QFile f(policies);
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write(kDocument) == kDocument.size());
    }
    DaemonProcess policy(work.filePath(QStringLiteral("policy.log")));
    QString error;
    QVERIFY2(policy.startOnFreePort(
                 program(QStringLiteral("greygated")),
                 [&](quint16 port) {
                     return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                        QStringLiteral("--dbdir=") +
                                            work.filePath(QStringLiteral("db")),
                                        QStringLiteral("--policies=") + policies,
                                        QStringLiteral("--reject-text=Blocked by greygate")};
                 },
                 30'000, &error),
             qPrintable(error));

    PostfixInstance postfix;
    postfix.addMailbox(Recipient);
    postfix.setParameter(QStringLiteral("smtpd_recipient_restrictions"),
                         QStringLiteral("check_policy_service inet:127.0.0.1:%1, "
                                        "permit_mynetworks, reject")
                             .arg(policy.port()));
    if (!rejectCodeParameter.isEmpty())
        postfix.setParameter(QStringLiteral("access_map_reject_code"), rejectCodeParameter);
    QVERIFY2(postfix.start(&error), qPrintable(error));
    const auto context = [&](const Swaks &s) {
        return (QStringLiteral("swaks exit %1:\n").arg(s.exitCode) + s.transcript +
                QStringLiteral("\n--- maillog:\n") + postfix.maillog() +
                QStringLiteral("\n--- policy server:\n") + policy.log())
            .toUtf8();
    };

    // What the sending MTA sees: a permanent failure on the recipient, with 5.7.1 and the
    // configured text.
    const Swaks blocked = swaks(postfix.smtpPort(), QStringLiteral("spam@bad.test"),
                                QStringLiteral("greygate-blocked"));
    const QString expected = QStringLiteral("<** ") + expectedCode +
                             QStringLiteral(" 5.7.1 <rcpt@example.test>: Recipient address "
                                            "rejected: Blocked by greygate");
    QVERIFY2(blocked.exitCode != 0 && blocked.transcript.contains(expected),
             context(blocked).constData());

    // A bypass policy: accepted on the first attempt, delivered, no X-Greylist header.
    const Swaks partner = swaks(postfix.smtpPort(), QStringLiteral("news@partner.test"),
                                QStringLiteral("greygate-partner"));
    QVERIFY2(partner.exitCode == 0 &&
                 partner.transcript.contains(QStringLiteral("250 2.0.0 Ok: queued as")),
             context(partner).constData());
    QTRY_VERIFY2_WITH_TIMEOUT(postfix.mailbox(Recipient).contains("Subject: greygate-partner"),
                              context(partner).constData(), 30'000);
    QVERIFY(!postfix.mailbox(Recipient).contains("X-Greylist"));

    // Everyone else is greylisted as before.
    const Swaks other = swaks(postfix.smtpPort(), QStringLiteral("someone@else.test"),
                              QStringLiteral("greygate-other"));
    QVERIFY2(other.exitCode != 0 && other.transcript.contains(QStringLiteral("<** 450 4.7.1 ")),
             context(other).constData());
    QVERIFY(!postfix.mailbox(Recipient).contains("greygate-blocked"));

    // Info lines reach the log file within 100 ms (the logger buffers them).
    QTRY_VERIFY2_WITH_TIMEOUT(
        policy.log().contains(QStringLiteral("msg=\"policy reject\" reason=blocked_sender")),
        qPrintable(policy.log()), 10'000);
    QTRY_VERIFY2_WITH_TIMEOUT(
        policy.log().contains(QStringLiteral("msg=\"policy bypass\" reason=policy policy=1")),
        qPrintable(policy.log()), 10'000);
    postfix.stop();
    QVERIFY2(policy.terminate(), qPrintable(policy.log()));
}

QTEST_GUILESS_MAIN(PostfixPoliciesTest)
#include "tst_postfix_policies.moc"
