// SPDX-License-Identifier: GPL-3.0-or-later
// The wall clock jumping under greygated (SQLite store): a day forward, then an hour back,
// with Debian's libfaketime preloaded into greygated and its offset read from a file this
// test rewrites while the daemon runs (the monotonic clock is left alone, as after an NTP
// step or an admin's `date -s`). 200 passed and 200 deferred triplets, then:
// - a day forward: the passed ones are still accepted (lifetime 36 days); the deferred ones,
//   whose 12 h window closed meanwhile, are deferred afresh (never passed) and each gets its
//   one "Sender Failed to Retry" entry;
// - an hour back: no mass expiry (passed ones still accepted), the deferred ones still
//   deferred, and a new triplet is greylisted and passes after the delay as usual.
// Skipped, saying so, where libfaketime is not installed (scripts/install-deps.sh --test).

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RobustnessKit.h"
#include "TestSupport.h"

#include <QDateTime>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int DelaySeconds = 2;
constexpr int Triplets = 200;
const QString FakeTimeLibrary =
    QStringLiteral("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1");

QByteArray clockSender(const char *kind, int i)
{
    return kind + letters(quint64(i)) + "@clock.example";
}

} // namespace

class FaultClockJumpTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void decisionsStayConsistentWhenTheClockJumps();

private:
    bool setOffset(const QByteArray &offset);
    // Asks every triplet of a kind once; the answers in order (empty for none).
    QList<QByteArray> askAll(const char *kind);

    QTemporaryDir m_work;
    QString m_offsetFile;
    PolicyClient m_policy;
};

bool FaultClockJumpTest::setOffset(const QByteArray &offset)
{
    if (!writeFile(m_offsetFile, offset + '\n'))
        return false;
    QThread::msleep(1'500); // one expiry tick at the new time
    return true;
}

QList<QByteArray> FaultClockJumpTest::askAll(const char *kind)
{
    QList<QByteArray> answers;
    for (int i = 0; i < Triplets; ++i)
        answers.append(m_policy.askRcpt("192.0.2.77", clockSender(kind, i), "rcpt@dest.example")
                           .value_or(QByteArray()));
    return answers;
}

void FaultClockJumpTest::decisionsStayConsistentWhenTheClockJumps()
{
    if (!QFile::exists(FakeTimeLibrary))
        QSKIP("libfaketime is not installed (apt-get install faketime, or "
              "scripts/install-deps.sh --test)");
    QVERIFY(m_work.isValid());
    m_offsetFile = m_work.filePath(QStringLiteral("faketime"));
    QVERIFY(writeFile(m_offsetFile, "+0\n"));
    const QString dbdir = m_work.filePath(QStringLiteral("db"));

    // Only greygated gets the library: set for its start, removed at once after it.
    qputenv("LD_PRELOAD", FakeTimeLibrary.toLocal8Bit());
    qputenv("FAKETIME_TIMESTAMP_FILE", m_offsetFile.toLocal8Bit());
    qputenv("FAKETIME_NO_CACHE", "1"); // the file is read at every call: the jump is at once
    qputenv("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    DaemonProcess daemon(m_work.filePath(QStringLiteral("greygated.log")));
    QString error;
    const bool started = daemon.startOnFreePort(
        greygated(),
        [&](quint16 port) {
            return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                               QStringLiteral("--dbdir=") + dbdir,
                               QStringLiteral("--delay=%1").arg(DelaySeconds),
                               QStringLiteral("--auto-whitelist-clients=0"),
                               QStringLiteral("--control-listen=127.0.0.1:0"),
                               QStringLiteral("--user=root")};
        },
        30'000, &error);
    for (const char *name : {"LD_PRELOAD", "FAKETIME_TIMESTAMP_FILE", "FAKETIME_NO_CACHE",
                             "FAKETIME_DONT_FAKE_MONOTONIC"})
        qunsetenv(name);
    QVERIFY2(started, qPrintable(error));
    const quint16 controlPort =
        portFromLogFile(daemon.logPath(), QStringLiteral("control API listening"));
    QVERIFY(controlPort != 0);
    QVERIFY(m_policy.connectTo(daemon.port()));

    // Now: P passes (asked twice, the delay apart), D is deferred once.
    for (const QByteArray &a : askAll("p"))
        QVERIFY2(a.startsWith("DEFER_IF_PERMIT"), a.constData());
    for (const QByteArray &a : askAll("d"))
        QVERIFY2(a.startsWith("DEFER_IF_PERMIT"), a.constData());
    QThread::msleep((DelaySeconds + 1) * 1000);
    for (const QByteArray &a : askAll("p"))
        QVERIFY2(a.startsWith("PREPEND X-Greylist:"), a.constData());

    // A day forward.
    QVERIFY(setOffset("+1d"));
    for (const QByteArray &a : askAll("p"))
        QVERIFY2(a == "DUNNO", a.constData());
    for (const QByteArray &a : askAll("d"))
        QVERIFY2(a.startsWith("DEFER_IF_PERMIT"), a.constData()); // window closed: afresh
    // Each closed window logged once as a sender that failed to retry (at the daemon's time,
    // a day ahead of greygatectl's).
    const QString farFuture = QString::number(QDateTime::currentSecsSinceEpoch() + 10 * 86400);
    CtlResult rejections;
    QTRY_VERIFY2_WITH_TIMEOUT(
        (rejections = ctl(controlPort, dbdir,
                          {QStringLiteral("rejections"), QStringLiteral("--sender"),
                           QStringLiteral("@clock.example"), QStringLiteral("--limit"),
                           QStringLiteral("1000"), QStringLiteral("--from"), QStringLiteral("0"),
                           QStringLiteral("--to"), farFuture}))
                .out.count(QStringLiteral("@clock.example")) >= Triplets,
        qPrintable(rejections.out + rejections.err), 20'000);
    // Whole words: "da@..." is also the tail of "dda@...".
    const QStringList words =
        rejections.out.split(QRegularExpression(QStringLiteral("[\\s,;|]+")), Qt::SkipEmptyParts);
    for (int i = 0; i < Triplets; ++i) {
        QVERIFY2(words.count(QString::fromLatin1(clockSender("d", i))) == 1,
                 qPrintable(rejections.out));
        QVERIFY(!words.contains(QString::fromLatin1(clockSender("p", i))));
    }

    // An hour back.
    QVERIFY(setOffset("+23h"));
    for (const QByteArray &a : askAll("p"))
        QVERIFY2(a == "DUNNO", a.constData()); // no mass expiry
    QThread::msleep((DelaySeconds + 1) * 1000);
    for (const QByteArray &a : askAll("d"))
        QVERIFY2(a.startsWith("DEFER_IF_PERMIT"), a.constData()); // first seen "in the future"
    // Life goes on at the new time: a new triplet is greylisted, then passes.
    const auto first = m_policy.askRcpt("192.0.2.78", "new@clock.example", "rcpt@dest.example");
    QVERIFY(first && first->startsWith("DEFER_IF_PERMIT"));
    QThread::msleep((DelaySeconds + 1) * 1000);
    const auto retry = m_policy.askRcpt("192.0.2.78", "new@clock.example", "rcpt@dest.example");
    QVERIFY2(retry && retry->startsWith("PREPEND X-Greylist:"),
             retry.value_or(QByteArray()).constData());

    m_policy.close();
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(FaultClockJumpTest)
#include "tst_fault_clock_jump.moc"
