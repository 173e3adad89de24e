// SPDX-License-Identifier: GPL-3.0-or-later
// The SMTP proxy's decisions in Redis mode: PolicyHandlerDecider on the asynchronous path of
// the real GreylistPolicyHandler, greylisting through RedisDecider on a real redis-server,
// with the daemon's DecisionRecorder. Each recipient's attempt reaches the event log (the
// Live attempts stream and the per-minute statistics) as source "smtp" with the session's
// HELO and TLS flag, once, when its answer comes back; Redis away applies the failure mode
// and is recorded as such.

#include "RedisTestServer.h"
#include "control/DecisionRecorder.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "smtp/PolicyHandlerDecider.h"
#include "store/redis/RedisConnection.h"
#include "store/redis/RedisDecider.h"
#include "store/redis/RedisKeys.h"
#include "store/redis/RedisStore.h"
#include "store/redis/RedisSyncClient.h"

#include <QTest>
#include <hiredis/hiredis.h>
#include <memory>

using namespace greygate;
using namespace greygate::test;

class TestRedisSmtpDecider : public QObject
{
    Q_OBJECT

private:
    RedisTestServer m_redis;
    RedisOptions m_options;
    SystemClock m_clock;
    std::unique_ptr<RedisStore> m_store;
    std::unique_ptr<GreylistEngine> m_engine;
    std::unique_ptr<RedisConnection> m_connection;
    std::unique_ptr<RedisDecider> m_decider;
    std::unique_ptr<GreylistPolicyHandler> m_handler;
    std::unique_ptr<EventLog> m_events;
    std::unique_ptr<DecisionRecorder> m_recorder;
    std::unique_ptr<PolicyHandlerDecider> m_smtp;

    void start(const RedisOptions &o)
    {
        GreylistConfig config;
        config.autoWhitelistClients = 0;
        m_store = std::make_unique<RedisStore>(m_options, config);
        QString error;
        QVERIFY2(m_store->open(&error), qPrintable(error));
        m_engine = std::make_unique<GreylistEngine>(config, m_clock);
        m_connection = std::make_unique<RedisConnection>(o);
        m_connection->start();
        m_store->attach(m_connection.get());
        m_decider = std::make_unique<RedisDecider>(*m_connection, config, o.failOpen);
        GreylistPolicyOptions options;
        options.greylistText = "Greylisted for %s seconds";
        m_handler = std::make_unique<GreylistPolicyHandler>(*m_engine, *m_store, m_clock, options);
        QVERIFY2(m_handler->policies().load(*m_store, &error), qPrintable(error));
        m_handler->setAsyncDecider(m_decider.get());
        m_events = std::make_unique<EventLog>();
        m_recorder = std::make_unique<DecisionRecorder>(*m_handler, *m_events, m_clock);
        // As greygated wires it (Greygated::startSmtp).
        m_smtp =
            std::make_unique<PolicyHandlerDecider>(*m_recorder, *m_handler, *m_engine, m_clock);
        m_smtp->setEventLog(m_events.get());
        m_smtp->setRecorder(
            [recorder = m_recorder.get()](const DecisionOutcome &outcome, const QByteArray &client,
                                          const QByteArray &sender, const QByteArray &recipient) {
                recorder->record(outcome, client, sender, recipient);
            });
    }
    SmtpVerdict decide(const QByteArray &sender, bool tls)
    {
        SmtpRecipientQuery q;
        q.clientAddress = "192.0.2.10";
        q.clientName = "unknown";
        q.heloName = "mx.sender.example";
        q.protocol = "ESMTP";
        q.sender = sender;
        q.recipient = "bob@example.test";
        q.instance = "i1";
        q.tls = tls;
        QObject context;
        std::optional<SmtpVerdict> verdict;
        m_smtp->decide(q, &context, [&](const SmtpVerdict &v) { verdict = v; });
        (void)QTest::qWaitFor([&] { return verdict.has_value(); }, 10'000);
        return verdict.value_or(SmtpVerdict{SmtpVerdict::Kind::Pending, {}, {}, "no answer"});
    }
    std::vector<const Event *> attempts() const
    {
        std::vector<const Event *> all, out;
        m_events->since(0, 1000, &all);
        for (const Event *e : all)
            if (e->type == EventType::Attempt)
                out.push_back(e);
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!RedisTestServer::available())
            QSKIP("redis-server is not installed (apt-get install redis-server)");
        QString error;
        QVERIFY2(m_redis.start(&error), qPrintable(error));
        m_options = *RedisOptions::fromUrl(m_redis.url(), &error);
        m_options.timeoutMs = 1000;
    }
    void init()
    {
        RedisSyncClient sync;
        QString error;
        QVERIFY2(sync.connect(m_options, &error), qPrintable(error));
        QVERIFY(sync.command({"FLUSHALL"}, &error));
    }
    void cleanup()
    {
        m_smtp.reset();
        m_recorder.reset();
        m_events.reset();
        m_handler.reset();
        m_decider.reset();
        m_connection.reset();
        m_store.reset();
        m_engine.reset();
    }

    void smtpAttemptsAreRecordedWithTheSessionsOrigin()
    {
        start(m_options);
        QTRY_VERIFY(m_connection->isUp());
        const SmtpVerdict first = decide("alice@sender.example", true);
        QCOMPARE(first.kind, SmtpVerdict::Kind::Defer);
        QCOMPARE(first.reason, QByteArray("greylisted"));
        std::vector<const Event *> a = attempts();
        QCOMPARE(a.size(), size_t(1));
        QCOMPARE(a[0]->source, EventSource::Smtp);
        QCOMPARE(a[0]->helo, QByteArray("mx.sender.example"));
        QVERIFY(a[0]->tls);
        QCOMPARE(a[0]->outcome, AttemptOutcome::Deferred);
        QCOMPARE(a[0]->attempts, 1u);
        QCOMPARE(a[0]->sender, QByteArray("alice@sender.example"));

        // The retry after the delay passes, recorded as passed with both attempts.
        RedisSyncClient sync;
        QString error;
        QVERIFY(sync.connect(m_options, &error));
        const QByteArray k =
            RedisKeys::triplet({"192.0.2.0/24", "alice@sender.example", "bob@example.test"});
        const qint64 firstSeen =
            RedisSyncClient::integer(sync.command({"HGET", k, "first"}, &error).get());
        QVERIFY(sync.command({"HSET", k, "first", QByteArray::number(firstSeen - 400)}, &error));
        const SmtpVerdict retry = decide("alice@sender.example", false);
        QCOMPARE(retry.kind, SmtpVerdict::Kind::Accept);
        QCOMPARE(retry.reason, QByteArray("passed"));
        QVERIFY(retry.header.startsWith("X-Greylist"));
        a = attempts();
        QCOMPARE(a.size(), size_t(2));
        QCOMPARE(a[1]->source, EventSource::Smtp);
        QVERIFY(!a[1]->tls);
        QCOMPARE(a[1]->outcome, AttemptOutcome::Passed);
        QCOMPARE(a[1]->attempts, 2u);
        // Counted in the statistics the dashboard and stats.breakdown read.
        QCOMPARE(m_events->totals().attempts, 2u);
        QCOMPARE(m_events->totals().deferred, 1u);
        QCOMPARE(m_events->totals().passed, 1u);
    }

    void redisAwayIsRecordedAsTheFailureMode()
    {
        RedisOptions o = m_options;
        o.port = 1; // nothing listens there
        o.failOpen = false;
        start(o);
        const SmtpVerdict v = decide("carol@sender.example", false);
        QCOMPARE(v.kind, SmtpVerdict::Kind::Defer);
        const std::vector<const Event *> a = attempts();
        QCOMPARE(a.size(), size_t(1));
        QCOMPARE(a[0]->source, EventSource::Smtp);
        QCOMPARE(a[0]->outcome, AttemptOutcome::Deferred);
        QVERIFY2(a[0]->action.contains(u"fail closed"), qPrintable(a[0]->action));
    }
};

QTEST_GUILESS_MAIN(TestRedisSmtpDecider)
#include "tst_redis_smtp_decider.moc"
