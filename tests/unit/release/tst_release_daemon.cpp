// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 11 end to end: a real greygated driven by the real greygatectl. A sender released
// with `release --sender ... --for 2h --reason ...` bypasses greylisting at once and is
// listed with its reason; `expect --from DOMAIN --to RECIPIENT` lets only that recipient's
// mail through; `releases revoke` ends a release (greylisted again); every action is in
// `releases audit`; `delay` reports the delay of a triplet that passed (--delay=1).
#include "DaemonProcess.h"
#include "PolicyClient.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate::test;
using namespace Qt::StringLiterals;

class ReleaseDaemonTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void greygatectlReleasesExpectsRevokesAndReportsDelays();

private:
    QString ctl(const QStringList &arguments, int *code = nullptr);
    QString m_dbdir;
    quint16 m_controlPort = 0;
};

QString ReleaseDaemonTest::ctl(const QStringList &arguments, int *code)
{
    QStringList args = {u"--proxy"_s,      u"ws://127.0.0.1:"_s + QString::number(m_controlPort),
                        u"--token-file"_s, m_dbdir + u"/control.token"_s,
                        u"--timeout"_s,    u"20"_s};
    args += arguments;
    const ProgramResult r = runProgram(program(u"greygatectl"_s), args, 30'000);
    const int exit = r.finished && r.exitStatus == QProcess::NormalExit ? r.exitCode : -2;
    if (code)
        *code = exit;
    else if (exit != 0)
        qWarning("greygatectl %s: %s", qPrintable(arguments.join(u' ')), r.err.constData());
    return QString::fromUtf8(r.out);
}

void ReleaseDaemonTest::greygatectlReleasesExpectsRevokesAndReportsDelays()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    m_dbdir = dir.filePath(u"db"_s);
    DaemonProcess daemon(dir.filePath(u"greygated.log"_s));
    QString error;
    QVERIFY2(daemon.startOnFreePort(
                 program(u"greygated"_s),
                 [&](quint16 port) {
                     return QStringList{u"--inet=127.0.0.1:"_s + QString::number(port),
                                        u"--dbdir="_s + m_dbdir, u"--delay=1"_s,
                                        u"--control-listen=127.0.0.1:0"_s};
                 },
                 30'000, &error),
             qPrintable(error));
    const QRegularExpression re(u"msg=\"control API listening\"[^\\n]* port=(\\d+)"_s);
    QVERIFY(QTest::qWaitFor(
        [&] {
            const QRegularExpressionMatch m = re.match(daemon.log());
            m_controlPort = m.hasMatch() ? quint16(m.captured(1).toUInt()) : 0;
            return m_controlPort != 0;
        },
        10'000));
    PolicyClient postfix;
    QVERIFY(postfix.connectTo(daemon.port()));

    int code = -1;
    QString out = ctl({u"release"_s, u"--sender"_s, u"invoices@partner.test"_s, u"--for"_s, u"2h"_s,
                       u"--reason"_s, u"invoice due today"_s},
                      &code);
    QCOMPARE(code, 0);
    QVERIFY2(out.startsWith(u"release "_s) && out.contains(u" until "_s), qPrintable(out));
    std::optional<QByteArray> answer =
        postfix.askRcpt("203.0.113.5", "invoices@partner.test", "alice@corp.test", "I1");
    QVERIFY(answer);
    QCOMPARE(*answer, QByteArray("DUNNO"));
    out = ctl({u"releases"_s});
    QVERIFY2(out.contains(u"invoices@partner.test"_s) && out.contains(u"invoice due today"_s) &&
                 out.contains(QRegularExpression(u"\\b(1h59m|2h00m)\\b"_s)),
             qPrintable(out));

    QCOMPARE(ctl({u"expect"_s, u"--from"_s, u"bank.test"_s, u"--to"_s, u"alice@corp.test"_s,
                  u"--for"_s, u"1h"_s, u"--reason"_s, u"password reset"_s},
                 &code)
                 .isEmpty(),
             false);
    QCOMPARE(code, 0);
    answer = postfix.askRcpt("198.51.100.9", "noreply@bank.test", "alice@corp.test", "I2");
    QCOMPARE(answer.value_or(QByteArray()), QByteArray("DUNNO"));
    answer = postfix.askRcpt("198.51.100.9", "noreply@bank.test", "bob@corp.test", "I3");
    QVERIFY(answer && answer->startsWith("DEFER_IF_PERMIT"));

    // Without a reason nothing is released, and greygatectl says what is missing.
    ctl({u"release"_s, u"--domain"_s, u"x.test"_s, u"--for"_s, u"1h"_s}, &code);
    QCOMPARE(code, 2);

    const QJsonArray releases = QJsonDocument::fromJson(ctl({u"--json"_s, u"releases"_s}).toUtf8())
                                    .object()
                                    .value(u"releases"_s)
                                    .toArray();
    QCOMPARE(releases.size(), 2);
    const QString first = QString::number(releases[0].toObject().value(u"id"_s).toInteger());
    ctl({u"releases"_s, u"revoke"_s, first}, &code);
    QCOMPARE(code, 0);
    // The soonest end first: the expectation, revoked, so that mail is greylisted again.
    QCOMPARE(releases[0].toObject().value(u"domain"_s).toString(), u"bank.test"_s);
    answer = postfix.askRcpt("198.51.100.9", "noreply@bank.test", "alice@corp.test", "I6");
    QVERIFY(answer && answer->startsWith("DEFER_IF_PERMIT"));
    out = ctl({u"releases"_s, u"audit"_s});
    QVERIFY2(out.count(u"release.create"_s) == 2 && out.count(u"release.revoke"_s) == 1 &&
                 out.contains(u"password reset"_s),
             qPrintable(out));

    // A triplet that passes after the delay: its delay is counted within a second or two.
    answer = postfix.askRcpt("192.0.2.7", "a@slow.test", "carol@corp.test", "I4");
    QVERIFY(answer && answer->startsWith("DEFER_IF_PERMIT"));
    QTest::qWait(2'100);
    answer = postfix.askRcpt("192.0.2.7", "a@slow.test", "carol@corp.test", "I5");
    QVERIFY2(answer && answer->startsWith("PREPEND X-Greylist:"), answer->constData());
    QJsonObject delay;
    QVERIFY(QTest::qWaitFor(
        [&] {
            delay = QJsonDocument::fromJson(ctl({u"--json"_s, u"delay"_s}).toUtf8()).object();
            return delay.value(u"total"_s).toObject().value(u"count"_s).toInteger() == 1;
        },
        10'000));
    const qint64 max = delay.value(u"total"_s).toObject().value(u"max"_s).toInteger();
    QVERIFY2(max >= 2 && max <= 10, qPrintable(QString::number(max)));
    QCOMPARE(delay.value(u"domains"_s).toArray()[0].toObject().value(u"domain"_s).toString(),
             u"slow.test"_s);
    QVERIFY(daemon.terminate());
}

QTEST_GUILESS_MAIN(ReleaseDaemonTest)
#include "tst_release_daemon.moc"
