// SPDX-License-Identifier: GPL-3.0-or-later
// Policies kept as code: greygated --policies=FILE imports the document at start, answers by
// it through the policy protocol, and after kill -9 and a restart WITHOUT --policies (and
// without the internal options) answers the same: policies, groups, the internal
// configuration and the auto allow entry it learned are all in the store. An invalid
// document refuses the start with exit code 2, the field named, and the dbdir untouched.

#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;

namespace {

constexpr int StartTimeoutMs = 30'000;

const QByteArray kDocument = QByteArrayLiteral(R"({
  "policies": [
    {"id": 1, "narrative": "Partners skip greylisting", "action": "bypass",
     "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"},
     "enabled": true},
    {"id": 2, "narrative": "Suppliers, from their relays", "action": "bypass",
     "from": {"type": "group", "value": "Suppliers"}, "to": {"type": "internal"},
     "sourceRanges": ["203.0.113.0/24"]}
  ],
  "groups": [
    {"name": "Blocked Senders", "members": ["spam@bad.test", "@worse.test"]},
    {"name": "Permitted Senders", "members": ["friend@pal.test"]},
    {"name": "Suppliers", "members": ["@supply.test", "orders@parts.test"]}
  ]
})");

QString greygated()
{
    return program(QStringLiteral("greygated"));
}

// Every file under dir with a hash of its content: "nothing changed" made checkable.
QMap<QString, QByteArray> snapshot(const QString &dir)
{
    QMap<QString, QByteArray> out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly))
            out.insert(path, QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256));
    }
    return out;
}

QByteArray describe(const ProgramResult &r)
{
    return "exit " + QByteArray::number(r.exitCode) + (r.finished ? "" : " (killed)") +
           "\n--- stderr:\n" + r.err + "\n--- stdout:\n" + r.out;
}

} // namespace

class PoliciesPersistTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void policiesGroupsAndAutoAllowSurviveKillAndRestartWithoutTheFile();
    void invalidDocumentRefusesStartAndChangesNothing_data();
    void invalidDocumentRefusesStartAndChangesNothing();

private:
    // The answers the document above (and one learned auto allow entry) must give.
    void checkBehaviour(quint16 port, bool learnFirst);
    bool startDaemon(DaemonProcess &daemon, const QStringList &extra, QString *error);

    QTemporaryDir m_work;
    QString m_dbdir;
    QString m_policies;
};

void PoliciesPersistTest::initTestCase()
{
    QVERIFY(m_work.isValid());
    m_dbdir = m_work.filePath(QStringLiteral("db"));
    m_policies = m_work.filePath(QStringLiteral("policies.json"));
    QVERIFY(writeFile(m_policies, kDocument));
}

bool PoliciesPersistTest::startDaemon(DaemonProcess &daemon, const QStringList &extra,
                                      QString *error)
{
    return daemon.startOnFreePort(
        greygated(),
        [&](quint16 port) {
            return QStringList{QStringLiteral("--inet=127.0.0.1:%1").arg(port),
                               QStringLiteral("--dbdir=") + m_dbdir,
                               QStringLiteral("--delay=3600")} +
                   extra;
        },
        StartTimeoutMs, error);
}

void PoliciesPersistTest::checkBehaviour(quint16 port, bool learnFirst)
{
    PolicyClient client;
    QVERIFY2(client.connectTo(port), qPrintable(client.errorString()));
    const QByteArray outside = "198.51.100.9";
    const auto askRcpt = [&](const QByteArray &ip, const QByteArray &from, const QByteArray &to) {
        return client.askRcpt(ip, from, to).value_or("NO ANSWER: " + client.errorString().toUtf8());
    };
    QCOMPARE(askRcpt(outside, "spam@bad.test", "alice@example.com"),
             QByteArray("REJECT 5.7.1 Sender blocked by policy"));
    QCOMPARE(askRcpt(outside, "anyone@worse.test", "alice@example.com"),
             QByteArray("REJECT 5.7.1 Sender blocked by policy"));
    QCOMPARE(askRcpt(outside, "friend@pal.test", "alice@example.com"), QByteArray("DUNNO"));
    QCOMPARE(askRcpt(outside, "news+tag@partner.test", "alice@example.com"), QByteArray("DUNNO"));
    QCOMPARE(askRcpt("203.0.113.40", "orders@parts.test", "alice@example.com"),
             QByteArray("DUNNO"));
    // The supplier policy needs its relays and an internal recipient.
    QVERIFY(askRcpt(outside, "orders@parts.test", "alice@example.com").startsWith("DEFER_IF"));
    QVERIFY(askRcpt("203.0.113.40", "orders@parts.test", "x@far.test").startsWith("DEFER_IF"));
    QVERIFY(askRcpt(outside, "someone@else.test", "alice@example.com").startsWith("DEFER_IF"));

    const QByteArray reply = "pen@correspondent.test";
    if (learnFirst) {
        QVERIFY(askRcpt(outside, reply, "alice@example.com").startsWith("DEFER_IF"));
        // An authenticated submission from alice to the correspondent: learned, not greylisted.
        PolicyClient::Attributes outbound =
            PolicyClient::rcptRequest("198.51.100.77", "alice@example.com", reply, "submission.1");
        outbound.append({QByteArrayLiteral("sasl_username"), QByteArrayLiteral("alice")});
        QCOMPARE(client.ask(outbound).value_or("NO ANSWER"), QByteArray("DUNNO"));
        // And an internal sender from an internal network, without authentication.
        QCOMPARE(askRcpt("10.20.30.40", "bob@example.com", "ann@other-corp.test"),
                 QByteArray("DUNNO"));
    }
    QCOMPARE(askRcpt(outside, reply, "alice@example.com"), QByteArray("DUNNO"));
    QCOMPARE(askRcpt(outside, "ann@other-corp.test", "bob@example.com"), QByteArray("DUNNO"));
    QVERIFY(askRcpt(outside, reply, "carol@example.com").startsWith("DEFER_IF"));
}

void PoliciesPersistTest::policiesGroupsAndAutoAllowSurviveKillAndRestartWithoutTheFile()
{
    QString error;
    {
        DaemonProcess daemon(m_work.filePath(QStringLiteral("first.log")));
        QVERIFY2(startDaemon(daemon,
                             {QStringLiteral("--policies=") + m_policies,
                              QStringLiteral("--internal-domains=example.com"),
                              QStringLiteral("--internal-networks=10.0.0.0/8")},
                             &error),
                 qPrintable(error));
        checkBehaviour(daemon.port(), true);
        if (QTest::currentTestFailed())
            qWarning("%s", qPrintable(daemon.log()));
        daemon.kill(); // kill -9: what was answered must already be in the store
    }
    DaemonProcess again(m_work.filePath(QStringLiteral("second.log")));
    QVERIFY2(startDaemon(again, {}, &error), qPrintable(error));
    checkBehaviour(again.port(), false);
    if (QTest::currentTestFailed())
        qWarning("%s", qPrintable(again.log()));
    // Logged before the first answer; the log file may trail a little behind.
    QTRY_VERIFY2_WITH_TIMEOUT(
        again.log().contains(QStringLiteral("policies=2 groups=3 auto_allow=2")),
        qPrintable(again.log()), 10'000);
    QVERIFY2(again.terminate(), qPrintable(again.log()));
    QCOMPARE(again.exitCode(), 0);
}

void PoliciesPersistTest::invalidDocumentRefusesStartAndChangesNothing_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<QString>("field"); // what the error must name

    QTest::newRow("unknown field")
        << QByteArray(R"({"policies": [{"action": "bypass", "from": {"type": "everyone"},
                          "to": {"type": "everyone"}, "sourceRange": ["10.0.0.0/8"]}]})")
        << QStringLiteral("policies[0].sourceRange: unknown field");
    QTest::newRow("bad CIDR")
        << QByteArray(R"({"policies": [{"action": "bypass", "from": {"type": "everyone"},
                          "to": {"type": "everyone"}, "sourceRanges": ["10.0.0.1/8"]}]})")
        << QStringLiteral("policies[0].sourceRanges[0]");
    QTest::newRow("end before start")
        << QByteArray(R"({"policies": [{"action": "bypass", "from": {"type": "everyone"},
                          "to": {"type": "everyone"}, "start": "2027-02-01T00:00:00Z",
                          "end": "2027-01-01T00:00:00Z"}]})")
        << QStringLiteral("policies[0].end");
    QTest::newRow("unknown group") << QByteArray(R"({"policies": [{"action": "bypass",
                          "from": {"type": "group", "value": "VIP"}, "to": {"type": "everyone"}}]})")
                                   << QStringLiteral("policies[0].from.value");
    QTest::newRow("not JSON") << QByteArray("{\"policies\": [") << QStringLiteral("--policies=");
}

void PoliciesPersistTest::invalidDocumentRefusesStartAndChangesNothing()
{
    QFETCH(QByteArray, document);
    QFETCH(QString, field);
    // An existing dbdir with the good document in it (the test above, or made here).
    if (!QFileInfo::exists(m_dbdir + QStringLiteral("/greygate.db"))) {
        DaemonProcess daemon(m_work.filePath(QStringLiteral("seed.log")));
        QString error;
        QVERIFY2(startDaemon(daemon, {QStringLiteral("--policies=") + m_policies}, &error),
                 qPrintable(error));
        QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
    }
    const QMap<QString, QByteArray> before = snapshot(m_dbdir);
    QVERIFY(!before.isEmpty());

    const QString bad = m_work.filePath(QStringLiteral("bad.json"));
    QVERIFY(writeFile(bad, document));
    const ProgramResult r =
        runProgram(greygated(),
                   {QStringLiteral("--inet=127.0.0.1:%1").arg(freeTcpPort()),
                    QStringLiteral("--dbdir=") + m_dbdir, QStringLiteral("--policies=") + bad},
                   StartTimeoutMs);
    QVERIFY2(r.finished && r.exitStatus == QProcess::NormalExit, describe(r).constData());
    QVERIFY2(r.exitCode == 2, describe(r).constData()); // bad configuration
    QVERIFY2(QString::fromUtf8(r.err).contains(field), describe(r).constData());
    QVERIFY2(r.err.contains("invalid policy configuration"), describe(r).constData());
    QCOMPARE(snapshot(m_dbdir), before);

    // ... and the policies already stored still decide.
    DaemonProcess daemon(m_work.filePath(QStringLiteral("after-refusal.log")));
    QString error;
    QVERIFY2(startDaemon(daemon, {}, &error), qPrintable(error));
    PolicyClient client;
    QVERIFY(client.connectTo(daemon.port()));
    QCOMPARE(
        client.askRcpt("198.51.100.9", "spam@bad.test", "alice@example.com").value_or("NO ANSWER"),
        QByteArray("REJECT 5.7.1 Sender blocked by policy"));
    QCOMPARE(
        client.askRcpt("198.51.100.9", "x@partner.test", "alice@example.com").value_or("NO ANSWER"),
        QByteArray("DUNNO"));
    QVERIFY2(daemon.terminate(), qPrintable(daemon.log()));
}

QTEST_GUILESS_MAIN(PoliciesPersistTest)
#include "tst_policies_persist.moc"
