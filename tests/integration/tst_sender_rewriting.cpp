// SPDX-License-Identifier: GPL-3.0-or-later
// Sender rewriting on a real greygated, driven by the real greygatectl (docs/rewriting.md):
// the built-in table is listed; a proposed table is tested on sample addresses without
// being saved; an invalid one is refused with the field named; a saved one is version-checked
// (a stale version and the read-only token are refused), keys the next decisions (a mailer
// whose per-message tag no built-in rule knows is deferred once, then passes on a retry with
// another tag), and survives kill -9 and a restart. --no-strip-sender-tags keeps the table
// but keys senders as they are.
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

constexpr int StartTimeoutMs = 30'000;
constexpr int CtlTimeoutMs = 30'000;

// The mailer's bounces carry a hex tag per message: bounces-<8 hex>-<list>@mailer.test.
// (No apostrophe inside the raw string below: moc reads it as a character literal.)
const QByteArray kRules = R"({"rules": [
  {"id": "srs", "kind": "srs"},
  {"id": "mailer", "kind": "regex", "description": "per-message bounce tags of the mailer",
   "pattern": "^bounces-[0-9a-f]{8}-(.+)$", "replacement": "bounces-\\1"},
  {"id": "plus-tag", "kind": "plusTag", "separators": "+"}
]})";

struct Ctl
{
    int code = -1;
    QString out;
    QString err;
};

} // namespace

class SenderRewritingTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void rulesAreTestedSavedAppliedAndKeptAcrossAKill();
    void noStripSenderTagsKeysSendersAsTheyAre();

private:
    bool startDaemon(DaemonProcess &daemon, const QStringList &extra = {});
    Ctl ctl(const QStringList &arguments, bool readOnly = false);
    QByteArray ask(quint16 port, const QByteArray &sender);

    QTemporaryDir m_work;
    QString m_dbdir;
    QString m_rulesFile;
    quint16 m_controlPort = 0;
};

void SenderRewritingTest::initTestCase()
{
    QVERIFY(m_work.isValid());
    m_rulesFile = m_work.filePath(u"rules.json"_s);
    QVERIFY(writeFile(m_rulesFile, kRules));
}

bool SenderRewritingTest::startDaemon(DaemonProcess &daemon, const QStringList &extra)
{
    QString error;
    const bool started = daemon.startOnFreePort(
        program(u"greygated"_s),
        [&](quint16 port) {
            return QStringList{u"--inet=127.0.0.1:"_s + QString::number(port),
                               u"--dbdir="_s + m_dbdir, u"--delay=1"_s,
                               u"--control-listen=127.0.0.1:0"_s} +
                   extra;
        },
        StartTimeoutMs, &error);
    if (!started) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    m_controlPort = daemon.portFromLog(u"control API listening"_s);
    return m_controlPort != 0;
}

Ctl SenderRewritingTest::ctl(const QStringList &arguments, bool readOnly)
{
    QStringList args = {u"--proxy"_s,
                        u"ws://127.0.0.1:"_s + QString::number(m_controlPort),
                        u"--token-file"_s,
                        m_dbdir + (readOnly ? u"/control-readonly.token"_s : u"/control.token"_s),
                        u"--timeout"_s,
                        u"20"_s};
    const ProgramResult r = runProgram(program(u"greygatectl"_s), args + arguments, CtlTimeoutMs);
    return Ctl{r.finished && r.exitStatus == QProcess::NormalExit ? r.exitCode : -2,
               QString::fromUtf8(r.out), QString::fromUtf8(r.err)};
}

QByteArray SenderRewritingTest::ask(quint16 port, const QByteArray &sender)
{
    PolicyClient postfix;
    if (!postfix.connectTo(port))
        return "NO CONNECTION";
    return postfix.askRcpt("192.0.2.10", sender, "bob@corp.test").value_or("NO ANSWER");
}

void SenderRewritingTest::rulesAreTestedSavedAppliedAndKeptAcrossAKill()
{
    m_dbdir = m_work.filePath(u"db"_s);
    DaemonProcess daemon(m_work.filePath(u"greygated.log"_s));
    QVERIFY(startDaemon(daemon));

    Ctl run = ctl({u"rewriting"_s, u"list"_s});
    QVERIFY2(run.code == 0, qPrintable(run.err + daemon.log()));
    QVERIFY2(run.out.startsWith(u"version 0\n"_s), qPrintable(run.out));
    for (const QString &id : {u"srs"_s, u"batv"_s, u"plus-tag"_s, u"verp"_s})
        QVERIFY2(run.out.contains(id), qPrintable(run.out));

    // Without a rule for it, each new tag is a new triplet: deferred again after the delay.
    QVERIFY(ask(daemon.port(), "bounces-1a2b3c4d-news@mailer.test").startsWith("DEFER_IF_PERMIT"));
    QTest::qWait(1100);
    QVERIFY(ask(daemon.port(), "bounces-5e6f7a8b-news@mailer.test").startsWith("DEFER_IF_PERMIT"));

    // The proposed table on samples: keys and the rules that fired, nothing saved.
    run = ctl({u"rewriting"_s, u"test"_s, u"--rules"_s, m_rulesFile,
               u"Bounces-DEADBEEF-news@Mailer.test"_s, u"erin+x@example.org"_s});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(QRegularExpression(
                 u"Bounces-DEADBEEF-news@Mailer.test +bounces-news@mailer.test +mailer"_s)),
             qPrintable(run.out));
    QVERIFY2(
        run.out.contains(QRegularExpression(u"erin\\+x@example.org +erin@example.org +plus-tag"_s)),
        qPrintable(run.out));
    QVERIFY(ctl({u"rewriting"_s, u"list"_s}).out.startsWith(u"version 0\n"_s));

    // Refusals: an invalid pattern (field named), the read-only token, a stale version.
    const QString bad = m_work.filePath(u"bad.json"_s);
    // Outside the macro: moc reads macro arguments without knowing raw strings.
    const QByteArray badRules =
        R"({"rules":[{"id":"x","kind":"regex","pattern":"(a","replacement":"b"}]})";
    QVERIFY(writeFile(bad, badRules));
    run = ctl({u"rewriting"_s, u"set"_s, bad});
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(u"params.rules[0].pattern"_s) &&
                 run.err.contains(u"not a valid regular expression"_s),
             qPrintable(run.err));
    run = ctl({u"rewriting"_s, u"set"_s, m_rulesFile}, true);
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(u"forbidden"_s), qPrintable(run.err));

    run = ctl({u"rewriting"_s, u"set"_s, m_rulesFile, u"--version"_s, u"0"_s});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QCOMPARE(run.out, u"saved: version 1, 3 rule(s)\n"_s);
    run = ctl({u"rewriting"_s, u"set"_s, m_rulesFile, u"--version"_s, u"0"_s});
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(u"stale_version"_s) && run.err.contains(u"reload"_s),
             qPrintable(run.err));

    // The next decisions key on the new table: deferred once, then a retry with another tag
    // is the same triplet and passes.
    QVERIFY(ask(daemon.port(), "bounces-0badcafe-news@mailer.test").startsWith("DEFER_IF_PERMIT"));
    QTest::qWait(1100);
    const QByteArray retry = ask(daemon.port(), "bounces-feedf00d-news@mailer.test");
    QVERIFY2(retry.startsWith("PREPEND X-Greylist:") || retry == "DUNNO", retry.constData());
    // The built-in VERP rule is gone from this table: numbers are kept.
    QVERIFY(ask(daemon.port(), "list-17@lists.test").startsWith("DEFER_IF_PERMIT"));

    // kill -9: the table answered for is kept, and so are its keys.
    daemon.kill();
    DaemonProcess again(m_work.filePath(u"greygated-2.log"_s));
    QVERIFY(startDaemon(again));
    run = ctl({u"rewriting"_s, u"list"_s, u"--json"_s});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(u"\"version\": 1"_s) && run.out.contains(u"\"id\": \"mailer\""_s),
             qPrintable(run.out));
    QVERIFY2(!run.out.contains(u"\"id\": \"verp\""_s), qPrintable(run.out));
    const QByteArray afterKill = ask(again.port(), "bounces-12345678-news@mailer.test");
    QVERIFY2(afterKill.startsWith("PREPEND X-Greylist:") || afterKill == "DUNNO",
             afterKill.constData());
    QVERIFY(again.terminate());
}

void SenderRewritingTest::noStripSenderTagsKeysSendersAsTheyAre()
{
    m_dbdir = m_work.filePath(u"db-nostrip"_s);
    DaemonProcess daemon(m_work.filePath(u"greygated-nostrip.log"_s));
    QVERIFY(startDaemon(daemon, {u"--no-strip-sender-tags"_s}));
    Ctl run = ctl({u"rewriting"_s, u"list"_s});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(u"not in use"_s), qPrintable(run.out));
    QVERIFY(ask(daemon.port(), "erin+1@example.org").startsWith("DEFER_IF_PERMIT"));
    QTest::qWait(1100);
    // Another tag is another sender here.
    QVERIFY(ask(daemon.port(), "erin+2@example.org").startsWith("DEFER_IF_PERMIT"));
    QVERIFY(daemon.terminate());
}

QTEST_GUILESS_MAIN(SenderRewritingTest)
#include "tst_sender_rewriting.moc"
