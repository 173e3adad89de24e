// SPDX-License-Identifier: GPL-3.0-or-later
// greygated's command line as an admin meets it: --help and --version, clear errors and a
// non-zero exit for a bad option, a bad value, a bad or missing config file and a port in
// use, and a clean exit 0 on SIGTERM.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QFile>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;

namespace {

constexpr int RunTimeoutMs = 20'000;

QString greygated()
{
    return program(QStringLiteral("greygated"));
}

QByteArray describe(const ProgramResult &r)
{
    return "exit " + QByteArray::number(r.exitCode) + (r.finished ? "" : " (did not end: killed)") +
           "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err;
}

} // namespace

class GreygatedCliTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpListsThePostgreyOptionsAndExitsZero();
    void versionPrintsTheVersionAndExitsZero();
    void badCommandLineFailsWithAClearError_data();
    void badCommandLineFailsWithAClearError();
    void badConfigFileFailsNamingFileAndLine_data();
    void badConfigFileFailsNamingFileAndLine();
    void missingConfigFileFailsNamingIt();
    void portInUseFailsWithAClearError();
    void sigtermShutsDownCleanlyWithExitZero();

private:
    QTemporaryDir m_work;
};

void GreygatedCliTest::helpListsThePostgreyOptionsAndExitsZero()
{
    const ProgramResult r = runProgram(greygated(), {QStringLiteral("--help")}, RunTimeoutMs);
    QVERIFY2(r.finished && r.exitStatus == QProcess::NormalExit && r.exitCode == 0,
             describe(r).constData());
    for (const char *option :
         {"--inet", "--dbdir", "--delay", "--max-age", "--retry-window", "--greylist-text",
          "--auto-whitelist-clients", "--lookup-by-subnet", "--config"}) {
        QVERIFY2(r.out.contains(option),
                 QByteArray(QByteArray(option) + " missing: " + describe(r)).constData());
    }
}

void GreygatedCliTest::versionPrintsTheVersionAndExitsZero()
{
    const ProgramResult r = runProgram(greygated(), {QStringLiteral("--version")}, RunTimeoutMs);
    QVERIFY2(r.finished && r.exitStatus == QProcess::NormalExit && r.exitCode == 0,
             describe(r).constData());
    QVERIFY2(r.out.contains(GREYGATE_VERSION), describe(r).constData());
    // The allocator the build chose, as the running allocator itself reports it: a build
    // configured for jemalloc whose malloc() still resolves to glibc's fails here.
#ifdef GREYGATE_ALLOCATOR_JEMALLOC
    static const QRegularExpression allocator(QStringLiteral("^allocator: jemalloc \\d+\\.\\d+"),
                                              QRegularExpression::MultilineOption);
#else
    static const QRegularExpression allocator(QStringLiteral("^allocator: libc malloc$"),
                                              QRegularExpression::MultilineOption);
#endif
    QVERIFY2(allocator.match(QString::fromUtf8(r.out)).hasMatch(), describe(r).constData());
}

void GreygatedCliTest::badCommandLineFailsWithAClearError_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentioned"); // what the error must name
    QTest::newRow("unknown option")
        << QStringList{QStringLiteral("--no-such-option")} << QStringLiteral("no-such-option");
    QTest::newRow("delay not a number")
        << QStringList{QStringLiteral("--delay=soon")} << QStringLiteral("delay");
    QTest::newRow("negative delay")
        << QStringList{QStringLiteral("--delay=-5")} << QStringLiteral("delay");
    QTest::newRow("port out of range")
        << QStringList{QStringLiteral("--inet=127.0.0.1:70000")} << QStringLiteral("inet");
    QTest::newRow("port not a number")
        << QStringList{QStringLiteral("--inet=127.0.0.1:smtp-ish")} << QStringLiteral("inet");
}

void GreygatedCliTest::badCommandLineFailsWithAClearError()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentioned);
    // A valid dbdir, so that only the bad argument can be what is wrong.
    const QString dbdir = m_work.filePath(QStringLiteral("db-bad-args"));
    QVERIFY(QDir().mkpath(dbdir));
    const ProgramResult r = runProgram(
        greygated(), QStringList{QStringLiteral("--dbdir=") + dbdir} + args, RunTimeoutMs);
    QVERIFY2(r.finished && r.exitStatus == QProcess::NormalExit && r.exitCode != 0,
             describe(r).constData());
    QVERIFY2(r.err.contains(mentioned.toUtf8()), describe(r).constData());
}

void GreygatedCliTest::badConfigFileFailsNamingFileAndLine_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<int>("badLine");
    QTest::newRow("unknown key") << QByteArray("# greygated\ndelay = 30\nno_such_key = 1\n") << 3;
    QTest::newRow("bad value") << QByteArray("delay = soon\n") << 1;
    QTest::newRow("not key = value") << QByteArray("\n# comment\njust some words\n") << 3;
}

void GreygatedCliTest::badConfigFileFailsNamingFileAndLine()
{
    QFETCH(QByteArray, contents);
    QFETCH(int, badLine);
    const QString path =
        m_work.filePath(QStringLiteral("bad-%1.conf")
                            .arg(QString::fromUtf8(QTest::currentDataTag()).replace(u' ', u'-')));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(contents);
    file.close();
    const ProgramResult r =
        runProgram(greygated(), {QStringLiteral("--config=") + path}, RunTimeoutMs);
    QVERIFY2(r.finished && r.exitStatus == QProcess::NormalExit && r.exitCode != 0,
             describe(r).constData());
    const QByteArray where = path.toUtf8() + ':' + QByteArray::number(badLine);
    QVERIFY2(r.err.contains(where), QByteArray(where + " not named: " + describe(r)).constData());
}

void GreygatedCliTest::missingConfigFileFailsNamingIt()
{
    const QString path = m_work.filePath(QStringLiteral("does-not-exist.conf"));
    const ProgramResult r =
        runProgram(greygated(), {QStringLiteral("--config=") + path}, RunTimeoutMs);
    QVERIFY2(r.finished && r.exitStatus == QProcess::NormalExit && r.exitCode != 0,
             describe(r).constData());
    QVERIFY2(r.err.contains(path.toUtf8()), describe(r).constData());
}

void GreygatedCliTest::portInUseFailsWithAClearError()
{
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress::LocalHost, 0));
    const QString port = QString::number(occupant.serverPort());
    const QString dbdir = m_work.filePath(QStringLiteral("db-port-in-use"));
    QVERIFY(QDir().mkpath(dbdir));
    const ProgramResult r =
        runProgram(greygated(),
                   {QStringLiteral("--inet=127.0.0.1:") + port, QStringLiteral("--dbdir=") + dbdir},
                   RunTimeoutMs);
    QVERIFY2(r.finished && r.exitStatus == QProcess::NormalExit && r.exitCode != 0,
             describe(r).constData());
    QVERIFY2(r.err.contains(port.toUtf8()), describe(r).constData());
    QVERIFY2(r.err.contains("in use"), describe(r).constData());
}

void GreygatedCliTest::sigtermShutsDownCleanlyWithExitZero()
{
    const QString dbdir = m_work.filePath(QStringLiteral("db-sigterm"));
    QVERIFY(QDir().mkpath(dbdir));
    DaemonProcess daemon(m_work.filePath(QStringLiteral("sigterm.log")));
    QString error;
    QVERIFY2(daemon.startOnFreePort(
                 greygated(),
                 [&](quint16 port) {
                     return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                                        QStringLiteral("--dbdir=") + dbdir};
                 },
                 30'000, &error),
             qPrintable(error));
    // It serves before it is told to stop, and a connected client does not hold it up.
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    const auto action = client.askRcpt("192.0.2.1", "a@sender.example", "b@dest.example");
    QVERIFY2(action && action->startsWith("DEFER_IF_PERMIT"), qPrintable(client.errorString()));

    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    QCOMPARE(daemon.exitStatus(), QProcess::NormalExit);
    QVERIFY2(daemon.exitCode() == 0, qPrintable(daemon.log()));
}

QTEST_GUILESS_MAIN(GreygatedCliTest)
#include "tst_greygated_cli.moc"
