// SPDX-License-Identifier: GPL-3.0-or-later
// The SMTP proxy's event fields on the wire (docs/api.md, "Events"): an attempt from the
// proxy carries source, helo and tls; a message event carries the recipients, bytes and the
// final reply; a policy-delegation attempt carries none of them. The direct writer and the
// QJsonObject form agree, for hostile bytes too. The EventLog stamps the proxy's origin on
// attempts recorded while it is set, and only then.
#include "control/EventJson.h"
#include "events/EventLog.h"

#include <QJsonDocument>
#include <QTest>

using namespace greygate;

namespace {

QJsonObject written(const Event &e)
{
    QByteArray direct;
    EventJson::appendJson(&direct, e);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(direct, &error);
    if (!doc.isObject())
        qWarning("%s: %s", qPrintable(error.errorString()), direct.constData());
    return doc.object();
}

Event attempt()
{
    Event e;
    e.id = 7;
    e.time = 1'800'000'000;
    e.type = EventType::Attempt;
    e.outcome = AttemptOutcome::Deferred;
    e.attempts = 1;
    e.client = "192.0.2.1";
    e.sender = "a@sender.example";
    e.recipient = "r@corp.example";
    return e;
}

} // namespace

class SmtpEventJsonTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void a_policy_delegation_attempt_has_no_smtp_fields()
    {
        const QJsonObject o = written(attempt());
        QCOMPARE(o, EventJson::toJson(attempt()));
        for (const char *key : {"source", "helo", "tls", "bytes", "reply", "recipients"})
            QVERIFY2(!o.contains(QLatin1String(key)), key);
    }

    void an_smtp_attempt_carries_source_helo_and_tls_data()
    {
        QTest::addColumn<QByteArray>("helo");
        QTest::addColumn<bool>("tls");
        QTest::newRow("plain") << QByteArray("mx.sender.example") << false;
        QTest::newRow("tls") << QByteArray("mx.sender.example") << true;
        QTest::newRow("no helo") << QByteArray() << true;
        QTest::newRow("hostile helo") << QByteArray("\"x\\\x01\xff\"") << false;
    }
    void an_smtp_attempt_carries_source_helo_and_tls()
    {
        QFETCH(QByteArray, helo);
        QFETCH(bool, tls);
        Event e = attempt();
        e.source = EventSource::Smtp;
        e.helo = helo;
        e.tls = tls;
        const QJsonObject o = written(e);
        QCOMPARE(o, EventJson::toJson(e));
        QCOMPARE(o.value(u"source").toString(), QStringLiteral("smtp"));
        QCOMPARE(o.value(u"tls").toBool(true), tls);
        QCOMPARE(o.contains(u"helo"), !helo.isEmpty());
        QCOMPARE(o.value(u"helo").toString(), QString::fromUtf8(helo));
        QCOMPARE(o.value(u"recipient").toString(), QStringLiteral("r@corp.example"));
        QVERIFY(!o.contains(u"bytes"));
    }

    void a_message_event_carries_recipients_bytes_and_the_reply()
    {
        Event e;
        e.id = 9;
        e.time = 1'800'000'005;
        e.type = EventType::Message;
        e.source = EventSource::Smtp;
        e.client = "192.0.2.1";
        e.helo = "mx.sender.example";
        e.tls = true;
        e.sender = "a@sender.example";
        e.recipient = "r@corp.example,s@corp.example";
        e.attempts = 2;
        e.bytes = 12345;
        e.reply = "250 2.0.0 Ok: queued as \"ABC\"";
        const QJsonObject o = written(e);
        QCOMPARE(o, EventJson::toJson(e));
        QCOMPARE(o.value(u"type").toString(), QStringLiteral("message"));
        QCOMPARE(o.value(u"recipients").toInt(), 2);
        QCOMPARE(o.value(u"recipient").toString(), QStringLiteral("r@corp.example,s@corp.example"));
        QCOMPARE(o.value(u"bytes").toInteger(), 12345);
        QCOMPARE(o.value(u"reply").toString(), QStringLiteral("250 2.0.0 Ok: queued as \"ABC\""));
        QCOMPARE(o.value(u"tls").toBool(), true);
        QCOMPARE(o.value(u"helo").toString(), QStringLiteral("mx.sender.example"));
        QVERIFY(!o.contains(u"outcome")); // not an attempt: the statistics do not count it
    }

    void the_log_stamps_the_origin_on_attempts_only_while_it_is_set()
    {
        EventLog log(16);
        const EventLog::Origin origin{EventSource::Smtp, QByteArray("client.example"), true};
        log.setOrigin(&origin);
        log.append(attempt());
        Event change;
        change.type = EventType::PolicyChange;
        log.append(change);
        log.setOrigin(nullptr);
        log.append(attempt());
        std::vector<const Event *> all;
        QVERIFY(log.since(0, 16, &all));
        QCOMPARE(all.size(), size_t(3));
        QCOMPARE(all[0]->source, EventSource::Smtp);
        QCOMPARE(all[0]->helo, QByteArray("client.example"));
        QCOMPARE(all[0]->tls, true);
        QCOMPARE(all[1]->source, EventSource::Policyd); // not an attempt
        QVERIFY(all[1]->helo.isEmpty());
        QCOMPARE(all[2]->source, EventSource::Policyd);
        QVERIFY(all[2]->helo.isEmpty());
        QCOMPARE(all[2]->tls, false);
        QCOMPARE(log.totals().attempts, 2u);
    }

    void a_message_event_is_not_counted_as_an_attempt()
    {
        EventLog log(16);
        Event m;
        m.type = EventType::Message;
        m.source = EventSource::Smtp;
        m.time = 1'800'000'000;
        log.append(m);
        QCOMPARE(log.lastId(), 1u);
        QCOMPARE(log.totals().attempts, 0u);
        QCOMPARE(log.totals().failedToRetry, 0u);
    }
};

QTEST_GUILESS_MAIN(SmtpEventJsonTest)
#include "tst_smtp_event_json.moc"
