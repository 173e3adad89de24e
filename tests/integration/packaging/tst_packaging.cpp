// SPDX-License-Identifier: GPL-3.0-or-later
// The Debian packages, end to end on this machine: cpack builds them from this build tree
// into a temp dir; their control fields name the Qt 6 runtime and their contents are where
// Debian wants them; lintian finds no error or warning that is not explained in an
// override; `dpkg -i` creates the greygate user and /var/lib/greygate; the installed
// /usr/sbin/greygated, run with the installed unit's ExecStart as the unit's user (and once
// as root, dropping to greygate itself), serves a policy request, answers the installed
// greygatectl, reloads on SIGHUP; `dpkg --purge` leaves nothing of greygate behind.
// Needs root and dpkg (skipped otherwise). It never touches a greygate already installed
// here, and purges what it installed even when a check fails (cleanupTestCase).
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <grp.h>
#include <optional>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

constexpr int CpackTimeoutMs = 150'000;
constexpr int LintianTimeoutMs = 150'000;
constexpr int DpkgTimeoutMs = 90'000;
constexpr int StartTimeoutMs = 30'000;
const QString kUnit = u"/lib/systemd/system/greygated.service"_s;
const QString kMarker = u"/var/lib/greygate/.installed-by-tst_packaging"_s;

QString text(const ProgramResult &r)
{
    return QString::fromUtf8(r.out + r.err);
}

bool ran(const ProgramResult &r)
{
    return r.finished && r.exitStatus == QProcess::NormalExit && r.exitCode == 0;
}

bool packageInstalled(const QString &name)
{
    const ProgramResult r = runProgram(u"dpkg-query"_s, {u"-W"_s, u"-f=${Status}"_s, name}, 30'000);
    return ran(r) && r.out.contains("installed") && !r.out.contains("not-installed");
}

std::optional<struct passwd> account(const char *name)
{
    struct passwd *p = ::getpwnam(name);
    if (!p)
        return std::nullopt;
    return *p;
}

// The unit's "Key=" value (the first one), empty when missing.
QString unitValue(const QString &unit, const QString &key)
{
    for (const QString &line : unit.split(u'\n')) {
        if (line.startsWith(key + u'='))
            return line.mid(key.size() + 1).trimmed();
    }
    return {};
}

// "Uid:\treal\teffective\tsaved\tfs" from /proc/PID/status.
QStringList procIds(qint64 pid, const QString &field)
{
    QFile f(u"/proc/"_s + QString::number(pid) + u"/status"_s);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(QByteArray(field.toLatin1() + ':')))
            return QString::fromLatin1(line.mid(field.size() + 1))
                .split(QRegularExpression(u"\\s+"_s), Qt::SkipEmptyParts);
    }
    return {};
}

} // namespace

class PackagingTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cpackBuildsTheDebianPackages();
    void controlFieldsNameTheQtRuntime();
    void contentsAreWhereDebianWantsThem();
    void lintianFindsNothingUnexplained();
    void dpkgInstallCreatesTheUserAndTheStateDirectory();
    void installedDaemonRunsFromTheUnitAsGreygate();
    void installedDaemonStartedAsRootDropsToGreygate();
    void purgeLeavesNothingOfGreygate();
    void cleanupTestCase();

private:
    QStringList unitCommand(quint16 policyPort) const;
    // The installed unit's ExecStart, run directly or through a wrapper such as setpriv.
    bool startInstalled(DaemonProcess &daemon, const QStringList &wrapper);
    ProgramResult ctl(const QStringList &arguments);
    QString purge();

    QTemporaryDir m_dir;
    QString m_greygatedDeb;
    QString m_consoleDeb;
    bool m_installed = false;
    quint16 m_controlPort = 0;
};

void PackagingTest::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("installs packages with dpkg -i: needs root");
    for (const char *tool : {"dpkg", "dpkg-deb", "dpkg-query", "setpriv"}) {
        if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
            QSKIP(qPrintable(u"no "_s + QString::fromLatin1(tool) + u" on this machine"_s));
    }
    QVERIFY(m_dir.isValid());
    // A run that was killed (timeout) before its cleanup left our own installation: its
    // marker says so, and it goes now.
    if (packageInstalled(u"greygated"_s) && QFile::exists(kMarker)) {
        const QString error = purge();
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }
    // Anything of a real installation is left alone, and so is this test.
    if (packageInstalled(u"greygated"_s) || packageInstalled(u"greygate"_s))
        QSKIP("greygate is installed on this machine: not touched");
    if (account("greygate") || QFileInfo::exists(u"/etc/greygate"_s) ||
        QFileInfo::exists(u"/var/lib/greygate"_s))
        QSKIP("a greygate user, /etc/greygate or /var/lib/greygate exists here: not touched");
}

void PackagingTest::cpackBuildsTheDebianPackages()
{
    const QString config = binaryDir() + u"/CPackConfig.cmake"_s;
    QVERIFY2(QFile::exists(config), qPrintable(config + u" is missing"_s));
    const QString out = m_dir.filePath(u"packages"_s);
    const ProgramResult r =
        runProgram(QStringLiteral(GREYGATE_CPACK_COMMAND),
                   {u"-G"_s, u"DEB"_s, u"--config"_s, config, u"-B"_s, out}, CpackTimeoutMs);
    QVERIFY2(ran(r), qPrintable(text(r)));
    const QStringList debs = QDir(out).entryList({u"*.deb"_s}, QDir::Files);
    for (const QString &deb : debs) {
        if (deb.startsWith(u"greygated_"_s))
            m_greygatedDeb = QDir(out).filePath(deb);
        else if (deb.startsWith(u"greygate_"_s))
            m_consoleDeb = QDir(out).filePath(deb);
    }
    QVERIFY2(!m_greygatedDeb.isEmpty(), qPrintable(debs.join(u' ') + u"\n"_s + text(r)));
#ifdef GREYGATE_HAS_CONSOLE
    QVERIFY2(!m_consoleDeb.isEmpty(), qPrintable(debs.join(u' ')));
#endif
}

void PackagingTest::controlFieldsNameTheQtRuntime()
{
    QVERIFY(!m_greygatedDeb.isEmpty());
    const ProgramResult daemon = runProgram(u"dpkg-deb"_s, {u"-I"_s, m_greygatedDeb}, 30'000);
    QVERIFY2(ran(daemon), qPrintable(text(daemon)));
    const QString info = QString::fromUtf8(daemon.out);
    const QRegularExpression depends(u"^ Depends: (.*)$"_s, QRegularExpression::MultilineOption);
    const QString deps = depends.match(info).captured(1);
    for (const QString &needed : {u"libqt6core6"_s, u"libqt6network6"_s, u"libqt6websockets6"_s,
                                  u"libsqlite3-0"_s, u"libc6"_s, u"adduser"_s}) {
        QVERIFY2(deps.contains(needed), qPrintable(needed + u" not in: "_s + info));
    }
    QVERIFY2(info.contains(u" Package: greygated\n"_s), qPrintable(info));
    QVERIFY2(info.contains(u" Section: mail\n"_s), qPrintable(info));
    QVERIFY2(info.contains(u" Maintainer: "_s), qPrintable(info));
    for (const QString &script : {u"postinst"_s, u"prerm"_s, u"postrm"_s, u"conffiles"_s})
        QVERIFY2(info.contains(u" "_s + script), qPrintable(script + u" missing: "_s + info));
    const ProgramResult conffiles =
        runProgram(u"dpkg-deb"_s, {u"-I"_s, m_greygatedDeb, u"conffiles"_s}, 30'000);
    QCOMPARE(QString::fromUtf8(conffiles.out).trimmed(), u"/etc/greygate/greygated.conf"_s);

    if (m_consoleDeb.isEmpty())
        return;
    const ProgramResult console = runProgram(u"dpkg-deb"_s, {u"-I"_s, m_consoleDeb}, 30'000);
    QVERIFY2(ran(console), qPrintable(text(console)));
    const QString consoleDeps = depends.match(QString::fromUtf8(console.out)).captured(1);
    for (const QString &needed :
         {u"libqt6core6"_s, u"libqt6gui6"_s, u"libqt6widgets6"_s, u"qt6-qpa-plugins"_s}) {
        QVERIFY2(consoleDeps.contains(needed),
                 qPrintable(needed + u" not in: "_s + QString::fromUtf8(console.out)));
    }
}

void PackagingTest::contentsAreWhereDebianWantsThem()
{
    QVERIFY(!m_greygatedDeb.isEmpty());
    const ProgramResult daemon = runProgram(u"dpkg-deb"_s, {u"-c"_s, m_greygatedDeb}, 30'000);
    QVERIFY2(ran(daemon), qPrintable(text(daemon)));
    const QString listing = QString::fromUtf8(daemon.out);
    for (const QString &path :
         {u"./usr/sbin/greygated"_s, u"./usr/bin/greygatectl"_s, u"./etc/greygate/greygated.conf"_s,
          u"./lib/systemd/system/greygated.service"_s, u"./usr/share/man/man8/greygated.8.gz"_s,
          u"./usr/share/man/man1/greygatectl.1.gz"_s, u"./usr/share/doc/greygated/copyright"_s,
          u"./usr/share/doc/greygated/changelog.Debian.gz"_s}) {
        QVERIFY2(listing.contains(path + u'\n') || listing.contains(path + u' '),
                 qPrintable(path + u" not in:\n"_s + listing));
    }
    // The state is made by the maintainer script for the greygate user, never shipped.
    QVERIFY2(!listing.contains(u"./var/lib/greygate"_s), qPrintable(listing));
    QVERIFY2(!listing.contains(u"./usr/local"_s), qPrintable(listing));
    // The console is the greygate package's, never the daemon's.
    QVERIFY2(!listing.contains(u"./usr/bin/greygate\n"_s) &&
                 !listing.contains(u"./usr/bin/greygate "_s),
             qPrintable(listing));

    if (m_consoleDeb.isEmpty())
        return;
    const ProgramResult console = runProgram(u"dpkg-deb"_s, {u"-c"_s, m_consoleDeb}, 30'000);
    const QString consoleListing = QString::fromUtf8(console.out);
    for (const QString &path :
         {u"./usr/bin/greygate"_s, u"./usr/share/applications/io.greygate.Greygate.desktop"_s,
          u"./usr/share/metainfo/io.greygate.Greygate.metainfo.xml"_s,
          u"./usr/share/man/man1/greygate.1.gz"_s, u"./usr/share/doc/greygate/copyright"_s}) {
        QVERIFY2(consoleListing.contains(path),
                 qPrintable(path + u" not in:\n"_s + consoleListing));
    }
    QVERIFY2(!consoleListing.contains(u"greygated"_s), qPrintable(consoleListing));
}

void PackagingTest::lintianFindsNothingUnexplained()
{
    QVERIFY(!m_greygatedDeb.isEmpty());
    const QString lintian = QStandardPaths::findExecutable(u"lintian"_s);
    if (lintian.isEmpty())
        QSKIP("no lintian here (scripts/install-deps.sh --test installs it)");
    QStringList args = {u"--no-tag-display-limit"_s, m_greygatedDeb};
    if (!m_consoleDeb.isEmpty())
        args.append(m_consoleDeb);
    const ProgramResult r = runProgram(lintian, args, LintianTimeoutMs);
    QVERIFY2(r.finished, "lintian did not finish in time");
    // Errors and warnings fail; overridden tags (with their reasons in the packages'
    // lintian-overrides) are not shown; information tags are listed in docs/packaging.md.
    QStringList findings;
    for (const QString &line : text(r).split(u'\n')) {
        if (line.startsWith(u"E: "_s) || line.startsWith(u"W: "_s))
            findings.append(line);
    }
    QVERIFY2(findings.isEmpty(), qPrintable(findings.join(u'\n')));
}

void PackagingTest::dpkgInstallCreatesTheUserAndTheStateDirectory()
{
    QVERIFY(!m_greygatedDeb.isEmpty());
    QStringList debs = {m_greygatedDeb};
    if (!m_consoleDeb.isEmpty())
        debs.append(m_consoleDeb);
    m_installed = true; // from here on, cleanupTestCase purges whatever happens
    const ProgramResult r = runProgram(u"dpkg"_s, QStringList{u"-i"_s} + debs, DpkgTimeoutMs);
    QVERIFY2(ran(r), qPrintable(text(r)));
    QFile marker(kMarker);
    QVERIFY(marker.open(QIODevice::WriteOnly));
    marker.close();

    const auto user = account("greygate");
    QVERIFY2(user.has_value(), "no greygate user after dpkg -i");
    QVERIFY(user->pw_uid != 0);
    QCOMPARE(QString::fromLocal8Bit(user->pw_shell), u"/usr/sbin/nologin"_s);
    struct stat st = {};
    QCOMPARE(::stat("/var/lib/greygate", &st), 0);
    QCOMPARE(st.st_uid, user->pw_uid);
    QCOMPARE(int(st.st_mode & 07777), 0750);
    QVERIFY(QFileInfo(u"/etc/greygate/greygated.conf"_s).isFile());
    QVERIFY(QFileInfo(kUnit).isFile());
    // Enabled as dh_installsystemd would (no systemd runs here: the link is all there is).
    QVERIFY(
        QFileInfo(u"/etc/systemd/system/multi-user.target.wants/greygated.service"_s).isSymLink());

    // The man page lists every option the installed daemon takes.
    const ProgramResult help = runProgram(u"/usr/sbin/greygated"_s, {u"--help"_s}, 30'000);
    QVERIFY2(ran(help), qPrintable(text(help)));
    const ProgramResult man =
        runProgram(u"gzip"_s, {u"-dc"_s, u"/usr/share/man/man8/greygated.8.gz"_s}, 30'000);
    QVERIFY2(ran(man), qPrintable(text(man)));
    const QRegularExpression option(u"^  --([a-z0-9-]+)"_s, QRegularExpression::MultilineOption);
    int options = 0;
    for (const QRegularExpressionMatch &m : option.globalMatch(QString::fromUtf8(help.out))) {
        ++options;
        const QString roff = u"\\-\\-"_s + m.captured(1).replace(u'-', u"\\-"_s);
        QVERIFY2(man.out.contains(roff.toUtf8()), qPrintable(roff + u" not in greygated.8"_s));
    }
    QVERIFY(options > 20);

    const QString analyze = QStandardPaths::findExecutable(u"systemd-analyze"_s);
    if (!analyze.isEmpty()) {
        // Offline: no systemd runs here. Only its "man" look-ups may complain (no man-db).
        const ProgramResult v = runProgram(analyze, {u"verify"_s, kUnit}, 60'000);
        for (const QString &line : text(v).split(u'\n', Qt::SkipEmptyParts))
            QVERIFY2(line.contains(u"Command 'man "_s), qPrintable(text(v)));
        // The hardening, as systemd scores it offline: "OK" is below 4; this unit is at 1.6.
        const ProgramResult security =
            runProgram(analyze, {u"security"_s, u"--offline=true"_s, kUnit}, 60'000);
        const QRegularExpression overall(
            u"Overall exposure level for greygated.service: ([0-9.]+)"_s);
        const QRegularExpressionMatch m = overall.match(text(security));
        QVERIFY2(m.hasMatch(), qPrintable(text(security)));
        QVERIFY2(m.captured(1).toDouble() <= 2.0, qPrintable(m.captured(0)));
    }
}

QStringList PackagingTest::unitCommand(quint16 policyPort) const
{
    QFile f(kUnit);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QString exec = unitValue(QString::fromUtf8(f.readAll()), u"ExecStart"_s);
    QStringList args = exec.split(u' ', Qt::SkipEmptyParts);
    // The unit's own listening addresses are replaced by loopback ephemeral ones.
    args << u"--inet=127.0.0.1:"_s + QString::number(policyPort)
         << u"--control-listen=127.0.0.1:0"_s;
    return args;
}

bool PackagingTest::startInstalled(DaemonProcess &daemon, const QStringList &wrapper)
{
    const QString program = unitCommand(0).value(0);
    if (program.isEmpty()) {
        qWarning("no ExecStart in %s", qPrintable(kUnit));
        return false;
    }
    QString error;
    const bool started = daemon.startOnFreePort(
        wrapper.isEmpty() ? program : wrapper.first(),
        [&](quint16 port) {
            const QStringList command = unitCommand(port);
            // A wrapper (setpriv) runs the unit's whole command line.
            return wrapper.isEmpty() ? command.mid(1) : wrapper.mid(1) + command;
        },
        StartTimeoutMs, &error);
    if (!started) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    m_controlPort = daemon.portFromLog(u"control API listening"_s);
    return m_controlPort != 0;
}

ProgramResult PackagingTest::ctl(const QStringList &arguments)
{
    return runProgram(u"/usr/bin/greygatectl"_s,
                      QStringList{u"--proxy"_s,
                                  u"ws://127.0.0.1:"_s + QString::number(m_controlPort),
                                  u"--token-file"_s, u"/var/lib/greygate/control.token"_s,
                                  u"--timeout"_s, u"20"_s} +
                          arguments,
                      30'000);
}

void PackagingTest::installedDaemonRunsFromTheUnitAsGreygate()
{
    QVERIFY(m_installed);
    QFile f(kUnit);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString unit = QString::fromUtf8(f.readAll());
    const QString userName = unitValue(unit, u"User"_s);
    QCOMPARE(userName, u"greygate"_s);
    QVERIFY(unitValue(unit, u"ExecStart"_s).startsWith(u"/usr/sbin/greygated "_s));
    QCOMPARE(unitValue(unit, u"ExecReload"_s), u"/bin/kill -HUP $MAINPID"_s);
    const auto user = account("greygate");
    QVERIFY(user.has_value());

    // As systemd starts it: the unit's user and group, no root at any moment.
    DaemonProcess daemon(m_dir.filePath(u"unit-run.log"_s));
    const QStringList setpriv = {u"setpriv"_s, u"--reuid="_s + userName,
                                 u"--regid="_s + unitValue(unit, u"Group"_s), u"--init-groups"_s,
                                 u"--"_s};
    QVERIFY2(startInstalled(daemon, setpriv), qPrintable(daemon.log()));
    QCOMPARE(procIds(daemon.pid(), u"Uid"_s).value(1), QString::number(user->pw_uid));

    // The store in /var/lib/greygate is writable: a first sight is deferred (committed).
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    const auto answer =
        client.askRcpt("192.0.2.10", "sender@example.org", "rcpt@example.net", "i1");
    QVERIFY2(answer && answer->startsWith("DEFER_IF_PERMIT"), qPrintable(daemon.log()));

    const ProgramResult status = ctl({u"status"_s});
    QVERIFY2(ran(status), qPrintable(text(status) + daemon.log()));
    QVERIFY2(!status.out.trimmed().isEmpty(), qPrintable(text(status)));

    // Reload: a changed log level is applied, a changed delay waits for a restart.
    QFile conf(u"/etc/greygate/greygated.conf"_s);
    QVERIFY(conf.open(QIODevice::Append));
    conf.write("\nlog-level = debug\ndelay = 120\n");
    conf.close();
    QCOMPARE(::kill(pid_t(daemon.pid()), SIGHUP), 0);
    QTRY_VERIFY2_WITH_TIMEOUT(daemon.log().contains(u"msg=reloaded"_s), qPrintable(daemon.log()),
                              10'000);
    const QString reloaded = daemon.log().section(u"msg=reloaded"_s, 1).section(u'\n', 0, 0);
    QVERIFY2(reloaded.contains(u"changed=log-level"_s), qPrintable(reloaded));
    QVERIFY2(reloaded.contains(u"restart_needed=delay"_s), qPrintable(reloaded));
    // Still serving on the same connection.
    const auto again = client.askRcpt("192.0.2.10", "sender@example.org", "rcpt@example.net", "i2");
    QVERIFY2(again && again->startsWith("DEFER_IF_PERMIT"), qPrintable(daemon.log()));

    QVERIFY(daemon.terminate());
    QCOMPARE(daemon.exitCode(), 0);
}

void PackagingTest::installedDaemonStartedAsRootDropsToGreygate()
{
    QVERIFY(m_installed);
    const auto user = account("greygate");
    QVERIFY(user.has_value());
    DaemonProcess daemon(m_dir.filePath(u"root-run.log"_s));
    QVERIFY2(startInstalled(daemon, {}), qPrintable(daemon.log()));
    QTRY_VERIFY_WITH_TIMEOUT(daemon.log().contains(u"privileges dropped"_s), 10'000);
    const QString uid = QString::number(user->pw_uid);
    QCOMPARE(procIds(daemon.pid(), u"Uid"_s), QStringList(4, uid));
    QCOMPARE(procIds(daemon.pid(), u"Gid"_s), QStringList(4, QString::number(user->pw_gid)));

    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    const auto answer = client.askRcpt("192.0.2.20", "other@example.org", "rcpt@example.net", "i3");
    QVERIFY2(answer && answer->startsWith("DEFER_IF_PERMIT"), qPrintable(daemon.log()));
    QVERIFY(ran(ctl({u"status"_s})));
    QVERIFY(daemon.terminate());
    QCOMPARE(daemon.exitCode(), 0);

    // Nothing in the state directory is left to root: the next start as the unit's user
    // can write every file.
    const QFileInfoList files =
        QDir(u"/var/lib/greygate"_s)
            .entryInfoList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
    QVERIFY(!files.isEmpty());
    for (const QFileInfo &file : files) {
        if (file.filePath() != kMarker)
            QVERIFY2(file.ownerId() == user->pw_uid, qPrintable(file.filePath()));
    }
}

QString PackagingTest::purge()
{
    const ProgramResult r =
        runProgram(u"dpkg"_s, {u"--purge"_s, u"greygated"_s, u"greygate"_s}, DpkgTimeoutMs);
    return ran(r) ? QString() : text(r);
}

void PackagingTest::purgeLeavesNothingOfGreygate()
{
    QVERIFY(m_installed);
    const QString error = purge();
    QVERIFY2(error.isEmpty(), qPrintable(error));
    m_installed = false;
    QVERIFY(!packageInstalled(u"greygated"_s));
    QVERIFY(!packageInstalled(u"greygate"_s));
    QVERIFY(!account("greygate"));
    QVERIFY(!::getgrnam("greygate"));
    for (const QString &path :
         {u"/etc/greygate"_s, u"/var/lib/greygate"_s, kUnit, u"/usr/sbin/greygated"_s,
          u"/usr/bin/greygatectl"_s, u"/usr/share/doc/greygated"_s,
          u"/etc/systemd/system/multi-user.target.wants/greygated.service"_s,
          u"/etc/systemd/system/greygated.service"_s,
          u"/var/lib/systemd/deb-systemd-helper-enabled/greygated.service.dsh-also"_s,
          u"/var/lib/systemd/deb-systemd-helper-masked/greygated.service"_s}) {
        QVERIFY2(!QFileInfo(path).exists() && !QFileInfo(path).isSymLink(), qPrintable(path));
    }
}

void PackagingTest::cleanupTestCase()
{
    if (!m_installed)
        return;
    const QString error = purge();
    if (!error.isEmpty())
        qWarning("dpkg --purge failed: %s", qPrintable(error));
}

QTEST_GUILESS_MAIN(PackagingTest)
#include "tst_packaging.moc"
