// SPDX-License-Identifier: GPL-3.0-or-later
// greygatectl end to end against an in-process proxy: add a policy, explain a triplet,
// release a deferral and see the next retry pass; tables, --json, and the exit codes.

#include "ControlTestProxy.h"
#include "TestSupport.h"

#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>

using namespace greygate;
using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

struct Run
{
    int code = -1;
    QString out;
    QString err;
};

} // namespace

class GreygatectlTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void statusPrintsATable();
    void addPolicyExplainAndReleaseEndToEnd();
    void queueListAsJson();
    void watchPrintsEventsSinceACursor();
    void reportAsCsv();
    void groupsEndToEnd();
    void groupImportRefusesABadCsvWithItsLine();
    void aStaleGroupVersionIsRefused();
    void policyEditChecksTheVersion();
    void autoAllowAddListRemove();
    void exitCodesTellWhatWentWrong_data();
    void exitCodesTellWhatWentWrong();

private:
    Run ctl(const QStringList &arguments, bool readOnly = false);
    QString writeFile(const QString &name, const QByteArray &bytes);

    std::unique_ptr<ControlTestProxy> m_proxy;
};

void GreygatectlTest::init()
{
    m_proxy = std::make_unique<ControlTestProxy>();
    QVERIFY2(m_proxy->start(), qPrintable(m_proxy->startError));
}

void GreygatectlTest::cleanup()
{
    m_proxy.reset();
}

QString GreygatectlTest::writeFile(const QString &name, const QByteArray &bytes)
{
    const QString path = m_proxy->dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        return QString();
    return path;
}

Run GreygatectlTest::ctl(const QStringList &arguments, bool readOnly)
{
    QProcess process;
    const QString tokenFile = readOnly ? ControlTokens::readOnlyFile(m_proxy->dir.path())
                                       : ControlTokens::adminFile(m_proxy->dir.path());
    QStringList args = {QStringLiteral("--proxy"),      m_proxy->url().toString(),
                        QStringLiteral("--token-file"), tokenFile,
                        QStringLiteral("--timeout"),    QStringLiteral("10")};
    args += arguments;
    process.start(program(QStringLiteral("greygatectl")), args);
    Run run;
    if (!process.waitForStarted(5000))
        return run;
    // The proxy lives in this process: keep its event loop turning while the tool runs.
    if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, 20'000)) {
        process.kill();
        process.waitForFinished(5000);
        return run;
    }
    run.code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

void GreygatectlTest::statusPrintsATable()
{
    m_proxy->decide("192.0.2.1", "a@b.example", "c@corp.example");
    const Run run = ctl({QStringLiteral("status")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("FIELD")), qPrintable(run.out + run.err));
    QVERIFY(run.out.contains(QRegularExpression(QStringLiteral("\\ntriplets +1\\n"))));
    QVERIFY(run.out.contains(QRegularExpression(QStringLiteral("\\ndeferred +1\\n"))));
}

void GreygatectlTest::addPolicyExplainAndReleaseEndToEnd()
{
    const QString file = writeFile(
        QStringLiteral("policy.json"),
        R"({"narrative":"Partners skip greylisting","action":"bypass",)"
        R"("from":{"type":"domain","value":"partner.example"},"to":{"type":"everyone"}})");
    Run run = ctl({QStringLiteral("policy"), QStringLiteral("add"), file});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("id 1, version 1")), qPrintable(run.out));

    run = ctl({QStringLiteral("policy"), QStringLiteral("list")});
    QVERIFY(run.out.contains(QStringLiteral("Partners skip greylisting")));

    run = ctl({QStringLiteral("policy"), QStringLiteral("explain"), QStringLiteral("192.0.2.1"),
               QStringLiteral("x@partner.example"), QStringLiteral("y@corp.example")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("bypass")), qPrintable(run.out));
    QCOMPARE(m_proxy->decide("192.0.2.1", "x@partner.example", "y@corp.example"),
             QByteArray("DUNNO"));

    // A deferral, released with the tool: the next retry passes well before the delay.
    QVERIFY(m_proxy->decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));
    run = ctl({QStringLiteral("queue"), QStringLiteral("list"), QStringLiteral("--state"),
               QStringLiteral("deferred")});
    QVERIFY(run.out.contains(QStringLiteral("c@corp.example")));
    QVERIFY(run.out.contains(QStringLiteral("1 of 1 entries")));
    run = ctl({QStringLiteral("queue"), QStringLiteral("release"), QStringLiteral("192.0.2.0/24"),
               QStringLiteral("a@b.example"), QStringLiteral("c@corp.example")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    m_proxy->clock.advanceSeconds(2);
    QCOMPARE(m_proxy->decide("192.0.2.1", "a@b.example", "c@corp.example"), QByteArray("DUNNO"));
}

void GreygatectlTest::queueListAsJson()
{
    m_proxy->decide("192.0.2.1", "a@b.example", "c@corp.example");
    m_proxy->decide("198.51.100.1", "d@e.example", "f@corp.example");
    const Run run = ctl({QStringLiteral("--json"), QStringLiteral("queue"), QStringLiteral("list"),
                         QStringLiteral("--limit"), QStringLiteral("1")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    const QJsonObject page = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(page.value(QStringLiteral("total")).toInt(), 2);
    QCOMPARE(page.value(QStringLiteral("entries")).toArray().size(), 1);
}

void GreygatectlTest::watchPrintsEventsSinceACursor()
{
    m_proxy->decide("192.0.2.1", "a@b.example", "one@corp.example");
    m_proxy->decide("192.0.2.1", "a@b.example", "two@corp.example");
    m_proxy->decide("192.0.2.1", "a@b.example", "three@corp.example");
    const Run run =
        ctl({QStringLiteral("watch"), QStringLiteral("--json"), QStringLiteral("--since"),
             QStringLiteral("1"), QStringLiteral("--count"), QStringLiteral("2")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    const QStringList lines = run.out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    const QJsonObject first = QJsonDocument::fromJson(lines[0].toUtf8()).object();
    QCOMPARE(first.value(QStringLiteral("id")).toInt(), 2);
    QCOMPARE(first.value(QStringLiteral("recipient")).toString(),
             QStringLiteral("two@corp.example"));
}

void GreygatectlTest::reportAsCsv()
{
    m_proxy->decide("192.0.2.1", "a@b.example", "c@corp.example");
    const qint64 now = m_proxy->clock.now();
    const Run run =
        ctl({QStringLiteral("report"), QStringLiteral("--from"), QString::number(now - 3600),
             QStringLiteral("--to"), QString::number(now + 3600)});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    const QStringList lines = run.out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.first(),
             QStringLiteral("time,attempts,deferred,passed,bypassed,blocked,failedToRetry"));
    QCOMPARE(lines.last(), QStringLiteral("total,1,1,0,0,0,0"));
}

void GreygatectlTest::groupsEndToEnd()
{
    Run run = ctl({QStringLiteral("group"), QStringLiteral("add"), QStringLiteral("Partners")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("id ")), qPrintable(run.out));

    run = ctl({QStringLiteral("group"), QStringLiteral("members"), QStringLiteral("add"),
               QStringLiteral("partners"), QStringLiteral("Boss@Partner.test"),
               QStringLiteral("@vip.test")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    run = ctl({QStringLiteral("group"), QStringLiteral("list")});
    QVERIFY(run.out.contains(QRegularExpression(QStringLiteral("custom +2 +Partners\\n"))));

    // The members are in force: a sender of the group is matched by a policy naming it.
    const QString policy = writeFile(
        QStringLiteral("p.json"),
        R"({"narrative":"Partners","action":"bypass","from":{"type":"group","value":"Partners"},)"
        R"("to":{"type":"everyone"}})");
    QCOMPARE(ctl({QStringLiteral("policy"), QStringLiteral("add"), policy}).code, 0);
    QCOMPARE(m_proxy->decide("192.0.2.1", "x@vip.test", "y@corp.example"), QByteArray("DUNNO"));

    run = ctl({QStringLiteral("group"), QStringLiteral("export"), QStringLiteral("Partners")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QCOMPARE(run.out, QStringLiteral("member\nboss@partner.test\n@vip.test\n"));

    // Import adds; --replace makes the file the whole membership.
    const QString csv =
        writeFile(QStringLiteral("m.csv"),
                  "member\r\n# suppliers\r\nsales@supply.test\r\n\"*.cdn.test\"\r\n");
    run = ctl({QStringLiteral("group"), QStringLiteral("import"), QStringLiteral("Partners"), csv});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("2 members read")), qPrintable(run.out));
    run = ctl({QStringLiteral("group"), QStringLiteral("show"), QStringLiteral("Partners")});
    QVERIFY2(run.out.contains(QStringLiteral("4 members")), qPrintable(run.out));
    run = ctl({QStringLiteral("group"), QStringLiteral("import"), QStringLiteral("Partners"), csv,
               QStringLiteral("--replace")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    run = ctl({QStringLiteral("group"), QStringLiteral("show"), QStringLiteral("Partners")});
    QVERIFY2(run.out.endsWith(QStringLiteral("2 members\nsales@supply.test\n*.cdn.test\n")),
             qPrintable(run.out));
    QVERIFY(m_proxy->decide("192.0.2.1", "x@vip.test", "z@corp.example").startsWith("DEFER"));

    run = ctl({QStringLiteral("group"), QStringLiteral("members"), QStringLiteral("remove"),
               QStringLiteral("Partners"), QStringLiteral("*.cdn.test")});
    QVERIFY2(run.code == 0, qPrintable(run.err));

    // A group a policy uses cannot be deleted; once the policy is gone it can.
    run = ctl({QStringLiteral("group"), QStringLiteral("delete"), QStringLiteral("Partners")});
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(QStringLiteral("conflict")), qPrintable(run.err));
    QCOMPARE(ctl({QStringLiteral("policy"), QStringLiteral("delete"), QStringLiteral("1"),
                  QStringLiteral("1")})
                 .code,
             0);
    run = ctl({QStringLiteral("group"), QStringLiteral("delete"), QStringLiteral("Partners")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    run = ctl({QStringLiteral("group"), QStringLiteral("show"), QStringLiteral("Partners")});
    QCOMPARE(run.code, 4);
}

void GreygatectlTest::groupImportRefusesABadCsvWithItsLine()
{
    QCOMPARE(ctl({QStringLiteral("group"), QStringLiteral("add"), QStringLiteral("G")}).code, 0);
    const QString csv =
        writeFile(QStringLiteral("bad.csv"), "member\na@b.test\nnot a member\n@c.test\n");
    // The proxy parses it (group.import) and refuses it whole: exit 1, the line named.
    Run run = ctl({QStringLiteral("group"), QStringLiteral("import"), QStringLiteral("G"), csv});
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(QStringLiteral("line 3")), qPrintable(run.err));
    run = ctl({QStringLiteral("group"), QStringLiteral("show"), QStringLiteral("G")});
    QVERIFY2(run.out.contains(QStringLiteral("0 members")), qPrintable(run.out)); // nothing
    run = ctl({QStringLiteral("group"), QStringLiteral("members"), QStringLiteral("add"),
               QStringLiteral("G"), QStringLiteral("no at sign")});
    QCOMPARE(run.code, 2);
}

void GreygatectlTest::aStaleGroupVersionIsRefused()
{
    QCOMPARE(ctl({QStringLiteral("group"), QStringLiteral("add"), QStringLiteral("G")}).code, 0);
    QCOMPARE(ctl({QStringLiteral("group"), QStringLiteral("members"), QStringLiteral("add"),
                  QStringLiteral("G"), QStringLiteral("a@b.test"), QStringLiteral("--version"),
                  QStringLiteral("1")})
                 .code,
             0);
    // Someone else changed it since version 1 was read.
    const Run run = ctl({QStringLiteral("group"), QStringLiteral("members"),
                         QStringLiteral("remove"), QStringLiteral("G"), QStringLiteral("a@b.test"),
                         QStringLiteral("--version"), QStringLiteral("1")});
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(QStringLiteral("stale")), qPrintable(run.err));
}

void GreygatectlTest::policyEditChecksTheVersion()
{
    const QString file = writeFile(
        QStringLiteral("policy.json"),
        R"({"narrative":"Partners","action":"bypass",)"
        R"("from":{"type":"domain","value":"partner.example"},"to":{"type":"everyone"}})");
    QCOMPARE(ctl({QStringLiteral("policy"), QStringLiteral("add"), file}).code, 0);

    // Edit what `policy show` printed: the version it carries is checked.
    Run run = ctl({QStringLiteral("policy"), QStringLiteral("show"), QStringLiteral("1")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QJsonObject shown = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(shown.value(QStringLiteral("version")).toInt(), 1);
    shown.insert(QStringLiteral("narrative"), QStringLiteral("Partners, edited"));
    const QString edited = writeFile(QStringLiteral("edited.json"), QJsonDocument(shown).toJson());
    run = ctl({QStringLiteral("policy"), QStringLiteral("edit"), QStringLiteral("1"), edited});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("id 1, version 2")), qPrintable(run.out));
    run = ctl({QStringLiteral("policy"), QStringLiteral("list")});
    QVERIFY(run.out.contains(QStringLiteral("Partners, edited")));

    // The same file again was made from version 1: refused, nothing changed.
    run = ctl({QStringLiteral("policy"), QStringLiteral("edit"), QStringLiteral("1"), edited});
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(QStringLiteral("stale version")), qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("version 2")), qPrintable(run.err));
    run = ctl({QStringLiteral("policy"), QStringLiteral("show"), QStringLiteral("1")});
    QCOMPARE(QJsonDocument::fromJson(run.out.toUtf8()).object().value(u"version"_s).toInt(), 2);

    // Without a version in the file nor --version: a usage error.
    shown.remove(QStringLiteral("version"));
    const QString unversioned =
        writeFile(QStringLiteral("unversioned.json"), QJsonDocument(shown).toJson());
    run = ctl({QStringLiteral("policy"), QStringLiteral("edit"), QStringLiteral("1"), unversioned});
    QCOMPARE(run.code, 2);
    run = ctl({QStringLiteral("policy"), QStringLiteral("edit"), QStringLiteral("1"), unversioned,
               QStringLiteral("--version"), QStringLiteral("2")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
}

void GreygatectlTest::autoAllowAddListRemove()
{
    Run run = ctl({QStringLiteral("autoallow"), QStringLiteral("add"),
                   QStringLiteral("friend@ext.test"), QStringLiteral("me@corp.example"),
                   QStringLiteral("--expires"), QStringLiteral("1900000000")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    run = ctl({QStringLiteral("autoallow"), QStringLiteral("list")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(QRegularExpression(
                 QStringLiteral("friend@ext.test +me@corp.example +\\S+ +2030-03-17T"))),
             qPrintable(run.out));
    QVERIFY(run.out.contains(QStringLiteral("1 of 1 entries")));
    run = ctl({QStringLiteral("autoallow"), QStringLiteral("list"), QStringLiteral("--filter"),
               QStringLiteral("nobody")});
    QVERIFY(run.out.contains(QStringLiteral("0 of 0 entries")));
    run = ctl({QStringLiteral("autoallow"), QStringLiteral("remove"),
               QStringLiteral("friend@ext.test"), QStringLiteral("me@corp.example")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    run = ctl({QStringLiteral("autoallow"), QStringLiteral("list")});
    QVERIFY(run.out.contains(QStringLiteral("0 of 0 entries")));
    run = ctl({QStringLiteral("autoallow"), QStringLiteral("add"), QStringLiteral("a@b.test"),
               QStringLiteral("c@corp.example"), QStringLiteral("--expires"),
               QStringLiteral("soon")});
    QCOMPARE(run.code, 2);
}

void GreygatectlTest::exitCodesTellWhatWentWrong_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<bool>("readOnly");
    QTest::addColumn<int>("code");
    QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << false << 2;
    QTest::newRow("release without operands")
        << QStringList{QStringLiteral("queue"), QStringLiteral("release")} << false << 2;
    QTest::newRow("unknown triplet")
        << QStringList{QStringLiteral("queue"), QStringLiteral("delete"),
                       QStringLiteral("192.0.2.0/24"), QStringLiteral("a@b"), QStringLiteral("c@d")}
        << false << 4;
    QTest::newRow("read-only token changing")
        << QStringList{QStringLiteral("policy"), QStringLiteral("delete"), QStringLiteral("1"),
                       QStringLiteral("1")}
        << true << 1;
    QTest::newRow("read-only token reading") << QStringList{QStringLiteral("status")} << true << 0;
}

void GreygatectlTest::exitCodesTellWhatWentWrong()
{
    QFETCH(QStringList, arguments);
    QFETCH(bool, readOnly);
    QFETCH(int, code);
    const Run run = ctl(arguments, readOnly);
    QVERIFY2(run.code == code, qPrintable(QString::number(run.code) + u' ' + run.err));
}

QTEST_GUILESS_MAIN(GreygatectlTest)
#include "tst_greygatectl.moc"
