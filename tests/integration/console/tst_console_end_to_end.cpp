// SPDX-License-Identifier: GPL-3.0-or-later
// The console end to end: a real greygated (policy server and control API) behind a private
// Postfix, swaks as the sending MTA, and the console's own ProxyRegistry, LiveAttemptsModel
// and QueueModel. The first message is deferred (450 4.7.1): the attempt shows in the live
// model and the deferral in the queue model, with its countdown. The admin releases it
// through the model; the sender's retry is then accepted and delivered at once (the delay
// is an hour), and the live model shows the passed attempt.

#include "DaemonProcess.h"
#include "PostfixInstance.h"
#include "TestSupport.h"
#include "client/ProxyRegistry.h"
#include "models/LiveAttemptsModel.h"
#include "models/QueueModel.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace greygate::test;

namespace {

const QString Sender = QStringLiteral("alice@sender.example");
const QString Recipient = QStringLiteral("rcpt@example.test");

struct Swaks
{
    int exitCode = -1;
    QString transcript;
    bool accepted() const
    {
        return exitCode == 0 && transcript.contains(QStringLiteral("250 2.0.0 Ok: queued as"));
    }
    bool greylisted() const
    {
        return exitCode != 0 && transcript.contains(QStringLiteral("<** 450 4.7.1 "));
    }
};

Swaks swaks(quint16 port, const QString &subject)
{
    const ProgramResult r = runProgram(
        QStringLiteral("swaks"),
        {QStringLiteral("--server"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
         QString::number(port), QStringLiteral("--helo"), QStringLiteral("client.sender.example"),
         QStringLiteral("--from"), Sender, QStringLiteral("--to"), Recipient,
         QStringLiteral("--header"), QStringLiteral("Subject: ") + subject,
         QStringLiteral("--timeout"), QStringLiteral("20")},
        60'000);
    return {r.finished ? r.exitCode : -1, QString::fromUtf8(r.out + r.err)};
}

// The live model's rows for our sender, as outcome names.
// The test runs as root with root-owned temp dirs: a greygated that drops privileges is
// told to keep root, when the build has that option.
QStringList keepRootOption()
{
    const ProgramResult help =
        runProgram(program(QStringLiteral("greygated")), {QStringLiteral("--help")}, 10'000);
    return QByteArray(help.out + help.err).contains("--user")
               ? QStringList{QStringLiteral("--user=root")}
               : QStringList();
}

QStringList outcomesOf(const LiveAttemptsModel &live)
{
    QStringList outcomes;
    for (int r = 0; r < live.rowCount(); ++r) {
        if (live.row(r).sender == Sender && live.row(r).recipient == Recipient)
            outcomes.append(live.index(r, 0).data(LiveAttemptsModel::OutcomeRole).toString());
    }
    return outcomes;
}

} // namespace

class ConsoleEndToEndTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void deferralSeenLiveAndInTheQueueThenReleasedAndDelivered();
};

void ConsoleEndToEndTest::deferralSeenLiveAndInTheQueueThenReleasedAndDelivered()
{
    if (!QFileInfo::exists(QStringLiteral("/usr/sbin/postfix")))
        QSKIP("Postfix is not installed (scripts/install-deps.sh --test installs it)");
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString dbdir = work.filePath(QStringLiteral("db"));
    QVERIFY(QDir().mkpath(dbdir));
    DaemonProcess daemon(work.filePath(QStringLiteral("greygated.log")));
    QString error;
    const QStringList keepRoot = keepRootOption();
    QVERIFY2(daemon.startOnFreePort(
                 program(QStringLiteral("greygated")),
                 [&](quint16 port) {
                     return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                        QStringLiteral("--dbdir=") + dbdir,
                                        QStringLiteral("--delay=3600"),
                                        QStringLiteral("--control-listen=127.0.0.1:0")} +
                            keepRoot;
                 },
                 30'000, &error),
             qPrintable(error));
    quint16 controlPort = 0;
    const QRegularExpression listening(
        QStringLiteral("msg=\"control API listening\"[^\\n]* port=(\\d+)"));
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     const QRegularExpressionMatch m = listening.match(daemon.log());
                     controlPort = m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
                     return controlPort != 0;
                 },
                 10'000),
             qPrintable(daemon.log()));
    QFile tokenFile(dbdir + QStringLiteral("/control.token"));
    QVERIFY(tokenFile.open(QIODevice::ReadOnly));

    // The console: a registry with this proxy, and the models the pages show.
    ProxyRegistry registry;
    LiveAttemptsModel live(registry);
    QueueModel queue(registry);
    QAbstractItemModelTester liveTester(&live,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester queueTester(&queue,
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    ProxyEndpoint endpoint;
    endpoint.name = QStringLiteral("mx1");
    endpoint.url = QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(controlPort));
    endpoint.token = tokenFile.readAll().trimmed();
    QSignalSpy ready(&registry, &ProxyRegistry::ready);
    const QString proxyId = registry.add(endpoint);
    QSignalSpy subscribed(registry.connection(proxyId), &ProxyConnection::subscribed);
    QVERIFY2(ready.wait(10'000), qPrintable(daemon.log()));
    // The live model subscribed when the proxy was added: the stream is followed from now.
    QVERIFY(!subscribed.isEmpty() || subscribed.wait(10'000));
    QSignalSpy firstPage(&queue, &QueueModel::pageLoaded);
    queue.setProxyId(proxyId);
    QVERIFY(firstPage.wait(10'000));
    QCOMPARE(queue.rowCount(), 0);

    PostfixInstance postfix;
    postfix.addMailbox(Recipient);
    postfix.setParameter(QStringLiteral("smtpd_recipient_restrictions"),
                         QStringLiteral("check_policy_service inet:127.0.0.1:%1, "
                                        "permit_mynetworks, reject")
                             .arg(daemon.port()));
    QVERIFY2(postfix.start(&error), qPrintable(error));
    const auto context = [&](const Swaks &s) {
        return (QStringLiteral("swaks exit %1:\n").arg(s.exitCode) + s.transcript +
                QStringLiteral("\n--- maillog:\n") + postfix.maillog() +
                QStringLiteral("\n--- greygated:\n") + daemon.log())
            .toUtf8();
    };

    // First sight: deferred by Postfix with 450 4.7.1.
    const Swaks first = swaks(postfix.smtpPort(), QStringLiteral("console-first"));
    QVERIFY2(first.greylisted(), context(first).constData());

    // The live model shows the attempt, deferred, from Postfix's client address.
    QTRY_COMPARE_WITH_TIMEOUT(outcomesOf(live), QStringList{QStringLiteral("deferred")}, 10'000);
    int liveRow = -1;
    for (int r = 0; r < live.rowCount(); ++r) {
        if (live.row(r).sender == Sender)
            liveRow = r;
    }
    QCOMPARE(live.index(liveRow, LiveAttemptsModel::Client).data().toString(),
             QStringLiteral("127.0.0.1"));
    QCOMPARE(live.index(liveRow, LiveAttemptsModel::Attempts).data().toInt(), 1);
    QCOMPARE(live.index(liveRow, LiveAttemptsModel::Proxy).data().toString(),
             QStringLiteral("mx1"));

    // The queue model shows the deferral live (no reload), with its countdown.
    QTRY_COMPARE_WITH_TIMEOUT(queue.rowCount(), 1, 10'000);
    QCOMPARE(queue.entry(0).sender, Sender);
    QCOMPARE(queue.entry(0).recipient, Recipient);
    QCOMPARE(queue.entry(0).state, QStringLiteral("deferred"));
    const qint64 passIn = queue.index(0, QueueModel::PassIn).data(Qt::UserRole).toLongLong();
    QVERIFY2(passIn > 3500 && passIn <= 3600, QByteArray::number(passIn).constData());
    QVERIFY(queue.index(0, QueueModel::PassIn).data().toString().contains(QStringLiteral("min")));
    // A reload from the proxy agrees.
    QSignalSpy reloaded(&queue, &QueueModel::pageLoaded);
    queue.reload();
    QVERIFY(reloaded.wait(10'000));
    QCOMPARE(queue.rowCount(), 1);
    QCOMPARE(queue.total(), 1);

    // A retry now is still early: deferred again.
    const Swaks early = swaks(postfix.smtpPort(), QStringLiteral("console-early"));
    QVERIFY2(early.greylisted(), context(early).constData());
    QTRY_COMPARE_WITH_TIMEOUT(queue.entry(0).attempts, 2, 10'000);

    // The admin releases it through the model.
    QSignalSpy done(&queue, &QueueModel::actionDone);
    QSignalSpy failed(&queue, &QueueModel::actionFailed);
    queue.release(0);
    QVERIFY2(done.wait(10'000),
             failed.isEmpty() ? "no answer" : qPrintable(failed.first().at(2).toString()));
    QCOMPARE(queue.entry(0).state, QStringLiteral("passed"));

    // The sender's retry passes at once and is delivered.
    const Swaks retry = swaks(postfix.smtpPort(), QStringLiteral("console-retry"));
    QVERIFY2(retry.accepted(), context(retry).constData());
    QTRY_VERIFY2_WITH_TIMEOUT(postfix.mailbox(Recipient).contains("Subject: console-retry"),
                              context(retry).constData(), 30'000);
    QVERIFY(!postfix.mailbox(Recipient).contains("console-first"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomesOf(live).size(), 3, 10'000);
    const QString last = outcomesOf(live).constLast();
    QVERIFY2(last == u"passed" || last == u"passedKnown", qPrintable(last));

    postfix.stop();
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
}

QTEST_GUILESS_MAIN(ConsoleEndToEndTest)
#include "tst_console_end_to_end.moc"
