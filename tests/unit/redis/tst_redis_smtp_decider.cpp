// SPDX-License-Identifier: GPL-3.0-or-later
// The SMTP proxy's decisions in Redis mode: PolicyHandlerDecider on the asynchronous path of
// the real GreylistPolicyHandler, greylisting through RedisDecider on a real redis-server,
// with the daemon's DecisionRecorder. Each recipient's attempt reaches the event log (the
// Live attempts stream and the per-minute statistics) as source "smtp" with the session's
// HELO and TLS flag, once, when its answer comes back; Redis away applies the failure mode
// and is recorded as such.

#include "RedisDecisionStack.h"
#include "RedisTestServer.h"
#include "smtp/PolicyHandlerDecider.h"
#include "store/redis/RedisKeys.h"
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
    RedisDecisionStack m_stack;
    std::unique_ptr<PolicyHandlerDecider> m_smtp;

    void start(const RedisOptions &o)
    {
        QString error;
        QVERIFY2(m_stack.start(m_options, o, &error), qPrintable(error));
        // As greygated wires it (Greygated::startSmtp).
        m_smtp = std::make_unique<PolicyHandlerDecider>(*m_stack.recorder, *m_stack.handler,
                                                        *m_stack.engine, m_stack.clock);
        m_smtp->setEventLog(m_stack.events.get());
        m_smtp->setRecorder([recorder = m_stack.recorder.get()](
                                const DecisionOutcome &outcome, const QByteArray &client,
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
    std::vector<const Event *> attempts() const { return m_stack.attempts(); }

private Q_SLOTS:
    void initTestCase()
    {
        GREYGATE_START_REDIS(m_redis);
        QString error;
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
        m_stack.reset();
    }

    void smtpAttemptsAreRecordedWithTheSessionsOrigin()
    {
        start(m_options);
        QTRY_VERIFY(m_stack.connection->isUp());
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
        QCOMPARE(m_stack.events->totals().attempts, 2u);
        QCOMPARE(m_stack.events->totals().deferred, 1u);
        QCOMPARE(m_stack.events->totals().passed, 1u);
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
