// SPDX-License-Identifier: GPL-3.0-or-later
// Sender rewriting on two greygated sharing one real redis-server (docs/rewriting.md): a
// table saved through A with greygatectl is stored in Redis and applies on B within a
// second, without a restart; a sender deferred through A with one per-message tag passes on
// B after the delay with another tag, and a greygated started afterwards loads the table.
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "RedisTestServer.h"
#include "TestSupport.h"

#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

constexpr int StartTimeoutMs = 30'000;

const QByteArray kRules = R"({"rules": [
  {"id": "mailer", "kind": "regex", "pattern": "^bounces-[0-9a-f]{8}-(.+)$",
   "replacement": "bounces-\\1"}]})";

} // namespace

class TestRedisRewriting : public QObject
{
    Q_OBJECT

private:
    RedisTestServer m_redis;
    QTemporaryDir m_work;
    int m_dirs = 0;

    // Starts a greygated on the shared store with a control API; its control port in *control.
    bool start(DaemonProcess &daemon, quint16 *control, QString *error)
    {
        const QString dbdir = m_work.filePath(u"db%1"_s.arg(++m_dirs));
        if (!daemon.startOnFreePort(
                program(u"greygated"_s),
                [&](quint16 port) {
                    return QStringList{u"--inet=127.0.0.1:%1"_s.arg(port), u"--dbdir="_s + dbdir,
                                       u"--store="_s + m_redis.url(), u"--delay=1"_s,
                                       u"--control-listen=127.0.0.1:0"_s};
                },
                StartTimeoutMs, error))
            return false;
        *control = daemon.portFromLog(u"control API listening"_s);
        m_tokens.insert(*control, dbdir + u"/control.token"_s);
        return *control != 0;
    }
    ProgramResult ctl(quint16 control, const QStringList &args)
    {
        return runProgram(program(u"greygatectl"_s),
                          QStringList{u"--proxy"_s, u"ws://127.0.0.1:%1"_s.arg(control),
                                      u"--token-file"_s, m_tokens.value(control)} +
                              args,
                          30'000);
    }
    QHash<quint16, QString> m_tokens;

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QVERIFY(m_work.isValid());
    }

    void tableSavedThroughAAppliesOnBAndOnHostsStartedLater()
    {
        DaemonProcess a(m_work.filePath(u"a.log"_s)), b(m_work.filePath(u"b.log"_s));
        quint16 controlA = 0, controlB = 0;
        QString error;
        QVERIFY2(start(a, &controlA, &error), qPrintable(error + a.log()));
        QVERIFY2(start(b, &controlB, &error), qPrintable(error + b.log()));

        const QString rules = m_work.filePath(u"rules.json"_s);
        QVERIFY(writeFile(rules, kRules));
        const ProgramResult saved = ctl(controlA, {u"rewriting"_s, u"set"_s, rules});
        QVERIFY2(saved.exitCode == 0, saved.err.constData());

        // B hears of the change on the shared store's channel and reloads it.
        QTRY_VERIFY_WITH_TIMEOUT(
            ctl(controlB, {u"rewriting"_s, u"list"_s, u"--json"_s}).out.contains("\"mailer\""),
            5'000);
        PolicyClient toA, toB;
        QVERIFY(toA.connectTo(a.port()));
        QVERIFY(toB.connectTo(b.port()));
        QVERIFY(toA.askRcpt("198.51.100.9", "bounces-1a2b3c4d-news@mailer.test", "bob@corp.test")
                    .value_or("NO ANSWER")
                    .startsWith("DEFER_IF_PERMIT"));
        QTest::qWait(1100);
        const QByteArray retry =
            toB.askRcpt("198.51.100.9", "bounces-5e6f7a8b-news@mailer.test", "bob@corp.test")
                .value_or("NO ANSWER");
        QVERIFY2(retry.startsWith("PREPEND X-Greylist:") || retry == "DUNNO", retry.constData());

        DaemonProcess c(m_work.filePath(u"c.log"_s));
        quint16 controlC = 0;
        QVERIFY2(start(c, &controlC, &error), qPrintable(error + c.log()));
        const ProgramResult listed = ctl(controlC, {u"rewriting"_s, u"list"_s});
        QVERIFY2(listed.exitCode == 0 && listed.out.contains("mailer"), listed.out.constData());
        QVERIFY(a.terminate() && b.terminate() && c.terminate());
    }
};

QTEST_GUILESS_MAIN(TestRedisRewriting)
#include "tst_redis_rewriting.moc"
