// SPDX-License-Identifier: GPL-3.0-or-later
// The control API's event stream over a real loopback WebSocket: pushes as they happen,
// resumed with `since` after a disconnect, resync when the cursor is gone, and binary
// frames for subscribers that ask for them.

#include "ControlTestProxy.h"

using namespace greygate;
using namespace greygate::test;

class EventStreamTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eventStreamResumesWithSinceAfterADisconnect();
    void cursorOutOfTheBufferOrFromAnotherRunGetsResync();
    void binarySubscriberGetsTheSameEventsAsBinaryFrames();
    void subscribeRefusesANonBooleanBinary();
};

void EventStreamTest::eventStreamResumesWithSinceAfterADisconnect()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    QString epoch;
    qint64 seen = 0;
    {
        TestClient client;
        QVERIFY(client.login(proxy.url(), proxy.token(false)));
        const QJsonObject sub = client.result(QStringLiteral("events.subscribe"));
        QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
        epoch = sub.value(QStringLiteral("epoch")).toString();
        proxy.decide("192.0.2.1", "a@b.example", "c@corp.example");
        proxy.decide("192.0.2.1", "a@b.example", "d@corp.example");
        QVERIFY(client.waitForEvents(2));
        const QList<QJsonObject> events = client.events();
        QCOMPARE(events[0].value(QStringLiteral("type")).toString(), QStringLiteral("attempt"));
        QCOMPARE(events[0].value(QStringLiteral("outcome")).toString(), QStringLiteral("deferred"));
        QCOMPARE(events[0].value(QStringLiteral("recipient")).toString(),
                 QStringLiteral("c@corp.example"));
        QCOMPARE(events[0].value(QStringLiteral("attempts")).toInt(), 1);
        seen = events.last().value(QStringLiteral("id")).toInteger();
        client.socket.close();
        QVERIFY(QTest::qWaitFor([&] { return proxy.server->connectionCount() == 0; }, 5000));
    }
    // Missed while away: a decision, a policy change, a queue change.
    proxy.decide("192.0.2.1", "a@b.example", "e@corp.example");
    TestClient admin;
    QVERIFY(admin.login(proxy.url(), proxy.token()));
    const QJsonObject bypassPolicy{
        {QStringLiteral("narrative"), QStringLiteral("P")},
        {QStringLiteral("action"), QStringLiteral("bypass")},
        {QStringLiteral("from"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                     {QStringLiteral("value"), QStringLiteral("p.example")}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
    admin.result(QStringLiteral("policy.create"),
                 QJsonObject{{QStringLiteral("policy"), bypassPolicy}});
    admin.result(QStringLiteral("queue.delete"),
                 QJsonObject{{QStringLiteral("client"), QStringLiteral("192.0.2.0/24")},
                             {QStringLiteral("sender"), QStringLiteral("a@b.example")},
                             {QStringLiteral("recipient"), QStringLiteral("c@corp.example")}});

    TestClient again;
    QVERIFY(again.login(proxy.url(), proxy.token(false)));
    const QJsonObject sub = again.result(
        QStringLiteral("events.subscribe"),
        QJsonObject{{QStringLiteral("since"), seen}, {QStringLiteral("epoch"), epoch}});
    QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
    QVERIFY(again.waitForEvents(3));
    const QList<QJsonObject> missed = again.events();
    QCOMPARE(missed.size(), 3);
    QCOMPARE(missed[0].value(QStringLiteral("id")).toInteger(), seen + 1);
    QCOMPARE(missed[0].value(QStringLiteral("recipient")).toString(),
             QStringLiteral("e@corp.example"));
    QCOMPARE(missed[1].value(QStringLiteral("type")).toString(), QStringLiteral("policy"));
    QCOMPARE(missed[1].value(QStringLiteral("action")).toString(), QStringLiteral("policy.create"));
    QCOMPARE(missed[1].value(QStringLiteral("who")).toString(), QStringLiteral("admin@127.0.0.1"));
    QCOMPARE(missed[2].value(QStringLiteral("type")).toString(), QStringLiteral("queue"));
    QCOMPARE(missed[2].value(QStringLiteral("action")).toString(), QStringLiteral("queue.delete"));

    // And it goes on live.
    proxy.decide("192.0.2.1", "a@b.example", "f@corp.example");
    QVERIFY(again.waitForEvents(4));
    QCOMPARE(again.events().last().value(QStringLiteral("id")).toInteger(), seen + 4);
}

void EventStreamTest::cursorOutOfTheBufferOrFromAnotherRunGetsResync()
{
    ControlTestProxy proxy(ControlOptions{}, 3);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    for (int i = 0; i < 6; ++i)
        proxy.decide("192.0.2.1", "a@b.example", "u" + QByteArray::number(i) + "@corp.example");
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    QJsonObject sub = client.result(QStringLiteral("events.subscribe"),
                                    QJsonObject{{QStringLiteral("since"), 1}});
    QVERIFY(sub.value(QStringLiteral("resync")).toBool());
    QCOMPARE(sub.value(QStringLiteral("lastId")).toInt(), 6);
    sub = client.result(QStringLiteral("events.subscribe"),
                        QJsonObject{{QStringLiteral("since"), 5},
                                    {QStringLiteral("epoch"), QStringLiteral("0123abc")}});
    QVERIFY(sub.value(QStringLiteral("resync")).toBool());
    sub = client.result(QStringLiteral("events.subscribe"),
                        QJsonObject{{QStringLiteral("since"), 4}});
    QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
    QVERIFY(client.waitForEvents(2));
    QCOMPARE(client.events().at(0).value(QStringLiteral("id")).toInt(), 5);
}

void EventStreamTest::binarySubscriberGetsTheSameEventsAsBinaryFrames()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient text;
    TestClient binary;
    QVERIFY(text.login(proxy.url(), proxy.token(false)));
    QVERIFY(binary.login(proxy.url(), proxy.token(false)));
    text.result(QStringLiteral("events.subscribe"));
    binary.result(QStringLiteral("events.subscribe"),
                  QJsonObject{{QStringLiteral("binary"), true}});
    // Non-ASCII bytes from the wire must reach both kinds of subscriber as the same text.
    proxy.decide("192.0.2.1", "j\xc3\xb6rg@b.example", "c@corp.example");
    proxy.decide("192.0.2.1", "a@b.example", "d@corp.example");
    QVERIFY(text.waitForEvents(2));
    QVERIFY(binary.waitForEvents(2));
    QCOMPARE(text.binaryMessages, 0);
    QVERIFY(binary.binaryMessages > 0);
    QCOMPARE(binary.events(), text.events());
    QCOMPARE(binary.events().at(0).value(QStringLiteral("sender")).toString(),
             QString::fromUtf8("j\xc3\xb6rg@b.example"));
    // Answers to requests stay text frames.
    const int frames = binary.binaryMessages;
    QVERIFY(!binary.result(QStringLiteral("status")).isEmpty());
    QCOMPARE(binary.binaryMessages, frames);
}

void EventStreamTest::subscribeRefusesANonBooleanBinary()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token(false)));
    const QJsonObject answer =
        client.call(QStringLiteral("events.subscribe"), QJsonObject{{QStringLiteral("binary"), 1}});
    QCOMPARE(answer.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")),
             QJsonValue(QStringLiteral("bad_request")));
    QCOMPARE(answer.value(QStringLiteral("error")).toObject().value(QStringLiteral("field")),
             QJsonValue(QStringLiteral("params.binary")));
    QVERIFY(!client.result(QStringLiteral("status")).isEmpty());
}

QTEST_GUILESS_MAIN(EventStreamTest)
#include "tst_event_stream.moc"
