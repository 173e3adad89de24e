// SPDX-License-Identifier: GPL-3.0-or-later
// The SMTP proxy's pool of backend connections (BackendPool, docs/smtp.md) against a
// scripted backend: sequential sessions share one connection with XCLIENT re-sent for each
// client; a connection the backend closes while idle (with its 421 or silently) is dropped
// or, when found dead on use, replaced without failing the client; a 421 to MAIL is retried
// once on a fresh connection and never turned into a 250; the pool stays within its size
// and idle time; PROXY-protocol connections and a pool of 0 are never reused.

#include "ProxyTestKit.h"

#include <QSet>

using namespace greygate;
using namespace greygate::smtptest;

namespace {

// partner.test is not greylisted, so every session relays at once.
const QByteArray kPolicies = R"({"policies": [{"id": 1, "action": "bypass",
    "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}}]})";
const QByteArray kPartnerMail = QByteArrayLiteral("MAIL FROM:<news@partner.test>\r\n");

} // namespace

class TestSmtpBackendPool : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<Proxy> m_proxy;

    bool startProxy(const std::function<void(SmtpProxyOptions &)> &tweak = {})
    {
        m_proxy = std::make_unique<Proxy>();
        // The pool's own mechanics, on the main thread where its counts can be read; each
        // I/O thread's shard is the same class (--smtp-threads: tst_smtp_proxy_threads).
        const auto mainThread = [&tweak](SmtpProxyOptions &o) {
            if (tweak)
                tweak(o);
            o.threads = 0;
        };
        if (!m_proxy->start(mainThread, kPolicies))
            return false;
        // The start-up probe has its own connection: let it finish, so that the counts
        // below are the sessions' alone.
        return QTest::qWaitFor([this] { return m_proxy->server->backendCapabilities().known; },
                               5000);
    }
    const BackendPool &pool() const { return m_proxy->server->backendPool(); }
    TestBackend &backend() { return m_proxy->backend; }

    // One whole session: EHLO, a message to bob, QUIT. Empty on success, else what failed.
    QByteArray deliver(const QHostAddress &from = {}, const QByteArray &helo = "client.example")
    {
        Client c;
        if (!c.connectTo(m_proxy->server->serverPort(), from) || code(c.reply()) != 220)
            return "no banner";
        c.send("EHLO " + helo + "\r\n" + kPartnerMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        const QList<QByteArray> r = c.replies(4);
        if (r.size() != 4 || code(r[2]) != 250 || code(r[3]) != 354)
            return "envelope: " + r.join();
        c.send("Subject: pooled\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        const QList<QByteArray> end = c.replies(2);
        if (end.size() != 2 || code(end[0]) != 250 || code(end[1]) != 221)
            return "end: " + end.join();
        return c.waitClosed() ? QByteArray() : "not closed";
    }

    // The lines of one verb the backend received, with the connection each came on.
    QList<std::pair<QByteArray, QByteArray>> linesOf(const char *verb)
    {
        QList<std::pair<QByteArray, QByteArray>> out;
        for (qsizetype i = 0; i < backend().lines.size(); ++i) {
            if (backend().lines[i].startsWith(verb))
                out.append({backend().lines[i], backend().connectionOf.value(i)});
        }
        return out;
    }

private Q_SLOTS:
    void cleanup() { m_proxy.reset(); }

    void sequential_sessions_share_one_backend_connection_with_xclient_each()
    {
        QVERIFY(startProxy());
        const int before = backend().connections;
        for (int i = 0; i < 5; ++i)
            QCOMPARE(deliver(), QByteArray());
        QCOMPARE(backend().connections, before + 1);
        QCOMPARE(backend().messages.size(), 5);
        const auto xclients = linesOf("XCLIENT");
        const auto mails = linesOf("MAIL");
        QCOMPARE(xclients.size(), 5); // PORT= differs per client: said again each time
        QCOMPARE(mails.size(), 5);
        QSet<QByteArray> used;
        for (const auto &[line, connection] : mails)
            used.insert(connection);
        QCOMPARE(used.size(), 1);
        QSet<QByteArray> ports;
        for (const auto &[line, connection] : xclients)
            ports.insert(line.mid(line.indexOf("PORT=")).split(' ').value(0));
        QCOMPARE(ports.size(), 5);
        QTRY_COMPARE(pool().idleCount(), 1);
        QCOMPARE(pool().stats().taken, 4u); // the first session opened it
    }

    void xclient_carries_each_sessions_own_client_address_and_helo()
    {
        QVERIFY(startProxy());
        const int before = backend().connections;
        QCOMPARE(deliver(QHostAddress(QStringLiteral("127.0.0.2")), "two.example"), QByteArray());
        QCOMPARE(deliver(QHostAddress(QStringLiteral("127.0.0.3")), "three.example"), QByteArray());
        QCOMPARE(deliver(QHostAddress(QStringLiteral("127.0.0.2")), "two.example"), QByteArray());
        QCOMPARE(backend().connections, before + 1);
        const auto xclients = linesOf("XCLIENT");
        QCOMPARE(xclients.size(), 3);
        const char *expected[][2] = {{"ADDR=127.0.0.2 ", "HELO=two.example "},
                                     {"ADDR=127.0.0.3 ", "HELO=three.example "},
                                     {"ADDR=127.0.0.2 ", "HELO=two.example "}};
        for (int i = 0; i < 3; ++i) {
            QVERIFY2(xclients[i].first.contains(expected[i][0]), xclients[i].first.constData());
            QVERIFY2(xclients[i].first.contains(expected[i][1]), xclients[i].first.constData());
        }
        // Each XCLIENT is followed by EHLO (the backend starts the session over there).
        const QList<QByteArray> &lines = backend().lines;
        for (qsizetype i = 0; i < lines.size(); ++i) {
            if (lines[i].startsWith("XCLIENT"))
                QCOMPARE(lines.value(i + 1), QByteArray("EHLO mx.proxy.test"));
        }
    }

    void an_idle_connection_the_backend_closes_is_dropped_and_replaced_data()
    {
        QTest::addColumn<QByteArray>("goodbye");
        QTest::newRow("421 on its idle timeout")
            << QByteArray("421 4.4.2 backend.test Error: timeout exceeded\r\n");
        QTest::newRow("closed without a word") << QByteArray();
    }
    void an_idle_connection_the_backend_closes_is_dropped_and_replaced()
    {
        QFETCH(QByteArray, goodbye);
        QVERIFY(startProxy());
        const int before = backend().connections;
        QCOMPARE(deliver(), QByteArray());
        QTRY_COMPARE(pool().idleCount(), 1);
        backend().dropAll(goodbye);
        QTRY_COMPARE(pool().idleCount(), 0); // noticed while idle
        QCOMPARE(deliver(), QByteArray());
        QCOMPARE(backend().connections, before + 2);
        QCOMPARE(backend().messages.size(), 2);
        QCOMPARE(m_proxy->server->stats().backendFailures, 0u);
    }

    void a_pooled_connection_found_dead_on_use_is_retried_on_a_fresh_one()
    {
        QVERIFY(startProxy());
        const int before = backend().connections;
        QCOMPARE(deliver(), QByteArray());
        QTRY_COMPARE(pool().idleCount(), 1);
        // The backend drops it just as the next session uses it: nothing noticed while idle.
        backend().vanishAtNextCommand = true;
        QCOMPARE(deliver(QHostAddress(QStringLiteral("127.0.0.2"))), QByteArray());
        QCOMPARE(backend().connections, before + 2);
        QCOMPARE(backend().messages.size(), 2);
        // The retry passed the same client on: its XCLIENT on the fresh connection.
        const auto xclients = linesOf("XCLIENT");
        QVERIFY(xclients.size() >= 2);
        QVERIFY2(xclients.last().first.contains("ADDR=127.0.0.2 "),
                 xclients.last().first.constData());
        QCOMPARE(xclients.last().second, QByteArray::number(before + 2));
    }

    void a_421_to_mail_on_a_pooled_connection_is_retried_once_data()
    {
        QTest::addColumn<int>("refusals");
        QTest::addColumn<bool>("delivered");
        QTest::newRow("the pooled connection says 421: a fresh one delivers") << 1 << true;
        QTest::newRow("the fresh one says 421 too: 451, nothing accepted") << 2 << false;
    }
    void a_421_to_mail_on_a_pooled_connection_is_retried_once()
    {
        QFETCH(int, refusals);
        QFETCH(bool, delivered);
        QVERIFY(startProxy());
        const int before = backend().connections;
        QCOMPARE(deliver(), QByteArray());
        QTRY_COMPARE(pool().idleCount(), 1);
        backend().mail421 = refusals;
        Client c;
        QVERIFY(m_proxy->greet(c));
        c.send(kPartnerMail + "RCPT TO:<bob@example.test>\r\n");
        const QList<QByteArray> r = c.replies(2);
        QCOMPARE(r.size(), 2);
        QCOMPARE(backend().connections, before + 2); // one retry, never more
        if (!delivered) {
            // Never the backend's 421 (the proxy is not closing) and never a 250.
            QVERIFY2(r[1].startsWith("451 4.4.1"), r[1].constData());
            c.send("DATA\r\n");
            QVERIFY2(c.reply().startsWith("554 5.5.1"), c.buffer.constData());
            QCOMPARE(backend().messages.size(), 1);
            return;
        }
        QCOMPARE(r[1], QByteArray("250 2.0.0 Ok\r\n"));
        c.send("DATA\r\nSubject: retried\r\n\r\nbody\r\n.\r\n");
        const QList<QByteArray> end = c.replies(2);
        QCOMPARE(end.size(), 2);
        QCOMPARE(end[1], QByteArray("250 2.0.0 Ok: queued as TEST2\r\n"));
    }

    void the_pool_keeps_at_most_its_size_and_opens_ahead_when_dry()
    {
        QVERIFY(startProxy([](SmtpProxyOptions &o) { o.backendPoolSize = 2; }));
        const int before = backend().connections;
        constexpr int kClients = 4;
        Client clients[kClients];
        for (Client &c : clients) {
            QVERIFY(m_proxy->greet(c));
            c.send(kPartnerMail + "RCPT TO:<bob@example.test>\r\nDATA\r\n");
        }
        for (Client &c : clients)
            QCOMPARE(code(c.replies(3).value(2)), 354);
        // Dry while others held connections: some opened ahead, never more than fit.
        QVERIFY(pool().stats().preopened >= 1);
        QVERIFY(pool().idleCount() + pool().busyCount() <= 2);
        for (Client &c : clients) {
            c.send("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
            const QList<QByteArray> end = c.replies(2);
            QCOMPARE(end.size(), 2);
            QCOMPARE(code(end[0]), 250);
        }
        QCOMPARE(backend().messages.size(), kClients);
        QTRY_COMPARE(backend().openConnections(), 2); // the rest closed, not kept
        QCOMPARE(pool().idleCount(), 2);
        QVERIFY(backend().connections - before <= kClients + 2);
    }

    void an_idle_connection_is_closed_after_the_idle_time()
    {
        QVERIFY(startProxy([](SmtpProxyOptions &o) { o.backendPoolIdleMs = 200; }));
        const int before = backend().connections;
        QCOMPARE(deliver(), QByteArray());
        QCOMPARE(pool().stats().kept, 1u);
        QTRY_COMPARE(pool().idleCount(), 0);
        QTRY_COMPARE(backend().openConnections(), 0);
        const auto quits = linesOf("QUIT");
        QVERIFY(!quits.isEmpty()); // said goodbye, not just cut
        QCOMPARE(quits.last().second, QByteArray::number(before + 1));
    }

    void a_session_that_quits_within_a_transaction_leaves_a_reset_connection()
    {
        QVERIFY(startProxy());
        const int before = backend().connections;
        Client c;
        QVERIFY(m_proxy->greet(c));
        c.send(kPartnerMail + "RCPT TO:<bob@example.test>\r\nQUIT\r\n");
        QCOMPARE(c.replies(3).size(), 3);
        QTRY_COMPARE(pool().idleCount(), 1);
        QVERIFY(backend().lines.contains("RSET"));
        QCOMPARE(deliver(), QByteArray());
        QCOMPARE(backend().connections, before + 1);
        QCOMPARE(backend().messages.size(), 1);
    }

    void without_a_pool_or_with_the_proxy_protocol_each_session_has_its_own_data()
    {
        QTest::addColumn<int>("size");
        QTest::addColumn<SmtpProxyOptions::PassClient>("pass");
        QTest::newRow("--smtp-backend-pool=0") << 0 << SmtpProxyOptions::PassClient::Auto;
        // The PROXY header names the client once per connection: it cannot be reused.
        QTest::newRow("proxy-v1") << 20 << SmtpProxyOptions::PassClient::ProxyV1;
    }
    void without_a_pool_or_with_the_proxy_protocol_each_session_has_its_own()
    {
        QFETCH(int, size);
        QFETCH(SmtpProxyOptions::PassClient, pass);
        QVERIFY(startProxy([&](SmtpProxyOptions &o) {
            o.backendPoolSize = size;
            o.passClient = pass;
        }));
        const int before = backend().connections;
        for (int i = 0; i < 3; ++i)
            QCOMPARE(deliver(), QByteArray());
        QCOMPARE(backend().connections, before + 3);
        QCOMPARE(pool().idleCount(), 0);
        if (pass == SmtpProxyOptions::PassClient::ProxyV1)
            QCOMPARE(backend().lines.join('\n').count("PROXY TCP4 127.0.0.1 127.0.0.1"), 3);
    }
};

QTEST_GUILESS_MAIN(TestSmtpBackendPool)
#include "tst_smtp_backend_pool.moc"
