// SPDX-License-Identifier: GPL-3.0-or-later
// Shadow policies in the daemon's own composition (engine/daemon/Greygated, in process),
// without the control API: an attempt a shadow policy would have bypassed is still
// greylisted, and its would-be effect is on the event and in the shadow tally; through the
// SMTP proxy, a header-From shadow policy is evaluated at the end of DATA with the From:
// header, as an enforcing one is, and still acts on nothing.
#include "../smtp/ProxyTestKit.h"
#include "TestSupport.h"
#include "alerts/DaemonWatch.h"
#include "config/DaemonOptions.h"
#include "daemon/ExitCode.h"
#include "daemon/Greygated.h"

using namespace greygate;
using namespace greygate::smtptest;

namespace {

constexpr qint64 kEnvelopeShadow = 1;
constexpr qint64 kHeaderShadow = 2;

} // namespace

class ShadowCompositionTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(m_backend.listen());
        const QString policies = m_dir.filePath(QStringLiteral("policies.json"));
        QVERIFY(test::writeFile(policies, R"({"policies": [
            {"id": 1, "action": "bypass", "mode": "shadow",
             "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}},
            {"id": 2, "action": "bypass", "mode": "shadow",
             "from": {"type": "domain", "value": "news.test", "basedOn": "header"},
             "to": {"type": "everyone"}}]})"));
        m_smtpPort = test::freeTcpPort();
        DaemonOptions options;
        QString error;
        const DaemonOptions::ParseResult parsed =
            options.parse({QStringLiteral("--inet=127.0.0.1:%1").arg(test::freeTcpPort()),
                           QStringLiteral("--dbdir=") + m_dir.filePath(QStringLiteral("db")),
                           QStringLiteral("--policies=") + policies,
                           QStringLiteral("--smtp-listen=127.0.0.1:%1").arg(m_smtpPort),
                           QStringLiteral("--smtp-backend=127.0.0.1:%1").arg(m_backend.port())},
                          &error);
        QVERIFY2(parsed == DaemonOptions::ParseResult::Run, qPrintable(error));
        m_daemon = std::make_unique<Greygated>(options);
        QCOMPARE(m_daemon->start(), int(ExitOk));
        QCOMPARE(m_daemon->controlPort(), quint16(0)); // no control API
        m_watch = m_daemon->findChild<DaemonWatch *>();
        QVERIFY(m_watch);
    }
    void cleanupTestCase() { m_daemon.reset(); }

    void aShadowPolicyIsTalliedWithoutTheControlApi()
    {
        QTcpSocket postfix;
        postfix.connectToHost(QHostAddress::LocalHost, m_daemon->policyPort());
        QVERIFY(postfix.waitForConnected(5000));
        postfix.write("request=smtpd_access_policy\nprotocol_state=RCPT\n"
                      "client_address=192.0.2.7\nsender=news@partner.test\n"
                      "recipient=alice@corp.test\n\n");
        QByteArray answer;
        QVERIFY(QTest::qWaitFor(
            [&] {
                answer += postfix.readAll();
                return answer.endsWith("\n\n");
            },
            5000));
        // The shadow bypass acted on nothing: the mail is greylisted as before.
        QVERIFY2(answer.startsWith("action=DEFER_IF_PERMIT"), answer.constData());
        const Event *attempt = lastAttempt();
        QVERIFY(attempt);
        QCOMPARE(attempt->sender, QByteArray("news@partner.test"));
        QCOMPARE(attempt->shadow, ShadowEffect::Bypass);
        QCOMPARE(attempt->shadowPolicy, kEnvelopeShadow);
        QCOMPARE(m_watch->events().shadow().total(kEnvelopeShadow).bypass, quint64(1));
    }

    void aHeaderFromShadowPolicyIsEvaluatedAtTheEndOfData_data()
    {
        QTest::addColumn<QByteArray>("from");
        QTest::addColumn<bool>("wouldBypass");
        QTest::newRow("From: at news.test") << QByteArray("News <letter@news.test>") << true;
        QTest::newRow("another From:") << QByteArray("someone@else.test") << false;
    }
    void aHeaderFromShadowPolicyIsEvaluatedAtTheEndOfData()
    {
        QFETCH(QByteArray, from);
        QFETCH(bool, wouldBypass);
        const quint64 before = m_watch->events().shadow().total(kHeaderShadow).bypass;
        Client c;
        QVERIFY(c.connectTo(m_smtpPort));
        QCOMPARE(code(c.reply()), 220);
        c.send("EHLO client.example\r\n");
        QCOMPARE(code(c.reply()), 250);
        c.send("MAIL FROM:<bounce-7@esp.test>\r\nRCPT TO:<bob@corp.test>\r\nDATA\r\n");
        const QList<QByteArray> r = c.replies(3);
        QCOMPARE(r.size(), 3);
        QCOMPARE(code(r[1]), 250); // held for the header, as for an enforcing policy
        QCOMPARE(code(r[2]), 354);
        c.send("From: " + from + "\r\nSubject: news\r\n\r\nbody\r\n.\r\n");
        const QByteArray final = c.reply();
        // Shadow only: greylisted whatever the header says.
        QVERIFY2(final.startsWith("451 4.7.1"), final.constData());
        const Event *attempt = lastAttempt();
        QVERIFY(attempt);
        QCOMPARE(attempt->source, EventSource::Smtp);
        QCOMPARE(attempt->recipient, QByteArray("bob@corp.test"));
        QCOMPARE(attempt->shadow, wouldBypass ? ShadowEffect::Bypass : ShadowEffect::None);
        QCOMPARE(m_watch->events().shadow().total(kHeaderShadow).bypass,
                 before + (wouldBypass ? 1 : 0));
        c.send("QUIT\r\n");
        QVERIFY(c.waitClosed());
    }

private:
    const Event *lastAttempt() const
    {
        const EventLog &events = m_watch->events();
        std::vector<const Event *> all;
        events.since(events.firstId() - 1, events.capacity(), &all);
        for (auto it = all.rbegin(); it != all.rend(); ++it) {
            if ((*it)->type == EventType::Attempt)
                return *it;
        }
        return nullptr;
    }

    QTemporaryDir m_dir;
    TestBackend m_backend;
    quint16 m_smtpPort = 0;
    std::unique_ptr<Greygated> m_daemon;
    DaemonWatch *m_watch = nullptr;
};

QTEST_GUILESS_MAIN(ShadowCompositionTest)
#include "tst_shadow_composition.moc"
