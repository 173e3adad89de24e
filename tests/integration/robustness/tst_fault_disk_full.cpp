// SPDX-License-Identifier: GPL-3.0-or-later
// The disk full under greygated (policy server, SQLite store): its dbdir on a small tmpfs
// that this test mounts (it runs as root, as CI does; where mount(8) is refused, the test is
// skipped saying so). A filler file takes the last byte while clients ask for new triplets.
// greygated follows docs/greygated.md: a decision whose commit failed is never answered (the
// connection is closed, Postfix applies its default action), nothing wrong is answered, and
// "store commit failed" is logged; once space returns it answers again without a restart,
// and after a kill -9 every triplet it ever answered is in the store, which passes SQLite's
// integrity check.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RobustnessKit.h"
#include "TestSupport.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace greygate;
using namespace greygate::test;
using namespace greygate::test::robustness;

namespace {

constexpr int DelaySeconds = 2;
constexpr int TmpfsMiB = 16;

// A tmpfs mounted for the test's lifetime, unmounted (lazily, so a daemon still holding a
// file cannot keep it) when it goes.
class TmpfsMount
{
public:
    explicit TmpfsMount(const QString &path)
        : m_path(path)
    {
        QDir().mkpath(path);
        const ProgramResult r = runProgram(
            QStringLiteral("mount"),
            {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
             QStringLiteral("size=%1m,mode=0700").arg(TmpfsMiB), QStringLiteral("tmpfs"), path},
            10'000);
        m_mounted = r.finished && r.exitCode == 0;
        m_error = QString::fromUtf8(r.err).trimmed();
    }
    ~TmpfsMount()
    {
        if (m_mounted)
            runProgram(QStringLiteral("umount"), {QStringLiteral("-l"), m_path}, 10'000);
    }
    bool mounted() const { return m_mounted; }
    QString error() const { return m_error; }

private:
    QString m_path;
    bool m_mounted = false;
    QString m_error;
};

// Writes to path until the file system refuses (bounded by the tmpfs's size).
qint64 fillUp(const QString &path)
{
    QFile filler(path);
    if (!filler.open(QIODevice::WriteOnly))
        return -1;
    const QByteArray chunk(64 * 1024, 'x');
    qint64 total = 0;
    for (int i = 0; i < TmpfsMiB * 16 + 16; ++i) {
        const qint64 n = filler.write(chunk);
        if (n <= 0 || !filler.flush())
            break;
        total += n;
    }
    // The last bytes: smaller writes until not one more fits.
    for (int i = 0; i < 64 * 1024 && filler.write("x", 1) == 1 && filler.flush(); ++i)
        ++total;
    return total;
}

struct Asked
{
    QByteArray sender;
    std::optional<QByteArray> action;
};

} // namespace

class FaultDiskFullTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void diskFullAnswersNothingUndurableAndRecovers();
};

void FaultDiskFullTest::diskFullAnswersNothingUndurableAndRecovers()
{
    QTemporaryDir work;
    QVERIFY(work.isValid());
    const QString mountPoint = work.filePath(QStringLiteral("small"));
    const TmpfsMount tmpfs(mountPoint);
    if (!tmpfs.mounted())
        QSKIP(qPrintable(QStringLiteral("cannot mount a tmpfs here (needs root or "
                                        "CAP_SYS_ADMIN): ") +
                         tmpfs.error()));
    const QString dbdir = mountPoint + QStringLiteral("/db");
    const auto start = [&](DaemonProcess &daemon, QString *error) {
        return daemon.startOnFreePort(
            greygated(),
            [&](quint16 port) {
                return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                   QStringLiteral("--dbdir=") + dbdir,
                                   QStringLiteral("--delay=%1").arg(DelaySeconds),
                                   QStringLiteral("--auto-whitelist-clients=0"),
                                   QStringLiteral("--user=root")};
            },
            30'000, error);
    };
    auto daemon = std::make_unique<DaemonProcess>(work.filePath(QStringLiteral("greygated.log")));
    QString error;
    QVERIFY2(start(*daemon, &error), qPrintable(error));

    QList<Asked> asked;
    int next = 0;
    // One request on a connection of its own (a closed connection is the failure's answer).
    const auto ask = [&](int timeoutMs) {
        const QByteArray sender = "d" + letters(quint64(next++)) + "@disk.example";
        PolicyClient policy;
        std::optional<QByteArray> action;
        if (policy.connectTo(daemon->port()))
            action = policy.askRcpt("192.0.2.44", sender, "rcpt@dest.example", {}, timeoutMs);
        asked.append({sender, action});
        return action;
    };

    for (int i = 0; i < 20; ++i) {
        const auto a = ask(10'000);
        QVERIFY2(a && a->startsWith("DEFER_IF_PERMIT"), qPrintable(daemon->log()));
    }

    // The disk fills up: a new triplet cannot be committed, so it is not answered.
    const qint64 filled = fillUp(mountPoint + QStringLiteral("/filler"));
    QVERIFY(filled >= 0);
    // The journal reserves its space 64 KiB at a time, so the commits that fit what it
    // had reserved still go in (a few hundred of these): ask until some are refused.
    int unansweredWhileFull = 0;
    int askedWhileFull = 0;
    const QDeadlineTimer fullFor(60'000);
    while (unansweredWhileFull < 5 && askedWhileFull < 3'000 && !fullFor.hasExpired()) {
        const auto a = ask(10'000);
        ++askedWhileFull;
        if (!a)
            ++unansweredWhileFull;
        else
            QVERIFY2(a->startsWith("DEFER_IF_PERMIT"), a->constData());
    }
    QVERIFY2(unansweredWhileFull > 0,
             qPrintable(QStringLiteral("every request was answered with the disk full (%1 "
                                       "bytes filled)")
                            .arg(filled)));
    QTRY_VERIFY2_WITH_TIMEOUT(
        countInLogFile(daemon->logPath(), QStringLiteral("msg=\"store commit failed\"")) > 0,
        qPrintable(daemon->log()), 5'000);
    QVERIFY(daemon->isRunning());

    // Space returns: answers come back without a restart.
    QVERIFY(QFile::remove(mountPoint + QStringLiteral("/filler")));
    const QDeadlineTimer recovery(30'000);
    bool recovered = false;
    while (!recovered && !recovery.hasExpired()) {
        const auto a = ask(10'000);
        recovered = a && a->startsWith("DEFER_IF_PERMIT");
        if (!recovered)
            QThread::msleep(200);
    }
    QVERIFY2(recovered, qPrintable(daemon->log()));
    for (int i = 0; i < 20; ++i) {
        const auto a = ask(10'000);
        QVERIFY2(a && a->startsWith("DEFER_IF_PERMIT"), qPrintable(daemon->log()));
    }
    qInfo("disk full after %lld bytes of filler: %d of %d requests unanswered (connection "
          "closed), every answer a deferral; answering again once space returned",
          qlonglong(filled), unansweredWhileFull, askedWhileFull);

    // kill -9: every triplet answered, before, during or after, is durable.
    daemon->kill();
    const ProgramResult check = runProgram(
        QStringLiteral("sqlite3"),
        {dbdir + QStringLiteral("/greygate.db"), QStringLiteral("PRAGMA integrity_check;")},
        30'000);
    QVERIFY2(check.finished && check.out.trimmed() == "ok",
             QByteArray(check.out + check.err).constData());
    daemon = std::make_unique<DaemonProcess>(work.filePath(QStringLiteral("greygated-2.log")));
    QVERIFY2(start(*daemon, &error), qPrintable(error));
    QThread::msleep((DelaySeconds + 1) * 1000);
    PolicyClient policy;
    QVERIFY(policy.connectTo(daemon->port()));
    int answered = 0;
    for (const Asked &a : std::as_const(asked)) {
        if (!a.action)
            continue;
        ++answered;
        const auto again = policy.askRcpt("192.0.2.44", a.sender, "rcpt@dest.example");
        QVERIFY2(again && !again->startsWith("DEFER"),
                 qPrintable(QString::fromLatin1(
                     a.sender + " was answered, then forgotten: " + again.value_or("no answer"))));
    }
    QVERIFY(answered >= 40);
    policy.close();
    QVERIFY2(daemon->terminate(), qPrintable(daemon->log()));
    QCOMPARE(daemon->exitCode(), 0);
}

QTEST_GUILESS_MAIN(FaultDiskFullTest)
#include "tst_fault_disk_full.moc"
