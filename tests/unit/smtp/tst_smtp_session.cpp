// SPDX-License-Identifier: GPL-3.0-or-later
// The SMTP proxy's client session against the real decision engine (SQLite store, greylist
// engine, policy handler) and an in-process backend: greylisting at RCPT without touching
// the backend, relaying with XCLIENT and X-Greylist, PIPELINING order, the recipient limit,
// STARTTLS injection, DATA framing, timeouts, backend failures and the 421 on shutdown.

#include "ProxyTestKit.h"

#include <QProcess>
#include <QTimer>
#include <algorithm>

using namespace greygate;
using namespace greygate::smtptest;

namespace {

// Generates a self-signed certificate and key for STARTTLS into dir.
bool makeCertificate(const QTemporaryDir &dir, QString *cert, QString *key)
{
    *cert = dir.filePath(QStringLiteral("cert.pem"));
    *key = dir.filePath(QStringLiteral("key.pem"));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                   QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-days"),
                   QStringLiteral("1"), QStringLiteral("-subj"),
                   QStringLiteral("/CN=mx.proxy.test"), QStringLiteral("-keyout"), *key,
                   QStringLiteral("-out"), *cert});
    return openssl.waitForFinished(60000) && openssl.exitCode() == 0;
}

// The events of one type in the log, oldest first.
QList<Event> eventsOf(const EventLog &log, EventType type)
{
    std::vector<const Event *> all;
    log.since(0, log.capacity(), &all);
    QList<Event> out;
    for (const Event *e : all) {
        if (e->type == type)
            out.append(*e);
    }
    return out;
}

// The shared store's side of an asynchronous decision (what RedisDecider does over the
// network): answers later from the event loop with a fixed verdict, or "unreachable".
class LaterDecider final : public AsyncTripletDecider
{
public:
    std::optional<Verdict> verdict = Verdict::Defer; // nullopt: unreachable
    int asked = 0;
    void decide(const TripletKey &, std::function<void(const Decision *)> done) override
    {
        ++asked;
        QTimer::singleShot(1, [this, done = std::move(done)] {
            Decision d;
            if (verdict) {
                d.verdict = *verdict;
                d.waitSeconds = 42;
            }
            done(verdict ? &d : nullptr);
        });
    }
    bool failOpen() const override { return false; }
};

} // namespace

class TestSmtpSession : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<Proxy> m_proxy;

    bool startProxy(const std::function<void(SmtpProxyOptions &)> &tweak = {},
                    const QByteArray &policies = {})
    {
        m_proxy = std::make_unique<Proxy>();
        return m_proxy->start(tweak, policies);
    }
    bool greet(Client &c) { return m_proxy->greet(c); }

    // Makes the triplet (127.0.0.1, alice@sender.example, rcpt) pass: first sight, then
    // the greylist delay goes by on the manual clock.
    void prePass(const QByteArray &rcpt)
    {
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<" + rcpt + ">\r\nQUIT\r\n");
        const QList<QByteArray> r = c.replies(3);
        QCOMPARE(r.size(), 3);
        QCOMPARE(code(r[1]), 451);
        m_proxy->clock.advanceSeconds(61);
    }

private Q_SLOTS:
    void cleanup() { m_proxy.reset(); }

    void greylisted_recipient_gets_451_and_the_backend_is_never_contacted()
    {
        QVERIFY(startProxy());
        Client c;
        QVERIFY(greet(c));
        c.send(kMail);
        QCOMPARE(c.reply(), QByteArray("250 2.1.0 Ok\r\n"));
        c.send("RCPT TO:<bob@example.test>\r\n");
        const QByteArray r = c.reply();
        QVERIFY2(r.startsWith("451 4.7.1 Greylisted"), r.constData());
        c.send("DATA\r\n");
        QVERIFY2(c.reply().startsWith("554 5.5.1"), "DATA without recipients");
        QCOMPARE(m_proxy->backend.connections, 1); // the start-up EHLO probe only
        QVERIFY(!m_proxy->backend.lines.join(' ').contains("MAIL"));
    }

    void a_retry_after_the_delay_is_relayed_with_xclient_and_x_greylist()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test");
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\n");
        QList<QByteArray> r = c.replies(2);
        QCOMPARE(r.value(1), QByteArray("250 2.0.0 Ok\r\n")); // the backend's own RCPT reply
        c.send("DATA\r\n");
        QCOMPARE(code(c.reply()), 354);
        c.send("Subject: hi\r\n\r\n..a stuffed line\r\nbody\r\n.\r\n");
        QCOMPARE(c.reply(), QByteArray("250 2.0.0 Ok: queued as TEST1\r\n"));

        const TestBackend &b = m_proxy->backend;
        const QByteArray all = b.lines.join('\n');
        QVERIFY2(all.contains("XCLIENT ADDR=127.0.0.1 PORT="), all.constData());
        QVERIFY2(all.contains("HELO=client.example PROTO=ESMTP"), all.constData());
        QVERIFY2(all.contains("MAIL FROM:<alice@sender.example>\nRCPT TO:<bob@example.test>"),
                 all.constData());
        QCOMPARE(b.messages.size(), 1);
        const QByteArray &message = b.messages[0];
        QVERIFY2(message.startsWith("X-Greylist: delayed 61 seconds by greygate-"),
                 message.constData());
        QVERIFY2(message.endsWith("Subject: hi\r\n\r\n..a stuffed line\r\nbody\r\n"),
                 message.constData());
    }

    void pipelined_commands_get_their_replies_in_order()
    {
        QVERIFY(startProxy());
        prePass("known@example.test");
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<new@example.test>\r\nRCPT TO:<known@example.test>\r\n"
                       "RCPT TO:<refused@example.test>\r\nNOOP\r\nBOGUS\r\nRSET\r\n");
        m_proxy->backend.refusedRecipient = "refused@example.test";
        const QList<QByteArray> r = c.replies(7);
        QCOMPARE(r.size(), 7);
        QCOMPARE(code(r[0]), 250);                      // MAIL
        QCOMPARE(code(r[1]), 451);                      // new: greylisted
        QCOMPARE(r[2], QByteArray("250 2.0.0 Ok\r\n")); // known: the backend's reply
        QCOMPARE(code(r[3]), 451); // refused@ is new too: greylisted before the backend
        QCOMPARE(r[4], QByteArray("250 2.0.0 Ok\r\n")); // NOOP
        QCOMPARE(code(r[5]), 500);                      // unknown command, session goes on
        QCOMPARE(code(r[6]), 250);                      // RSET
    }

    void the_backend_refusing_a_recipient_is_relayed()
    {
        QVERIFY(startProxy());
        prePass("nobody@example.test");
        m_proxy->backend.refusedRecipient = "nobody@example.test";
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<nobody@example.test>\r\n");
        const QList<QByteArray> r = c.replies(2);
        QCOMPARE(r.value(1),
                 QByteArray("550 5.1.1 <nobody@example.test>: Recipient address rejected\r\n"));
    }

    void a_pipelining_backend_gets_mail_and_rcpt_in_one_write()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test");
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\n");
        QCOMPARE(c.replies(2).value(1), QByteArray("250 2.0.0 Ok\r\n"));
        const QList<QByteArray> &reads = m_proxy->backend.reads;
        const bool grouped = std::any_of(reads.begin(), reads.end(), [](const QByteArray &r) {
            return r.contains("MAIL FROM:<alice@sender.example>\r\nRCPT TO:<bob@example.test>");
        });
        QVERIFY2(grouped, reads.join('|').constData());
        // DATA goes without waiting for the 354; the content follows it, the dot last.
        c.send("DATA\r\n");
        QCOMPARE(code(c.reply()), 354);
        c.send("Subject: hi\r\n\r\n..dot\r\n.\r\n");
        QCOMPARE(c.reply(), QByteArray("250 2.0.0 Ok: queued as TEST1\r\n"));
        QCOMPARE(m_proxy->backend.messages.size(), 1);
        QVERIFY(m_proxy->backend.messages[0].endsWith("Subject: hi\r\n\r\n..dot\r\n"));
    }

    void a_refused_recipient_in_a_pipelined_group_gets_the_backends_reply()
    {
        QVERIFY(startProxy());
        prePass("nobody@example.test");
        prePass("bob@example.test");
        m_proxy->backend.refusedRecipient = "nobody@example.test";
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
                       "DATA\r\n");
        const QList<QByteArray> r = c.replies(4);
        QCOMPARE(r.value(1),
                 QByteArray("550 5.1.1 <nobody@example.test>: Recipient address rejected\r\n"));
        QCOMPARE(r.value(2), QByteArray("250 2.0.0 Ok\r\n"));
        QCOMPARE(code(r.value(3)), 354);
        c.send("Subject: x\r\n\r\nbody\r\n.\r\n");
        QCOMPARE(code(c.reply()), 250);
        // MAIL once: the refused RCPT left the backend's transaction open for the next one.
        QCOMPARE(m_proxy->backend.lines.join('\n').count("MAIL FROM"), 1);
        QCOMPARE(m_proxy->backend.messages.size(), 1);
    }

    void a_backend_refusing_mail_in_a_pipelined_group_refuses_the_recipient()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test");
        m_proxy->backend.refusedSender = "alice@sender.example";
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        const QList<QByteArray> r = c.replies(3);
        QCOMPARE(code(r.value(0)), 250); // MAIL: the proxy's, nothing asked of the backend yet
        // The recipient gets the backend's refusal of the sender (its 503 to the RCPT in the
        // same group is not the reason), and nothing is accepted.
        QCOMPARE(r.value(1),
                 QByteArray("553 5.7.1 <alice@sender.example>: Sender address rejected\r\n"));
        QCOMPARE(r.value(2), QByteArray("554 5.5.1 No valid recipients\r\n"));
        const QByteArray all = m_proxy->backend.lines.join('\n');
        QVERIFY2(all.contains("MAIL FROM:<alice@sender.example>\nRCPT TO:<bob@example.test>"),
                 all.constData());
        QVERIFY2(!all.contains("DATA"), all.constData());
        QVERIFY(m_proxy->backend.messages.isEmpty());
        c.send("QUIT\r\n");
        QCOMPARE(code(c.reply()), 221);
    }

    void a_whole_transaction_in_one_write_gets_every_reply_in_order()
    {
        // Each answer (the decision, the backend's RCPT and final replies) takes up the
        // input already held at once: every reply comes, in order, and the message once.
        QVERIFY(startProxy());
        prePass("bob@example.test");
        prePass("carol@example.test");
        Client c;
        QVERIFY(greet(c));
        c.send(kMail +
               "RCPT TO:<bob@example.test>\r\nRCPT TO:<carol@example.test>\r\n"
               "DATA\r\nSubject: one\r\n\r\n.dot\r\nbody\r\n.\r\nNOOP\r\n" +
               kMail +
               "RCPT TO:<bob@example.test>\r\nDATA\r\nSubject: two\r\n\r\nx\r\n.\r\n"
               "QUIT\r\n");
        const QList<QByteArray> r = c.replies(11);
        QCOMPARE(r.size(), 11);
        const QList<int> expected = {250, 250, 250, 354, 250, 250, 250, 250, 354, 250, 221};
        for (qsizetype i = 0; i < r.size(); ++i)
            QVERIFY2(code(r[i]) == expected[i], r.join('|').constData());
        QCOMPARE(r[4], QByteArray("250 2.0.0 Ok: queued as TEST1\r\n")); // the backend's
        QCOMPARE(m_proxy->backend.messages.size(), 2);
        QVERIFY(m_proxy->backend.messages[0].endsWith("Subject: one\r\n\r\ndot\r\nbody\r\n"));
        QVERIFY(m_proxy->backend.messages[1].endsWith("Subject: two\r\n\r\nx\r\n"));
    }

    void a_backend_refusing_data_answers_the_dot_and_nothing_is_accepted()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test");
        m_proxy->backend.refuseData = true;
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        QCOMPARE(code(c.replies(3).value(2)), 354); // said before the backend's reply
        c.send("Subject: x\r\n\r\nRSET\r\nbody\r\n.\r\n");
        QCOMPARE(c.reply(), QByteArray("554 5.5.1 Error: no valid recipients\r\n"));
        QVERIFY(m_proxy->backend.messages.isEmpty());
        // The held content never reached the backend as commands.
        QVERIFY(!m_proxy->backend.lines.contains("RSET"));
        QVERIFY(!m_proxy->backend.lines.contains("body"));
        c.send("NOOP\r\n"); // the session goes on
        QCOMPARE(code(c.reply()), 250);
    }

    void without_pipelining_the_backend_gets_one_command_at_a_time()
    {
        QVERIFY(startProxy());
        m_proxy->backend.offerPipelining = false;
        prePass("bob@example.test");
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        QCOMPARE(code(c.replies(3).value(2)), 354);
        c.send("Subject: x\r\n\r\nbody\r\n.\r\n");
        QCOMPARE(code(c.reply()), 250);
        for (const QByteArray &read : std::as_const(m_proxy->backend.reads))
            QVERIFY2(!(read.contains("MAIL FROM") && read.contains("RCPT TO")) &&
                         !(read.contains("RCPT TO") && read.contains("DATA")),
                     read.constData());
        QCOMPARE(m_proxy->backend.messages.size(), 1);
    }

    void recipients_beyond_100_get_452()
    {
        QVERIFY(startProxy());
        Client c;
        QVERIFY(greet(c));
        QByteArray batch = kMail;
        for (int i = 0; i < 101; ++i)
            batch += "RCPT TO:<r" + QByteArray::number(i) + "@example.test>\r\n";
        c.send(batch);
        const QList<QByteArray> r = c.replies(102, 20000);
        QCOMPARE(r.size(), 102);
        QCOMPARE(code(r[100]), 451); // the 100th recipient is still decided
        QVERIFY2(r[101].startsWith("452 4.5.3"), r[101].constData());
    }

    void starttls_throws_away_pipelined_plaintext()
    {
        QTemporaryDir certDir;
        const QString cert = certDir.filePath(QStringLiteral("cert.pem"));
        const QString key = certDir.filePath(QStringLiteral("key.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                       QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                       QStringLiteral("-days"), QStringLiteral("1"), QStringLiteral("-subj"),
                       QStringLiteral("/CN=mx.proxy.test"), QStringLiteral("-keyout"), key,
                       QStringLiteral("-out"), cert});
        QVERIFY(openssl.waitForFinished(60000));
        QCOMPARE(openssl.exitCode(), 0);
        QVERIFY(startProxy([&](SmtpProxyOptions &o) {
            o.tlsCertFile = cert;
            o.tlsKeyFile = key;
        }));
        Client c;
        QVERIFY(c.connectTo(m_proxy->server->serverPort()));
        QCOMPARE(code(c.reply()), 220);
        c.send("EHLO client.example\r\n");
        QVERIFY(c.reply().contains("250 STARTTLS\r\n"));
        c.send("STARTTLS\r\nNOOP\r\nMAIL FROM:<injected@evil.example>\r\n");
        QCOMPARE(c.reply(), QByteArray("220 2.0.0 Ready to start TLS\r\n"));
        QVERIFY(c.buffer.isEmpty());
        c.socket.setPeerVerifyMode(QSslSocket::VerifyNone);
        c.socket.startClientEncryption();
        QSignalSpy encrypted(&c.socket, &QSslSocket::encrypted);
        QVERIFY(encrypted.wait(10000));
        // Inside TLS the session starts over: the first reply is the EHLO's, so neither the
        // NOOP nor the MAIL sent in plaintext was answered, and MAIL needs EHLO again.
        c.send("MAIL FROM:<a@b.example>\r\nEHLO client.example\r\n");
        const QList<QByteArray> r = c.replies(2);
        QCOMPARE(r.size(), 2);
        QVERIFY2(r[0].startsWith("503"), r[0].constData());
        QVERIFY2(r[1].startsWith("250-mx.proxy.test\r\n"), r[1].constData());
        QVERIFY(!r[1].contains("STARTTLS"));
    }

    void smuggled_end_of_data_is_refused_and_never_reaches_the_backend()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test");
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        QCOMPARE(c.replies(3).size(), 3);
        c.send("Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@x.example>\r\n");
        QVERIFY2(c.reply().startsWith("521 5.5.2 Bare <LF>"), c.buffer.constData());
        QVERIFY(c.waitClosed());
        QTRY_VERIFY(m_proxy->server->sessionCount() == 0);
        QVERIFY(m_proxy->backend.messages.isEmpty());
        QVERIFY(!m_proxy->backend.lines.join(' ').contains("evil"));
    }

    void header_from_policies_decide_at_the_end_of_the_headers_data()
    {
        QTest::addColumn<QByteArray>("from");
        QTest::addColumn<bool>("delivered");
        QTest::newRow("partner in From: bypassed")
            << QByteArray("News <news@partner.test>") << true;
        QTest::newRow("folded From: bypassed") << QByteArray("\r\n <news@partner.test>") << true;
        QTest::newRow("other From: greylisted") << QByteArray("someone@else.example") << false;
    }
    void header_from_policies_decide_at_the_end_of_the_headers()
    {
        QFETCH(QByteArray, from);
        QFETCH(bool, delivered);
        // A bypass for mail whose From: header is at partner.test: the envelope sender (an
        // ESP's bounce address) says nothing, so the RCPT waits for the header.
        const QByteArray policies = R"({"policies": [{"id": 1, "action": "bypass",
            "from": {"type": "domain", "value": "partner.test", "basedOn": "header"},
            "to": {"type": "everyone"}}]})";
        QVERIFY(startProxy({}, policies));
        Client c;
        QVERIFY(greet(c));
        c.send("MAIL FROM:<bounce-123@esp.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
        const QList<QByteArray> r = c.replies(3);
        QCOMPARE(r.size(), 3);
        QCOMPARE(r[1], QByteArray("250 2.0.0 Ok\r\n")); // the backend's, decision pending
        QCOMPARE(code(r[2]), 354);
        c.send("From: " + from + "\r\nSubject: news\r\n\r\nbody\r\n.\r\n");
        const QByteArray final = c.reply();
        if (delivered) {
            QCOMPARE(final, QByteArray("250 2.0.0 Ok: queued as TEST1\r\n"));
            QCOMPARE(m_proxy->backend.messages.size(), 1);
            QVERIFY2(m_proxy->backend.messages[0].startsWith("From: "),
                     m_proxy->backend.messages[0].constData());
        } else {
            QVERIFY2(final.startsWith("451 4.7.1 Greylisted"), final.constData());
            QVERIFY(m_proxy->backend.messages.isEmpty());
            c.send("NOOP\r\n"); // the session goes on
            QCOMPARE(code(c.reply()), 250);
        }
    }

    void an_asynchronous_engine_decides_each_recipient_later()
    {
        QVERIFY(startProxy());
        LaterDecider later;
        m_proxy->handler->setAsyncDecider(&later);
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<a@example.test>\r\n");
        QList<QByteArray> r = c.replies(2);
        QVERIFY2(r.value(1).startsWith("451 4.7.1 Greylisted, please try again in 42 seconds"),
                 r.value(1).constData());
        later.verdict = Verdict::PassedKnown;
        c.send("RCPT TO:<b@example.test>\r\n");
        QCOMPARE(c.reply(), QByteArray("250 2.0.0 Ok\r\n")); // relayed to the backend
        later.verdict = std::nullopt; // the shared store is unreachable, failing closed
        c.send("RCPT TO:<c@example.test>\r\n");
        QVERIFY2(c.reply().startsWith("451 "), c.buffer.constData());
        QCOMPARE(later.asked, 3);
        m_proxy->handler->setAsyncDecider(nullptr);
    }

    void a_backend_that_vanishes_after_the_dot_gives_451()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test");
        m_proxy->backend.vanishAtDot = true;
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        QCOMPARE(c.replies(3).size(), 3);
        c.send("Subject: x\r\n\r\nbody\r\n.\r\n");
        QVERIFY2(c.reply().startsWith("451 4.4.2"), c.buffer.constData());
        c.send("NOOP\r\n"); // the session itself goes on
        QCOMPARE(code(c.reply()), 250);
    }

    void a_backend_that_is_down_gives_451_to_the_recipient()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test");
        m_proxy->backend.close();
        QTcpServer taken; // nothing listens on the backend's port any more
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\n");
        const QList<QByteArray> r = c.replies(2);
        QVERIFY2(r.value(1).startsWith("451 4.4.1"), r.value(1).constData());
    }

    void an_idle_client_gets_421_after_the_command_timeout()
    {
        QVERIFY(startProxy([](SmtpProxyOptions &o) { o.commandTimeoutMs = 200; }));
        Client c;
        QVERIFY(greet(c));
        QVERIFY2(c.reply().startsWith("421 4.4.2"), c.buffer.constData());
        QVERIFY(c.waitClosed());
    }

    void a_client_that_keeps_talking_outlives_the_command_timeout()
    {
        // The timeout runs from each command (the session moves a deadline and its timer
        // re-arms when it fires before it): NOOPs over twice the timeout keep the session,
        // then silence ends it.
        QVERIFY(startProxy([](SmtpProxyOptions &o) { o.commandTimeoutMs = 1000; }));
        Client c;
        QVERIFY(greet(c));
        for (int i = 0; i < 9; ++i) {
            QTest::qWait(250);
            c.send("NOOP\r\n");
            const QByteArray r = c.reply();
            QVERIFY2(r.startsWith("250 2.0.0"), QByteArray(r + " / " + c.buffer).constData());
        }
        QVERIFY2(c.reply().startsWith("421 4.4.2"), c.buffer.constData());
        QVERIFY(c.waitClosed());
    }

    void a_client_that_stalls_in_data_is_cut_off_and_nothing_is_delivered()
    {
        QVERIFY(startProxy([](SmtpProxyOptions &o) { o.dataTimeoutMs = 200; }));
        prePass("bob@example.test");
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        QCOMPARE(c.replies(3).size(), 3);
        c.send("Subject: half\r\n");
        QVERIFY2(c.reply().startsWith("421 4.4.2"), c.buffer.constData());
        QVERIFY(c.waitClosed());
        QVERIFY(m_proxy->backend.messages.isEmpty());
    }

    void an_early_talker_is_dropped_with_554()
    {
        QVERIFY(startProxy([](SmtpProxyOptions &o) { o.bannerDelayMs = 300; }));
        Client c;
        QVERIFY(c.connectTo(m_proxy->server->serverPort()));
        c.send("EHLO too.early\r\n");
        const QByteArray r = c.reply();
        QVERIFY2(r.startsWith("554 "), r.constData());
        QVERIFY(c.waitClosed());
    }

    void shutdown_says_421_to_idle_sessions_and_finishes()
    {
        QVERIFY(startProxy());
        Client c;
        QVERIFY(greet(c));
        QSignalSpy finished(m_proxy->server.get(), &SmtpServer::shutdownFinished);
        m_proxy->server->shutdown();
        QVERIFY2(c.reply().startsWith("421 4.3.2"), c.buffer.constData());
        QVERIFY(c.waitClosed());
        QTRY_COMPARE(finished.count(), 1);
        QCOMPARE(m_proxy->server->sessionCount(), 0);
    }

    void connections_over_the_per_client_limit_get_421()
    {
        QVERIFY(startProxy([](SmtpProxyOptions &o) { o.maxPerClient = 2; }));
        Client a;
        Client b;
        Client extra;
        QVERIFY(greet(a));
        QVERIFY(greet(b));
        QVERIFY(extra.connectTo(m_proxy->server->serverPort()));
        QVERIFY2(extra.reply().startsWith("421 4.7.0"), extra.buffer.constData());
        QVERIFY(extra.waitClosed());
        a.send("NOOP\r\n"); // the others are served on
        QCOMPARE(code(a.reply()), 250);
    }

    void a_sessions_events_carry_helo_tls_bytes_and_the_backends_reply()
    {
        QVERIFY(startProxy());
        prePass("bob@example.test"); // one deferred attempt
        Client c;
        QVERIFY(greet(c));
        c.send(kMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        QCOMPARE(c.replies(3).size(), 3);
        const QByteArray body = "Subject: hi\r\n\r\n..stuffed\r\nbody\r\n";
        c.send(body + ".\r\n");
        QCOMPARE(c.reply(), QByteArray("250 2.0.0 Ok: queued as TEST1\r\n"));

        const QList<Event> attempts = eventsOf(m_proxy->events, EventType::Attempt);
        QCOMPARE(attempts.size(), 2);
        QCOMPARE(attempts[0].outcome, AttemptOutcome::Deferred);
        QCOMPARE(attempts[1].outcome, AttemptOutcome::Passed);
        for (const Event &a : attempts) {
            QCOMPARE(a.source, EventSource::Smtp);
            QCOMPARE(a.helo, QByteArray("client.example"));
            QCOMPARE(a.tls, false);
            QCOMPARE(a.client, QByteArray("127.0.0.1"));
            QCOMPARE(a.sender, QByteArray("alice@sender.example"));
            QCOMPARE(a.recipient, QByteArray("bob@example.test"));
        }
        // With I/O threads the event reaches the log on the main thread just after the reply.
        QTRY_COMPARE(eventsOf(m_proxy->events, EventType::Message).size(), 1);
        const QList<Event> messages = eventsOf(m_proxy->events, EventType::Message);
        const Event &m = messages[0];
        QCOMPARE(m.source, EventSource::Smtp);
        QCOMPARE(m.helo, QByteArray("client.example"));
        QCOMPARE(m.sender, QByteArray("alice@sender.example"));
        QCOMPARE(m.recipient, QByteArray("bob@example.test"));
        QCOMPARE(m.attempts, 1u);
        QCOMPARE(m.bytes, qint64(body.size() - 1)); // un-stuffed: one dot fewer
        QCOMPARE(m.reply, QByteArray("250 2.0.0 Ok: queued as TEST1"));
        // Only attempts are counted in the statistics, never the message as well.
        QCOMPARE(m_proxy->events.totals().attempts, 2u);

        const SmtpServer::Stats &s = m_proxy->server->stats();
        QCOMPARE(s.recipientsDeferred, 1u);
        QCOMPARE(s.messagesRelayed, 1u);
        QCOMPARE(s.messagesRefused, 0u);
        QCOMPARE(s.backendFailures, 0u);
    }

    void attempts_under_starttls_are_marked_tls_and_a_refused_message_is_recorded()
    {
        QTemporaryDir certDir;
        QString cert;
        QString key;
        QVERIFY(makeCertificate(certDir, &cert, &key));
        QVERIFY(startProxy([&](SmtpProxyOptions &o) {
            o.tlsCertFile = cert;
            o.tlsKeyFile = key;
        }));
        prePass("bob@example.test");
        m_proxy->backend.vanishAtDot = true;
        Client c;
        QVERIFY(greet(c));
        c.send("STARTTLS\r\n");
        QCOMPARE(code(c.reply()), 220);
        c.socket.setPeerVerifyMode(QSslSocket::VerifyNone);
        c.socket.startClientEncryption();
        QSignalSpy encrypted(&c.socket, &QSslSocket::encrypted);
        QVERIFY(encrypted.wait(10000));
        c.send("EHLO tls.client.example\r\n" + kMail +
               "RCPT TO:<new@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
        const QList<QByteArray> r = c.replies(5);
        QCOMPARE(r.size(), 5);
        QCOMPARE(code(r[2]), 451);
        QCOMPARE(code(r[4]), 354);
        c.send("Subject: x\r\n\r\nbody\r\n.\r\n");
        QVERIFY2(c.reply().startsWith("451 4.4.2"), c.buffer.constData());

        const QList<Event> attempts = eventsOf(m_proxy->events, EventType::Attempt);
        QCOMPARE(attempts.size(), 3); // prePass's, then the two inside TLS
        QCOMPARE(attempts[0].tls, false);
        for (qsizetype i = 1; i < attempts.size(); ++i) {
            QCOMPARE(attempts[i].tls, true);
            QCOMPARE(attempts[i].helo, QByteArray("tls.client.example"));
        }
        // With I/O threads the event reaches the log on the main thread just after the reply.
        QTRY_COMPARE(eventsOf(m_proxy->events, EventType::Message).size(), 1);
        const QList<Event> messages = eventsOf(m_proxy->events, EventType::Message);
        QCOMPARE(messages[0].tls, true);
        QCOMPARE(messages[0].recipient, QByteArray("bob@example.test"));
        QVERIFY2(messages[0].reply.startsWith("451 4.4.2"), messages[0].reply.constData());
        const SmtpServer::Stats &s = m_proxy->server->stats();
        QCOMPARE(s.recipientsDeferred, 2u);
        QCOMPARE(s.messagesRelayed, 0u);
        QCOMPARE(s.messagesRefused, 1u);
        QCOMPARE(s.backendFailures, 1u);
    }

    void over_long_command_lines_get_500_and_the_session_goes_on()
    {
        QVERIFY(startProxy());
        Client c;
        QVERIFY(greet(c));
        c.send("NOOP " + QByteArray(505, 'x') + "\r\n"); // 512 with the CRLF
        QCOMPARE(code(c.reply()), 250);
        c.send("NOOP " + QByteArray(506, 'x') + "\r\n"); // 513
        QVERIFY2(c.reply().startsWith("500 5.5.2 Line too long"), c.buffer.constData());
        c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        const QList<QByteArray> r = c.replies(3);
        QCOMPARE(r.size(), 3);
        for (const QByteArray &each : r)
            QCOMPARE(code(each), 500);
    }
};

QTEST_GUILESS_MAIN(TestSmtpSession)
#include "tst_smtp_session.moc"
