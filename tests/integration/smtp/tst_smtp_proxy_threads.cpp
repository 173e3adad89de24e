// SPDX-License-Identifier: GPL-3.0-or-later
// greygated's SMTP proxy with its sessions on I/O threads (--smtp-threads, docs/smtp.md):
// Postfix's smtp-source through it to smtp-sink, one connection per message and several per
// connection, every message arrives exactly once; and a SIGTERM while smtp-source is still
// sending stops greygated cleanly (the sessions drained on their threads, the threads
// joined, nothing accepted twice).

#include "SmtpProxyProcess.h"
#include "SmtpSinkProcess.h"
#include "SmtpTestKit.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {
constexpr int Threads = 3;
constexpr int Sessions = 20;
constexpr int Messages = 600;

QStringList sourceArgs(quint16 port, int sessions, int messages, const QStringList &more = {})
{
    // -N: each message's recipient carries its own sequence number, so that a message
    // delivered twice (or lost) shows at the sink. The partner sender bypasses greylisting.
    return more + QStringList{QStringLiteral("-N"),
                              QStringLiteral("-s"),
                              QString::number(sessions),
                              QStringLiteral("-m"),
                              QString::number(messages),
                              QStringLiteral("-M"),
                              QStringLiteral("client.test"),
                              QStringLiteral("-f"),
                              PartnerSender,
                              QStringLiteral("-t"),
                              Recipient,
                              QStringLiteral("127.0.0.1:%1").arg(port)};
}

// greygated's threads named smtp-io-N (QThread names them after their objectName).
int ioThreads(qint64 pid)
{
    const QDir tasks(QStringLiteral("/proc/%1/task").arg(pid));
    int count = 0;
    for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(task + u"/comm"));
        if (comm.open(QIODevice::ReadOnly) && comm.readAll().startsWith("smtp-io-"))
            ++count;
    }
    return count;
}

// The recipients of the sink's captured messages, one per message (-N, one recipient each).
QStringList recipientsOf(const QList<QByteArray> &messages)
{
    static const QRegularExpression rcpt(QStringLiteral("X-Rcpt-Args: <([^>]*)>"));
    QStringList out;
    for (const QByteArray &message : messages) {
        const QRegularExpressionMatch m = rcpt.match(QString::fromLatin1(message));
        out.append(m.hasMatch() ? m.captured(1) : QString());
    }
    return out;
}
} // namespace

class SmtpProxyThreadsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void everyMessageArrivesOnceThroughIoThreads_data();
    void everyMessageArrivesOnceThroughIoThreads();
    void shutdownUnderLoadIsClean();

private:
    QString context() const
    {
        return u"\n--- greygated:\n" + m_proxy->log().right(6'000) + u"\n--- smtp-sink:\n" +
               m_sink->log().right(3'000);
    }

    std::unique_ptr<QTemporaryDir> m_work;
    std::unique_ptr<SmtpSinkProcess> m_sink;
    std::unique_ptr<SmtpProxyProcess> m_proxy;
};

void SmtpProxyThreadsTest::init()
{
    m_work = std::make_unique<QTemporaryDir>();
    QVERIFY(m_work->isValid());
    const QString policies = m_work->filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(policies, PolicyDocument));
    m_sink = std::make_unique<SmtpSinkProcess>();
    QString error;
    QVERIFY2(m_sink->start(&error), qPrintable(error));
    m_proxy = std::make_unique<SmtpProxyProcess>(m_work->path());
    QVERIFY2(m_proxy->start(m_sink->port(),
                            {QStringLiteral("--policies=") + policies,
                             QStringLiteral("--smtp-threads=%1").arg(Threads),
                             QStringLiteral("--smtp-max-per-client=100")},
                            &error),
             qPrintable(error));
}

void SmtpProxyThreadsTest::everyMessageArrivesOnceThroughIoThreads_data()
{
    QTest::addColumn<QStringList>("mode");
    QTest::newRow("one connection per message") << QStringList();
    QTest::newRow("several messages per connection") << QStringList{QStringLiteral("-d")};
}

void SmtpProxyThreadsTest::everyMessageArrivesOnceThroughIoThreads()
{
    QFETCH(QStringList, mode);
    const ProgramResult run =
        runProgram(QStringLiteral("/usr/sbin/smtp-source"),
                   sourceArgs(m_proxy->port(), Sessions, Messages, mode), 120'000);
    QVERIFY2(run.finished && run.exitCode == 0,
             qPrintable(QString::fromUtf8(run.out + run.err) + context()));
    QVERIFY2(m_sink->waitForMessages(Messages, 20'000), qPrintable(context()));
    QCOMPARE(m_sink->messageCount(), Messages);

    const QStringList recipients = recipientsOf(m_sink->messages());
    QCOMPARE(recipients.size(), Messages);
    const QSet<QString> distinct(recipients.cbegin(), recipients.cend());
    QCOMPARE(distinct.size(), Messages); // none twice, so none lost either
    QVERIFY2(!distinct.contains(QString()), qPrintable(recipients.join(u' ')));
    QCOMPARE(ioThreads(m_proxy->pid()), Threads);
    QVERIFY(m_proxy->isRunning());
}

void SmtpProxyThreadsTest::shutdownUnderLoadIsClean()
{
    QProcess source;
    source.setProcessChannelMode(QProcess::MergedChannels);
    // More than it can send before the SIGTERM: the stop comes in the middle of the load.
    source.start(QStringLiteral("/usr/sbin/smtp-source"),
                 sourceArgs(m_proxy->port(), Sessions, 1'000'000));
    QVERIFY2(source.waitForStarted(5000), qPrintable(source.errorString()));
    const bool loaded = m_sink->waitForMessages(300, 60'000);
    QVERIFY2(loaded, qPrintable(context()));

    QVERIFY2(m_proxy->terminate(20'000), qPrintable(context()));
    QVERIFY(!m_proxy->isRunning());
    if (source.state() != QProcess::NotRunning) { // it may go on retrying: stopped by PID
        source.kill();
        source.waitForFinished(5000);
    }
    const QString log = m_proxy->log();
    QVERIFY2(log.contains(QStringLiteral("greygated stopped")), qPrintable(context()));
    // Qt complains this way about objects used or destroyed from the wrong thread.
    for (const QString &wrongThread :
         {QStringLiteral("from another thread"), QStringLiteral("different thread"),
          QStringLiteral("Cannot create children"), QStringLiteral("QThread: Destroyed")})
        QVERIFY2(!log.contains(wrongThread), qPrintable(context()));

    // Whatever the sink counted arrived once: nothing was relayed twice on the way down.
    const int delivered = m_sink->messageCount();
    QVERIFY(delivered >= 300);
    const QStringList recipients = recipientsOf(m_sink->messages());
    QCOMPARE(recipients.size(), delivered);
    QCOMPARE(QSet<QString>(recipients.cbegin(), recipients.cend()).size(), delivered);
}

QTEST_GUILESS_MAIN(SmtpProxyThreadsTest)
#include "tst_smtp_proxy_threads.moc"
