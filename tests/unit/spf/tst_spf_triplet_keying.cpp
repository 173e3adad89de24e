// SPDX-License-Identifier: GPL-3.0-or-later
// SPF-keyed triplets in the policy handler: a retry from another IP (or address family) the
// sender's SPF authorises matches the first attempt; anything else stays keyed by IP.
#include "ScriptedDns.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "spf/SpfEvaluator.h"
#include "spf/SpfTripletKeyer.h"
#include "store/SqliteStore.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <memory>
#include <optional>

using namespace greygate;

namespace {

PolicyRequest rcpt(const QByteArray &client, const QByteArray &sender,
                   const QByteArray &helo = "out.example.com")
{
    PolicyRequest r;
    r.request = "smtpd_access_policy";
    r.protocolState = "RCPT";
    r.clientAddress = client;
    r.heloName = helo;
    r.sender = sender;
    r.recipient = "bob@receiver.example";
    r.present = PolicyRequest::Request | PolicyRequest::ProtocolState |
                PolicyRequest::ClientAddress | PolicyRequest::Sender | PolicyRequest::Recipient |
                PolicyRequest::HeloName;
    return r;
}

} // namespace

class TestSpfTripletKeying : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void retryFromAnotherAuthorisedIpPasses_data();
    void retryFromAnotherAuthorisedIpPasses();
    void retryFromAnUnauthorisedIpIsDeferred();
    void dnsFailureFallsBackToTheIpTriplet();
    void neutralKeysOnlyInSpfNeutralMode();
    void nullSenderIsKeyedByTheHeloIdentity();
    void ipModeNeverAsksDns();
    void poolRetryIsSignalledAndItsBypassHonouredUntilItExpires();

private:
    QByteArray decide(const PolicyRequest &request);
    void makeHandler(TripletKeyMode mode);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ManualClock> m_clock;
    std::unique_ptr<SqliteStore> m_store;
    std::unique_ptr<GreylistEngine> m_engine;
    std::unique_ptr<GreylistPolicyHandler> m_handler;
    std::unique_ptr<ScriptedDns> m_dns;
    std::unique_ptr<SpfEvaluator> m_spf;
    std::unique_ptr<SpfTripletKeyer> m_keyer;
};

void TestSpfTripletKeying::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_clock = std::make_unique<ManualClock>();
    SqliteStoreOptions options;
    options.dbdir = m_dir->path();
    m_store = std::make_unique<SqliteStore>(options);
    QString error;
    QVERIFY2(m_store->open(&error), qPrintable(error));
    m_engine = std::make_unique<GreylistEngine>(GreylistConfig{}, *m_clock);
    m_dns = std::make_unique<ScriptedDns>();
    m_dns->addTxt("example.com", "v=spf1 include:_spf.example.net a:out.example.com -all");
    m_dns->addTxt("_spf.example.net", "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all");
    m_dns->addA("out.example.com", "2001:db8::20");
    m_dns->addTxt("neutral.example", "v=spf1 ip4:192.0.2.0/24 ?all");
    m_dns->addTxt("out.example.com", "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all");
}

void TestSpfTripletKeying::cleanup()
{
    m_handler.reset();
    m_keyer.reset();
    m_spf.reset();
    m_dns.reset();
    m_engine.reset();
    m_store.reset();
}

void TestSpfTripletKeying::makeHandler(TripletKeyMode mode)
{
    m_spf = std::make_unique<SpfEvaluator>(*m_dns, 2000);
    m_keyer = std::make_unique<SpfTripletKeyer>(*m_spf, mode);
    m_handler = std::make_unique<GreylistPolicyHandler>(*m_engine, *m_store, *m_clock,
                                                        GreylistPolicyOptions{});
    m_handler->setSpfKeyer(m_keyer.get());
    QVERIFY(m_handler->isAsynchronous());
}

QByteArray TestSpfTripletKeying::decide(const PolicyRequest &request)
{
    std::optional<PolicyAnswer> answer;
    m_handler->decideAsync(request, [&answer](PolicyAnswer &&a) { answer = std::move(a); });
    for (int i = 0; i < 300 && !answer; ++i) // bounded: the evaluator's deadline is 2 s
        QTest::qWait(10);
    if (!answer)
        return "no answer";
    if (!m_handler->commit())
        return "commit failed";
    return answer->action;
}

void TestSpfTripletKeying::retryFromAnotherAuthorisedIpPasses_data()
{
    QTest::addColumn<bool>("asynchronous");
    QTest::addColumn<QByteArray>("retryFrom");
    QTest::newRow("IPv4 pool") << false << QByteArray("198.51.100.20");
    QTest::newRow("IPv4 pool, DNS answering later") << true << QByteArray("198.51.100.20");
    QTest::newRow("dual stack: IPv6 retry") << true << QByteArray("2001:db8::20");
}

void TestSpfTripletKeying::retryFromAnotherAuthorisedIpPasses()
{
    QFETCH(bool, asynchronous);
    QFETCH(QByteArray, retryFrom);
    m_dns->asynchronous = asynchronous;
    makeHandler(TripletKeyMode::Spf);
    QVERIFY(decide(rcpt("192.0.2.10", "news@example.com")).startsWith("DEFER_IF_PERMIT"));
    m_clock->advanceSeconds(61);
    QVERIFY(decide(rcpt(retryFrom, "news@example.com")).startsWith("PREPEND X-Greylist"));
    QCOMPARE(m_handler->stats().spfKeyed, quint64(2));
    QVERIFY(m_engine->triplet(
        TripletKey{"spf:example.com", "news@example.com", "bob@receiver.example"}));
}

void TestSpfTripletKeying::retryFromAnUnauthorisedIpIsDeferred()
{
    makeHandler(TripletKeyMode::Spf);
    QVERIFY(decide(rcpt("192.0.2.10", "news@example.com")).startsWith("DEFER_IF_PERMIT"));
    m_clock->advanceSeconds(61);
    // SPF fails for this client: keyed by its own network, which has not been seen.
    QVERIFY(decide(rcpt("203.0.113.5", "news@example.com")).startsWith("DEFER_IF_PERMIT"));
    QCOMPARE(m_handler->stats().spfFallback, quint64(1));
}

void TestSpfTripletKeying::dnsFailureFallsBackToTheIpTriplet()
{
    m_dns->fail("example.com");
    makeHandler(TripletKeyMode::Spf);
    QVERIFY(decide(rcpt("192.0.2.10", "news@example.com")).startsWith("DEFER_IF_PERMIT"));
    m_clock->advanceSeconds(61);
    // Never a bypass: the other IP is another triplet.
    QVERIFY(decide(rcpt("198.51.100.20", "news@example.com")).startsWith("DEFER_IF_PERMIT"));
    // The same network retrying passes as with IP keys.
    QVERIFY(decide(rcpt("192.0.2.10", "news@example.com")).startsWith("PREPEND X-Greylist"));
    QCOMPARE(m_handler->stats().spfKeyed, quint64(0));
    QCOMPARE(m_handler->stats().spfFallback, quint64(3));
}

void TestSpfTripletKeying::neutralKeysOnlyInSpfNeutralMode()
{
    makeHandler(TripletKeyMode::Spf);
    QVERIFY(decide(rcpt("203.0.113.5", "a@neutral.example")).startsWith("DEFER_IF_PERMIT"));
    QCOMPARE(m_handler->stats().spfKeyed, quint64(0));
    m_handler.reset();
    makeHandler(TripletKeyMode::SpfNeutral);
    QVERIFY(decide(rcpt("203.0.113.5", "a@neutral.example")).startsWith("DEFER_IF_PERMIT"));
    QCOMPARE(m_handler->stats().spfKeyed, quint64(1));
    QVERIFY(m_engine->triplet(
        TripletKey{"spf:neutral.example", "a@neutral.example", "bob@receiver.example"}));
}

void TestSpfTripletKeying::nullSenderIsKeyedByTheHeloIdentity()
{
    makeHandler(TripletKeyMode::Spf);
    QVERIFY(decide(rcpt("192.0.2.10", "")).startsWith("DEFER_IF_PERMIT"));
    QVERIFY(m_engine->triplet(TripletKey{"spf:out.example.com", "", "bob@receiver.example"}));
    // A HELO that is no domain: keyed by IP.
    QVERIFY(decide(rcpt("192.0.2.10", "", "[192.0.2.10]")).startsWith("DEFER_IF_PERMIT"));
    QVERIFY(m_engine->triplet(TripletKey{"192.0.2.0/24", "", "bob@receiver.example"}));
}

void TestSpfTripletKeying::ipModeNeverAsksDns()
{
    makeHandler(TripletKeyMode::Ip);
    QVERIFY(decide(rcpt("192.0.2.10", "news@example.com")).startsWith("DEFER_IF_PERMIT"));
    QCOMPARE(m_dns->queries, 0);
    QVERIFY(
        m_engine->triplet(TripletKey{"192.0.2.0/24", "news@example.com", "bob@receiver.example"}));
}

void TestSpfTripletKeying::poolRetryIsSignalledAndItsBypassHonouredUntilItExpires()
{
    makeHandler(TripletKeyMode::Ip);
    QSignalSpy spy(m_handler.get(), &GreylistPolicyHandler::poolRetryDetected);
    // A scripted pool: the same message retried from six addresses in three networks, each
    // retry before the delay (a same-network retry after it would pass).
    const char *pool[] = {"40.92.1.10", "40.92.1.11", "40.92.7.3",
                          "52.100.3.4", "52.100.3.5", "40.92.7.4"};
    for (const char *address : pool) {
        m_clock->advanceSeconds(5);
        QVERIFY(decide(rcpt(address, "news@outlook.com")).startsWith("DEFER_IF_PERMIT"));
    }
    QCOMPARE(spy.count(), 1);
    const PoolRetry retry = spy.at(0).at(0).value<PoolRetry>();
    QCOMPARE(retry.summary(), QByteArray("outlook.com retrying from 3 IPs in 2 networks"));
    QCOMPARE(m_handler->poolRetries().value(0).summary(),
             QByteArray("outlook.com retrying from 6 IPs in 3 networks"));
    // The bypass the event offers: the domain's SPF ranges, for one hour.
    QVERIFY(m_handler->addPoolBypass("outlook.com",
                                     {{QHostAddress(QStringLiteral("40.92.0.0")), 15}}, 3600) > 0);
    QCOMPARE(decide(rcpt("40.93.0.99", "other@outlook.com")), QByteArray("DUNNO"));
    QCOMPARE(m_handler->lastDecision().kind, DecisionOutcome::Kind::Bypassed);
    // Scoped: another domain from the range, and the domain from elsewhere, are greylisted.
    QVERIFY(decide(rcpt("40.93.0.99", "a@example.com")).startsWith("DEFER_IF_PERMIT"));
    QVERIFY(decide(rcpt("52.100.3.4", "other@outlook.com")).startsWith("DEFER_IF_PERMIT"));
    m_clock->advanceSeconds(3600);
    QVERIFY(decide(rcpt("40.93.0.98", "other@outlook.com")).startsWith("DEFER_IF_PERMIT"));
    QCOMPARE(m_handler->stats().poolBypassed, quint64(1));
    QVERIFY(m_handler->poolBypasses().isEmpty());
}

QTEST_GUILESS_MAIN(TestSpfTripletKeying)
#include "tst_spf_triplet_keying.moc"
