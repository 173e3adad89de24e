// SPDX-License-Identifier: GPL-3.0-or-later
// greygated as a service (the build tree's, no package needed): SIGHUP re-reads the config
// file and the --policies document and applies the policies, the internal domains and the
// log level on the connections already open, names what waits for a restart (and keeps
// using the old value for it), and refuses an invalid file without changing anything;
// --user naming a user that does not exist, or a malformed name, refuses the start.
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <unistd.h>

using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

constexpr int StartTimeoutMs = 30'000;

const QByteArray kPartnersBypass = QByteArrayLiteral(R"({"policies": [
  {"id": 1, "narrative": "partners skip greylisting", "action": "bypass",
   "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}
]})");

const QByteArray kSuppliersBypass = QByteArrayLiteral(R"({"policies": [
  {"id": 1, "narrative": "now suppliers skip greylisting", "action": "bypass",
   "from": {"type": "domain", "value": "supplier.test"}, "to": {"type": "everyone"}}
]})");

// The log line of the n-th (from 1) occurrence of msg, empty while there is none.
QString logLine(const DaemonProcess &daemon, const QString &msg, int n = 1)
{
    const QString log = daemon.log();
    qsizetype at = -1;
    for (int i = 0; i < n; ++i) {
        at = log.indexOf(msg, at + 1);
        if (at < 0)
            return {};
    }
    return log.mid(at).section(u'\n', 0, 0);
}

} // namespace

class ServiceReloadTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sighupAppliesPoliciesAndLogLevelOnOpenConnections();
    void sighupWithAnInvalidConfigChangesNothing();
    void unknownUserRefusesTheStart_data();
    void unknownUserRefusesTheStart();

private:
    bool start(DaemonProcess &daemon, const QString &config, const QString &dbdir);
};

bool ServiceReloadTest::start(DaemonProcess &daemon, const QString &config, const QString &dbdir)
{
    QString error;
    // --user=root: run as root (CI), a greygate user on this machine must not be used.
    const QStringList user = ::geteuid() == 0 ? QStringList{u"--user=root"_s} : QStringList{};
    const bool started = daemon.startOnFreePort(
        program(u"greygated"_s),
        [&](quint16 port) {
            return QStringList{u"--config="_s + config,
                               u"--inet=127.0.0.1:"_s + QString::number(port),
                               u"--dbdir="_s + dbdir} +
                   user;
        },
        StartTimeoutMs, &error);
    if (!started)
        qWarning("%s", qPrintable(error));
    return started;
}

void ServiceReloadTest::sighupAppliesPoliciesAndLogLevelOnOpenConnections()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString config = dir.filePath(u"greygated.conf"_s);
    const QString policies = dir.filePath(u"policies.json"_s);
    QVERIFY(writeFile(policies, kPartnersBypass));
    QVERIFY(writeFile(config, "policies = " + policies.toUtf8() + "\nlog-level = info\n"));
    DaemonProcess daemon(dir.filePath(u"greygated.log"_s));
    QVERIFY2(start(daemon, config, dir.filePath(u"db"_s)), qPrintable(daemon.log()));

    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    auto answer = client.askRcpt("192.0.2.1", "a@partner.test", "u@example.net", "i1");
    QVERIFY2(answer && *answer == "DUNNO", qPrintable(daemon.log()));
    answer = client.askRcpt("192.0.2.1", "a@supplier.test", "u@example.net", "i2");
    QVERIFY2(answer && answer->startsWith("DEFER_IF_PERMIT"), qPrintable(daemon.log()));

    // The policy now names suppliers; debug logging; a longer delay, which needs a restart.
    QVERIFY(writeFile(policies, kSuppliersBypass));
    QVERIFY(writeFile(config,
                      "policies = " + policies.toUtf8() + "\nlog-level = debug\ndelay = 300\n"));
    QCOMPARE(::kill(pid_t(daemon.pid()), SIGHUP), 0);
    QTRY_VERIFY2_WITH_TIMEOUT(!logLine(daemon, u"msg=reloaded"_s).isEmpty(),
                              qPrintable(daemon.log()), 10'000);
    const QString reloaded = logLine(daemon, u"msg=reloaded"_s);
    QVERIFY2(reloaded.contains(u"changed=log-level,policies"_s), qPrintable(reloaded));
    QVERIFY2(reloaded.contains(u"restart_needed=delay"_s), qPrintable(reloaded));
    QVERIFY2(!reloaded.contains(u"policy_changes=0"_s), qPrintable(reloaded));

    // The same connection, decided by the new policy.
    answer = client.askRcpt("192.0.2.1", "b@supplier.test", "u@example.net", "i3");
    QVERIFY2(answer && *answer == "DUNNO", qPrintable(daemon.log()));
    answer = client.askRcpt("192.0.2.1", "b@partner.test", "u@example.net", "i4");
    QVERIFY2(answer, qPrintable(daemon.log()));
    // Greylisted, and still with the delay greygated started with (60 s, not 300).
    QVERIFY2(answer->startsWith("DEFER_IF_PERMIT") && answer->contains(" 60 seconds"),
             answer->constData());
    // Debug lines ("connection accepted") only appear once the reload lowered the threshold.
    QVERIFY(!daemon.log().contains(u"level=debug"_s));
    PolicyClient second;
    QVERIFY(second.connectTo(daemon.port()));
    QVERIFY(second.askRcpt("192.0.2.2", "c@supplier.test", "u@example.net", "i5"));
    QTRY_VERIFY2_WITH_TIMEOUT(daemon.log().contains(u"level=debug"_s), qPrintable(daemon.log()),
                              5'000);

    QVERIFY(daemon.terminate());
    QCOMPARE(daemon.exitCode(), 0);
}

void ServiceReloadTest::sighupWithAnInvalidConfigChangesNothing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString config = dir.filePath(u"greygated.conf"_s);
    const QString policies = dir.filePath(u"policies.json"_s);
    QVERIFY(writeFile(policies, kPartnersBypass));
    QVERIFY(writeFile(config, "policies = " + policies.toUtf8() + "\n"));
    DaemonProcess daemon(dir.filePath(u"greygated.log"_s));
    QVERIFY2(start(daemon, config, dir.filePath(u"db"_s)), qPrintable(daemon.log()));
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));

    // A bad value in the file: refused, with the file and line named.
    QVERIFY(writeFile(config, "policies = " + policies.toUtf8() + "\ndelay = soon\n"));
    QCOMPARE(::kill(pid_t(daemon.pid()), SIGHUP), 0);
    QTRY_VERIFY2_WITH_TIMEOUT(!logLine(daemon, u"reload refused"_s).isEmpty(),
                              qPrintable(daemon.log()), 10'000);
    QVERIFY2(logLine(daemon, u"reload refused"_s).contains(u"greygated.conf:2"_s),
             qPrintable(daemon.log()));

    // An invalid policy document: refused before anything is applied.
    QVERIFY(writeFile(config, "policies = " + policies.toUtf8() + "\n"));
    QVERIFY(writeFile(policies, R"({"policies": [{"id": 1, "action": "sometimes"}]})"));
    QCOMPARE(::kill(pid_t(daemon.pid()), SIGHUP), 0);
    QTRY_VERIFY2_WITH_TIMEOUT(!logLine(daemon, u"reload refused"_s, 2).isEmpty(),
                              qPrintable(daemon.log()), 10'000);
    QVERIFY(logLine(daemon, u"msg=reloaded"_s).isEmpty());

    // Still serving, with the policies it had.
    const auto answer = client.askRcpt("192.0.2.1", "a@partner.test", "u@example.net", "i1");
    QVERIFY2(answer && *answer == "DUNNO", qPrintable(daemon.log()));
    QVERIFY(daemon.isRunning());
    QVERIFY(daemon.terminate());
    QCOMPARE(daemon.exitCode(), 0);
}

void ServiceReloadTest::unknownUserRefusesTheStart_data()
{
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("said");
    QTest::newRow("no such user") << u"--user=greygate-no-such-user"_s
                                  << (::geteuid() == 0 ? u"no such user"_s
                                                       : u"cannot change users"_s);
    QTest::newRow("not a user name") << u"--user=Bad Name"_s << u"is not a user name"_s;
}

void ServiceReloadTest::unknownUserRefusesTheStart()
{
    QFETCH(QString, user);
    QFETCH(QString, said);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const ProgramResult r = runProgram(program(u"greygated"_s),
                                       {u"--inet=127.0.0.1:"_s + QString::number(freeTcpPort()),
                                        u"--dbdir="_s + dir.filePath(u"db"_s), user},
                                       30'000);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(QString::fromUtf8(r.err).contains(said), r.err.constData());
    // Refused before anything was opened.
    QVERIFY(!QFile::exists(dir.filePath(u"db"_s)));
}

QTEST_GUILESS_MAIN(ServiceReloadTest)
#include "tst_service_reload.moc"
