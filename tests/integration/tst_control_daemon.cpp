// SPDX-License-Identifier: GPL-3.0-or-later
// The control API of a real greygated, driven by the real greygatectl: greygated
// --control-listen creates its tokens in the dbdir; a deferral made through the policy port
// shows in `queue list`, `queue release` lets the next retry pass at once, a bypass policy
// added with `policy add` is explained and applied, the read-only token cannot write, and
// after kill -9 and a restart the release and the policy are still there. Also the daemon's
// refusals: a control port in use (exit 4), a non-loopback control address with TLS off
// (exit 2), a certificate without its key (exit 2).
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QDateTime>
#include <QFile>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

constexpr int StartTimeoutMs = 30'000;
constexpr int CtlTimeoutMs = 30'000;

struct Ctl
{
    int code = -1;
    QString out;
    QString err;
};

} // namespace

class ControlDaemonTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void greygatectlDrivesARealDaemonAcrossAKill();
    void statisticsSurviveARestart();
    void refusesToStart_data();
    void refusesToStart();

private:
    bool startDaemon(DaemonProcess &daemon, const QString &dbdir);
    Ctl ctl(const QStringList &arguments, bool readOnly = false);
    QByteArray httpGet(const QByteArray &path);

    QString m_dbdir;
    quint16 m_controlPort = 0;
    quint16 m_metricsPort = 0;
};

bool ControlDaemonTest::startDaemon(DaemonProcess &daemon, const QString &dbdir)
{
    QString error;
    const bool started = daemon.startOnFreePort(
        program(QStringLiteral("greygated")),
        [&](quint16 port) {
            return QStringList{u"--inet=127.0.0.1:"_s + QString::number(port),
                               u"--dbdir="_s + dbdir, QStringLiteral("--delay=3600"),
                               QStringLiteral("--control-listen=127.0.0.1:0"),
                               QStringLiteral("--metrics-listen=0")};
        },
        StartTimeoutMs, &error);
    if (!started) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    m_controlPort = daemon.portFromLog(QStringLiteral("control API listening"));
    m_metricsPort = daemon.portFromLog(QStringLiteral("metrics listening"));
    if (m_controlPort == 0 || m_metricsPort == 0)
        qWarning("no control or metrics port in the log: %s", qPrintable(daemon.log()));
    return m_controlPort != 0 && m_metricsPort != 0;
}

Ctl ControlDaemonTest::ctl(const QStringList &arguments, bool readOnly)
{
    const QString tokenFile =
        m_dbdir + (readOnly ? u"/control-readonly.token"_s : u"/control.token"_s);
    QStringList args = {
        QStringLiteral("--proxy"),      u"ws://127.0.0.1:"_s + QString::number(m_controlPort),
        QStringLiteral("--token-file"), tokenFile,
        QStringLiteral("--timeout"),    QStringLiteral("20")};
    args += arguments;
    const ProgramResult r = runProgram(program(QStringLiteral("greygatectl")), args, CtlTimeoutMs);
    Ctl run;
    run.code = r.finished && r.exitStatus == QProcess::NormalExit ? r.exitCode : -2;
    run.out = QString::fromUtf8(r.out);
    run.err = QString::fromUtf8(r.err);
    return run;
}

// One GET on the metrics port; the whole answer (head and body), empty on failure.
QByteArray ControlDaemonTest::httpGet(const QByteArray &path)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_metricsPort);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    QByteArray all;
    for (int i = 0; i < 100 && socket.state() == QAbstractSocket::ConnectedState; ++i) {
        socket.waitForReadyRead(100);
        all += socket.readAll();
    }
    return all + socket.readAll();
}

void ControlDaemonTest::greygatectlDrivesARealDaemonAcrossAKill()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    m_dbdir = dir.filePath(QStringLiteral("db"));
    DaemonProcess daemon(dir.filePath(QStringLiteral("greygated.log")));
    QVERIFY(startDaemon(daemon, m_dbdir));

    // The tokens were created on first start, readable by the owner only.
    QFile token(m_dbdir + u"/control.token"_s);
    QVERIFY(token.exists());
    QCOMPARE(token.permissions() & (QFile::ReadGroup | QFile::ReadOther), QFile::Permissions());

    Ctl run = ctl({QStringLiteral("status")});
    QVERIFY2(run.code == 0, qPrintable(run.err + daemon.log()));
    QVERIFY2(run.out.contains(QRegularExpression(QStringLiteral("\\nrole +admin\\n"))),
             qPrintable(run.out));

    // A deferral through the policy port, seen in the queue and in the statistics.
    PolicyClient postfix;
    QVERIFY(postfix.connectTo(daemon.port()));
    const std::optional<QByteArray> first =
        postfix.askRcpt("192.0.2.10", "alice@sender.test", "bob@corp.test", "INST1");
    QVERIFY(first && first->startsWith("DEFER_IF_PERMIT"));

    run = ctl({QStringLiteral("queue"), QStringLiteral("list"), QStringLiteral("--state"),
               QStringLiteral("deferred")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(QStringLiteral("bob@corp.test")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("1 of 1 entries")), qPrintable(run.out));
    run = ctl({QStringLiteral("status")});
    QVERIFY2(run.out.contains(QRegularExpression(QStringLiteral("\\ndeferred +1\\n"))),
             qPrintable(run.out));
    const QByteArray metrics = httpGet("/metrics");
    QVERIFY2(metrics.startsWith("HTTP/1.1 200 OK\r\n"), metrics.constData());
    QVERIFY2(metrics.contains("\ngreygate_decisions_total{verdict=\"deferred\"} 1\n"),
             metrics.constData());
    QVERIFY(metrics.contains("\ngreygate_queue_deferred 1\n"));
    QVERIFY(httpGet("/healthz").startsWith("HTTP/1.1 200 OK\r\n"));

    // Still deferred before the release (the delay is an hour)...
    const std::optional<QByteArray> second =
        postfix.askRcpt("192.0.2.10", "alice@sender.test", "bob@corp.test", "INST2");
    QVERIFY(second && second->startsWith("DEFER_IF_PERMIT"));
    // ...released with the tool (the client as the queue keys it: its /24), it passes now.
    run = ctl({QStringLiteral("queue"), QStringLiteral("release"), QStringLiteral("192.0.2.0/24"),
               QStringLiteral("alice@sender.test"), QStringLiteral("bob@corp.test")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    const std::optional<QByteArray> third =
        postfix.askRcpt("192.0.2.10", "alice@sender.test", "bob@corp.test", "INST3");
    QVERIFY(third);
    QVERIFY2(third->startsWith("PREPEND X-Greylist:") || *third == "DUNNO", third->constData());

    // A bypass policy, explained for a triplet and applied through the policy port.
    const QString policyFile = dir.filePath(QStringLiteral("policy.json"));
    QVERIFY(writeFile(policyFile, R"({"narrative":"Partners skip greylisting","action":"bypass",)"
                                  R"("from":{"type":"domain","value":"partner.test"},)"
                                  R"("to":{"type":"everyone"}})"));
    run = ctl({QStringLiteral("policy"), QStringLiteral("add"), policyFile});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("id 1, version 1")), qPrintable(run.out));
    run = ctl({QStringLiteral("policy"), QStringLiteral("explain"), QStringLiteral("198.51.100.7"),
               QStringLiteral("x@partner.test"), QStringLiteral("y@corp.test")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("bypass")), qPrintable(run.out));
    const std::optional<QByteArray> bypassed =
        postfix.askRcpt("198.51.100.7", "x@partner.test", "y@corp.test", "INST4");
    QVERIFY(bypassed);
    QCOMPARE(*bypassed, QByteArray("DUNNO"));

    // The read-only token reads but cannot write.
    run = ctl({QStringLiteral("policy"), QStringLiteral("list")}, true);
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY(run.out.contains(QStringLiteral("Partners skip greylisting")));
    run = ctl({QStringLiteral("policy"), QStringLiteral("delete"), QStringLiteral("1"),
               QStringLiteral("1")},
              true);
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(QStringLiteral("forbidden")), qPrintable(run.err));

    // kill -9 and a restart: the release and the policy were committed before their answers.
    postfix.close();
    daemon.kill();
    DaemonProcess restarted(dir.filePath(QStringLiteral("greygated-2.log")));
    QVERIFY(startDaemon(restarted, m_dbdir));
    PolicyClient again;
    QVERIFY(again.connectTo(restarted.port()));
    const std::optional<QByteArray> afterRestart =
        again.askRcpt("192.0.2.10", "alice@sender.test", "bob@corp.test", "INST5");
    QVERIFY(afterRestart);
    QVERIFY2(afterRestart->startsWith("PREPEND") || *afterRestart == "DUNNO",
             afterRestart->constData());
    const std::optional<QByteArray> bypassedAgain =
        again.askRcpt("198.51.100.8", "z@partner.test", "y@corp.test", "INST6");
    QVERIFY(bypassedAgain);
    QCOMPARE(*bypassedAgain, QByteArray("DUNNO"));
    run = ctl({QStringLiteral("policy"), QStringLiteral("list")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY(run.out.contains(QStringLiteral("Partners skip greylisting")));
    QVERIFY(restarted.terminate());
    QCOMPARE(restarted.exitCode(), 0);
}

void ControlDaemonTest::statisticsSurviveARestart()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    m_dbdir = dir.filePath(QStringLiteral("db"));
    const qint64 from = QDateTime::currentSecsSinceEpoch() - 120;
    {
        DaemonProcess daemon(dir.filePath(QStringLiteral("greygated.log")));
        QVERIFY(startDaemon(daemon, m_dbdir));
        PolicyClient postfix;
        QVERIFY(postfix.connectTo(daemon.port()));
        for (const QByteArray rcpt : {"a@corp.test", "b@corp.test", "c@corp.test"}) {
            const std::optional<QByteArray> answer =
                postfix.askRcpt("192.0.2.20", "s@x.test", rcpt);
            QVERIFY(answer && answer->startsWith("DEFER_IF_PERMIT"));
        }
        QVERIFY(daemon.terminate()); // saves DBDIR/stats.bin on the way out
        QCOMPARE(daemon.exitCode(), 0);
    }
    QVERIFY(QFile::exists(m_dbdir + u"/stats.bin"_s));

    DaemonProcess restarted(dir.filePath(QStringLiteral("greygated-2.log")));
    QVERIFY(startDaemon(restarted, m_dbdir));
    QVERIFY2(restarted.log().contains(QStringLiteral("statistics restored")),
             qPrintable(restarted.log()));
    const Ctl run =
        ctl({QStringLiteral("report"), QStringLiteral("--from"), QString::number(from),
             QStringLiteral("--to"), QString::number(QDateTime::currentSecsSinceEpoch() + 120)});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    // The restarted daemon decided nothing: the three deferrals come from the file.
    QVERIFY2(run.out.contains(QRegularExpression(QStringLiteral("\\ntotal,3,3,0,0,0,0\\n"))),
             qPrintable(run.out));
    QVERIFY(restarted.terminate());

    // A damaged file costs the history, not the start.
    QFile stats(m_dbdir + u"/stats.bin"_s);
    QVERIFY(stats.open(QIODevice::WriteOnly | QIODevice::Truncate));
    stats.write("not statistics");
    stats.close();
    DaemonProcess third(dir.filePath(QStringLiteral("greygated-3.log")));
    QVERIFY(startDaemon(third, m_dbdir));
    QVERIFY2(third.log().contains(QStringLiteral("statistics not restored")),
             qPrintable(third.log()));
    QVERIFY(third.terminate());
    QCOMPARE(third.exitCode(), 0);
}

void ControlDaemonTest::refusesToStart_data()
{
    QTest::addColumn<QString>("control");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("message");
    QTest::newRow("control port in use")
        << QStringLiteral("busy") << 4 << QStringLiteral("cannot start the control API");
    QTest::newRow("non-loopback with TLS off")
        << QStringLiteral("192.0.2.1:10024 --control-tls=off") << 2
        << QStringLiteral("only with TLS");
    QTest::newRow("a certificate without its key")
        << QStringLiteral("127.0.0.1:0 --control-tls-cert=/nonexistent.pem") << 2
        << QStringLiteral("go together");
    QTest::newRow("not an address")
        << QStringLiteral("mail.example:10024") << 2 << QStringLiteral("is not an IP address");
    QTest::newRow("bad port") << QStringLiteral("127.0.0.1:99999") << 2
                              << QStringLiteral("bad port");
}

void ControlDaemonTest::refusesToStart()
{
    QFETCH(QString, control);
    QFETCH(int, exitCode);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QTcpServer busy; // holds the control port while greygated tries it
    if (control == u"busy") {
        QVERIFY(busy.listen(QHostAddress::LocalHost));
        control = u"127.0.0.1:"_s + QString::number(busy.serverPort());
    }
    // "ADDRESS --more --options": the options after the address go on the command line too.
    QStringList extra = control.split(u' ');
    control = extra.takeFirst();
    const ProgramResult r =
        runProgram(program(QStringLiteral("greygated")),
                   QStringList{u"--inet=127.0.0.1:"_s + QString::number(freeTcpPort()),
                               u"--dbdir="_s + dir.filePath(QStringLiteral("db")),
                               u"--control-listen="_s + control} +
                       extra,
                   StartTimeoutMs);
    QVERIFY(r.finished);
    QCOMPARE(r.exitCode, exitCode);
    QVERIFY2(r.err.contains(message.toUtf8()), r.err.constData());
}

QTEST_GUILESS_MAIN(ControlDaemonTest)
#include "tst_control_daemon.moc"
