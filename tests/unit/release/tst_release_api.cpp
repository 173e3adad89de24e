// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 11's control API methods over a real ControlServer, engine, SQLite store and event
// log, on a manual clock: a timed release lets a triplet through until its end and expires
// by itself (audited), "expect" pre-authorises one recipient, delay.stats reports the delay
// of a passed triplet, triage.list ranks a known correspondent first with its factors.
#include "../control/ControlTestProxy.h"
#include "alerts/DaemonWatch.h"

#include <QJsonArray>

using namespace greygate;
using namespace greygate::test;

class ReleaseApiTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_proxy = std::make_unique<ControlTestProxy>();
        QVERIFY(m_proxy->ok);
        ControlTestProxy &p = *m_proxy;
        m_watch = std::make_unique<DaemonWatch>(p.events, *p.handler, p.clock, AlertOptions{},
                                                QStringLiteral("test"));
        // The daemon gives the control API its watch (Greygated::startControl).
        p.options.watch = m_watch.get();
        p.server = std::make_unique<ControlServer>(*p.engine, *p.store, *p.handler, p.events,
                                                   p.clock, p.options);
        QVERIFY(p.start());
        m_client = std::make_unique<TestClient>();
        QVERIFY(m_client->login(p.url(), p.token()));
    }
    void cleanup()
    {
        m_client.reset();
        m_watch.reset();
        m_proxy.reset();
    }

    void aTimedReleaseLetsTheTripletThroughUntilItExpiresByItself()
    {
        ControlTestProxy &p = *m_proxy;
        QVERIFY(p.decide("192.0.2.7", "inv@partner.test", "alice@corp.test").startsWith("DEFER"));
        const QJsonObject made =
            m_client->result(QStringLiteral("release.create"),
                             {{QStringLiteral("kind"), QStringLiteral("triplet")},
                              {QStringLiteral("client"), QStringLiteral("192.0.2.0/24")},
                              {QStringLiteral("sender"), QStringLiteral("inv@partner.test")},
                              {QStringLiteral("recipient"), QStringLiteral("alice@corp.test")},
                              {QStringLiteral("for"), 7200},
                              {QStringLiteral("reason"), QStringLiteral("invoice due today")}});
        QVERIFY2(made.value(QStringLiteral("tripletRemoved")).toBool(),
                 QJsonDocument(m_client->lastAnswer()).toJson().constData());
        QCOMPARE(made.value(QStringLiteral("until")).toInteger(), p.clock.now() + 7200);
        QCOMPARE(p.decide("192.0.2.9", "inv@partner.test", "alice@corp.test"), QByteArray("DUNNO"));

        const QJsonArray list = m_client->result(QStringLiteral("release.list"))
                                    .value(QStringLiteral("releases"))
                                    .toArray();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list[0].toObject().value(QStringLiteral("reason")).toString(),
                 QStringLiteral("invoice due today"));
        QVERIFY(list[0].toObject().value(QStringLiteral("who")).toString().startsWith(u"admin@"));

        p.clock.advanceSeconds(7199);
        m_watch->tick();
        QCOMPARE(p.decide("192.0.2.9", "inv@partner.test", "alice@corp.test"), QByteArray("DUNNO"));
        p.clock.advanceSeconds(1);
        m_watch->tick();
        QVERIFY(p.decide("192.0.2.9", "inv@partner.test", "alice@corp.test").startsWith("DEFER"));
        QVERIFY(m_client->result(QStringLiteral("release.list"))
                    .value(QStringLiteral("releases"))
                    .toArray()
                    .isEmpty());
        const QJsonArray audit = m_client->result(QStringLiteral("release.audit"))
                                     .value(QStringLiteral("entries"))
                                     .toArray();
        QStringList whats;
        for (const QJsonValue &v : audit)
            whats.append(v.toObject().value(QStringLiteral("what")).toString());
        whats.sort();
        QCOMPARE(whats,
                 (QStringList{QStringLiteral("release.create"), QStringLiteral("release.expire")}));
        QCOMPARE(audit[0].toObject().value(QStringLiteral("reason")).toString(),
                 QStringLiteral("invoice due today"));
    }

    void expectPreAuthorisesOneRecipientAndIsRefusedWithoutAReason()
    {
        ControlTestProxy &p = *m_proxy;
        QJsonObject params{{QStringLiteral("kind"), QStringLiteral("expect")},
                           {QStringLiteral("domain"), QStringLiteral("bank.test")},
                           {QStringLiteral("recipient"), QStringLiteral("alice@corp.test")},
                           {QStringLiteral("for"), 3600}};
        m_client->call(QStringLiteral("release.create"), params);
        QCOMPARE(TestClient::errorField(m_client->lastAnswer()), QStringLiteral("params.reason"));
        params.insert(QStringLiteral("reason"), QStringLiteral("password reset"));
        QVERIFY(m_client->result(QStringLiteral("release.create"), params).contains(u"id"));
        QCOMPARE(p.decide("203.0.113.5", "noreply@bank.test", "alice@corp.test"),
                 QByteArray("DUNNO"));
        QVERIFY(p.decide("203.0.113.5", "noreply@bank.test", "bob@corp.test").startsWith("DEFER"));
    }

    void delayStatsReportTheDelayOfAPassedTriplet()
    {
        ControlTestProxy &p = *m_proxy;
        const Seconds start = p.clock.now();
        QVERIFY(p.decide("192.0.2.7", "a@slow.test", "alice@corp.test").startsWith("DEFER"));
        p.clock.advanceSeconds(p.config.delay + 540);
        QVERIFY(p.decide("192.0.2.7", "a@slow.test", "alice@corp.test").startsWith("PREPEND"));
        m_watch->tick();
        const QJsonObject r = m_client->result(
            QStringLiteral("delay.stats"),
            {{QStringLiteral("from"), start - 3600}, {QStringLiteral("to"), p.clock.now() + 1}});
        const QJsonObject total = r.value(QStringLiteral("total")).toObject();
        QCOMPARE(total.value(QStringLiteral("count")).toInteger(), 1);
        QCOMPARE(total.value(QStringLiteral("max")).toInteger(), p.config.delay + 540);
        QCOMPARE(r.value(QStringLiteral("domains")).toArray()[0].toObject().value(u"domain"),
                 QJsonValue(QStringLiteral("slow.test")));
        QCOMPARE(r.value(QStringLiteral("policies")).toArray()[0].toObject().value(u"policy"),
                 QJsonValue(QStringLiteral("none")));
    }

    void triageRanksAKnownCorrespondentThatRetriedFirst()
    {
        ControlTestProxy &p = *m_proxy;
        QVERIFY(p.decide("192.0.2.7", "bot@spam.test", "alice@corp.test").startsWith("DEFER"));
        QVERIFY(
            p.decide("198.51.100.7", "friend@partner.test", "alice@corp.test").startsWith("DEFER"));
        QVERIFY(
            p.decide("198.51.100.7", "friend@partner.test", "alice@corp.test").startsWith("DEFER"));
        // Meanwhile alice wrote to them (Auto Allow learned the pair): a real correspondent.
        m_client->result(QStringLiteral("autoallow.add"),
                         {{QStringLiteral("external"), QStringLiteral("friend@partner.test")},
                          {QStringLiteral("internal"), QStringLiteral("alice@corp.test")},
                          {QStringLiteral("expiresAt"), p.clock.now() + 86400 * 60}});
        p.clock.advanceSeconds(p.config.retryWindow + 60);
        p.handler->sweepNow();
        m_watch->tick();
        const QJsonArray entries =
            m_client->result(QStringLiteral("triage.list"), {{QStringLiteral("from"), 0}})
                .value(QStringLiteral("entries"))
                .toArray();
        QCOMPARE(entries.size(), 2);
        const QJsonObject top = entries[0].toObject();
        QCOMPARE(top.value(QStringLiteral("sender")).toString(),
                 QStringLiteral("friend@partner.test"));
        QCOMPARE(entries[1].toObject().value(QStringLiteral("score")).toInteger(), 0);
        QStringList held;
        for (const QJsonValue &f : top.value(QStringLiteral("factors")).toArray()) {
            if (f.toObject().value(QStringLiteral("value")).toBool())
                held.append(f.toObject().value(QStringLiteral("name")).toString());
        }
        QCOMPARE(held, (QStringList{QStringLiteral("knownCorrespondent"),
                                    QStringLiteral("retriedTooEarly")}));
        QCOMPARE(top.value(QStringLiteral("score")).toInteger(), 55);
    }

    void aSendersLastPassIsReplacedByItsNextWhateverItsCase()
    {
        ControlTestProxy &p = *m_proxy;
        const auto pass = [&p](const char *client, const char *sender, Seconds time,
                               AttemptOutcome outcome) {
            Event e;
            e.type = EventType::Attempt;
            e.outcome = outcome;
            e.time = time;
            e.client = client;
            e.sender = sender;
            e.recipient = "alice@corp.test";
            p.events.append(std::move(e));
        };
        const Seconds t0 = p.clock.now();
        pass("192.0.2.0/24", "Inv@Partner.test", t0, AttemptOutcome::Passed);
        pass("198.51.100.0/24", "other@partner.test", t0 + 1, AttemptOutcome::Deferred);
        m_watch->tick();
        QVERIFY(m_watch->lastPass("inv@partner.test"));
        QCOMPARE(m_watch->lastPass("INV@partner.TEST")->client, QByteArray("192.0.2.0/24"));
        QCOMPARE(m_watch->lastPass("inv@partner.test")->time, t0);
        QVERIFY(!m_watch->lastPass("other@partner.test")); // deferred: no pass
        pass("203.0.113.0/24", "inv@partner.test", t0 + 5, AttemptOutcome::PassedKnown);
        m_watch->tick();
        QCOMPARE(m_watch->lastPass("Inv@Partner.test")->client, QByteArray("203.0.113.0/24"));
        QCOMPARE(m_watch->lastPass("Inv@Partner.test")->time, t0 + 5);
    }

    void everyPassOfALongTickIsKeptForItsOwnSender()
    {
        // One tick reads a second's events in a batch (the table's buckets asked for ahead):
        // each pass lands on its own sender, whatever its place in the batch, and the
        // deferrals and null senders between them land nowhere.
        ControlTestProxy &p = *m_proxy;
        const Seconds t0 = p.clock.now();
        constexpr int kSenders = 100;
        for (int i = 0; i < kSenders; ++i) {
            Event e;
            e.type = EventType::Attempt;
            e.outcome = i % 3 == 0   ? AttemptOutcome::Deferred
                        : i % 3 == 1 ? AttemptOutcome::Passed
                                     : AttemptOutcome::Whitelisted;
            e.time = t0 + i;
            e.client = "10.0." + QByteArray::number(i) + ".0/24";
            e.sender = (i % 2 ? "Sender" : "sender") + QByteArray::number(i) + "@batch.test";
            e.recipient = "alice@corp.test";
            p.events.append(std::move(e));
            if (i % 10 == 0) {
                Event null;
                null.type = EventType::Attempt;
                null.outcome = AttemptOutcome::Passed;
                null.time = t0 + i;
                null.client = "192.0.2.0/24";
                p.events.append(std::move(null));
            }
        }
        m_watch->tick();
        for (int i = 0; i < kSenders; ++i) {
            const QByteArray sender = "sender" + QByteArray::number(i) + "@batch.test";
            const auto last = m_watch->lastPass(sender);
            if (i % 3 == 0) {
                QVERIFY2(!last, sender.constData());
                continue;
            }
            QVERIFY2(last, sender.constData());
            QCOMPARE(last->client, "10.0." + QByteArray::number(i) + ".0/24");
            QCOMPARE(last->time, t0 + i);
        }
    }

private:
    std::unique_ptr<ControlTestProxy> m_proxy;
    std::unique_ptr<DaemonWatch> m_watch;
    std::unique_ptr<TestClient> m_client;
};

QTEST_GUILESS_MAIN(ReleaseApiTest)
#include "tst_release_api.moc"
