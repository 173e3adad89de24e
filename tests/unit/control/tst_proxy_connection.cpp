// SPDX-License-Identifier: GPL-3.0-or-later
// ProxyConnection against the real control server: states, calls, a refused token that is
// not retried, and a restart of the server survived with the event stream resumed.

#include "ControlTestProxy.h"
#include "client/ProxyConnection.h"

using namespace greygate;
using namespace greygate::test;

namespace {

ProxyConnection::Options optionsFor(const ControlTestProxy &proxy, const QByteArray &token)
{
    ProxyConnection::Options o;
    o.url = proxy.url();
    o.token = token;
    o.minBackoffMs = 50;
    o.maxBackoffMs = 200;
    return o;
}

} // namespace

class ProxyConnectionTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectsAuthenticatesAndCalls_data();
    void connectsAuthenticatesAndCalls();
    void wrongTokenIsRefusedAndNotRetried();
    void callWhileDisconnectedFailsAtOnce();
    void reconnectsAfterARestartAndResumesTheEventStream();
    void eventsComeAsTheObjectsAJsonSubscriberGets();
};

void ProxyConnectionTest::connectsAuthenticatesAndCalls_data()
{
    QTest::addColumn<bool>("header");
    QTest::newRow("auth message") << false;
    QTest::newRow("authorization header") << true;
}

void ProxyConnectionTest::connectsAuthenticatesAndCalls()
{
    QFETCH(bool, header);
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyConnection::Options o = optionsFor(proxy, proxy.token());
    o.authorizationHeader = header;
    ProxyConnection connection(o);
    QSignalSpy states(&connection, &ProxyConnection::stateChanged);
    QSignalSpy ready(&connection, &ProxyConnection::ready);
    connection.open();
    QVERIFY(ready.wait(5000));
    QCOMPARE(connection.state(), ProxyConnection::State::Connected);
    QCOMPARE(states.first().first().value<ProxyConnection::State>(),
             ProxyConnection::State::Connecting);
    QCOMPARE(states.last().first().value<ProxyConnection::State>(),
             ProxyConnection::State::Connected);
    QCOMPARE(connection.hello().role, QStringLiteral("admin"));

    std::optional<ProxyConnection::Reply> reply;
    connection.call(QStringLiteral("status"), {},
                    [&](const ProxyConnection::Reply &r) { reply = r; });
    QVERIFY(QTest::qWaitFor([&] { return reply.has_value(); }, 5000));
    QVERIFY(reply->ok);
    QVERIFY(reply->result.toObject().contains(QStringLiteral("triplets")));

    reply.reset();
    connection.call(QStringLiteral("policy.get"), QJsonObject{{QStringLiteral("id"), 9}},
                    [&](const ProxyConnection::Reply &r) { reply = r; });
    QVERIFY(QTest::qWaitFor([&] { return reply.has_value(); }, 5000));
    QVERIFY(!reply->ok);
    QCOMPARE(reply->error.code, protocol::ErrorCode::NotFound);
}

void ProxyConnectionTest::wrongTokenIsRefusedAndNotRetried()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyConnection connection(optionsFor(proxy, "wrong-token-wrong-token"));
    connection.open();
    QVERIFY(QTest::qWaitFor([&] { return connection.state() == ProxyConnection::State::Refused; },
                            5000));
    QTest::qWait(300); // several backoff periods: nothing happens
    QCOMPARE(connection.state(), ProxyConnection::State::Refused);
    QCOMPARE(connection.reconnects(), 0);
    QVERIFY(!connection.lastError().isEmpty());
}

void ProxyConnectionTest::callWhileDisconnectedFailsAtOnce()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyConnection connection(optionsFor(proxy, proxy.token()));
    std::optional<ProxyConnection::Reply> reply;
    connection.call(QStringLiteral("status"), {},
                    [&](const ProxyConnection::Reply &r) { reply = r; });
    QVERIFY(QTest::qWaitFor([&] { return reply.has_value(); }, 5000));
    QVERIFY(!reply->ok);
    QVERIFY(reply->error.message.contains(QStringLiteral("not connected")));
}

void ProxyConnectionTest::reconnectsAfterARestartAndResumesTheEventStream()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyConnection connection(optionsFor(proxy, proxy.token(false)));
    QList<qint64> ids;
    QObject::connect(&connection, &ProxyConnection::eventsReceived, &connection,
                     [&](const QJsonArray &events) {
                         for (const QJsonValue &e : events)
                             ids.append(e.toObject().value(QStringLiteral("id")).toInteger());
                     });
    QSignalSpy resyncs(&connection, &ProxyConnection::resyncNeeded);
    QSignalSpy subscribed(&connection, &ProxyConnection::subscribed);
    connection.subscribe();
    connection.open();
    QVERIFY(subscribed.wait(5000));
    proxy.decide("192.0.2.1", "a@b.example", "one@corp.example");
    QVERIFY(QTest::qWaitFor([&] { return ids.size() == 1; }, 5000));

    // The server goes away (a restart of its listener); decisions go on meanwhile.
    const quint16 port = proxy.server->serverPort();
    proxy.server->stop();
    QVERIFY(QTest::qWaitFor(
        [&] { return connection.state() == ProxyConnection::State::Reconnecting; }, 5000));
    proxy.decide("192.0.2.1", "a@b.example", "two@corp.example");
    proxy.decide("192.0.2.1", "a@b.example", "three@corp.example");
    ControlOptions o = proxy.options;
    o.port = port;
    proxy.server.reset(); // one server per event log
    proxy.server = std::make_unique<ControlServer>(*proxy.engine, *proxy.store, *proxy.handler,
                                                   proxy.events, proxy.clock, o);
    QString error;
    QVERIFY2(proxy.server->start(&error), qPrintable(error));

    QVERIFY(QTest::qWaitFor([&] { return ids.size() == 3; }, 10'000));
    QCOMPARE(ids, (QList<qint64>{1, 2, 3}));
    QCOMPARE(resyncs.count(), 0);
    QVERIFY(connection.reconnects() >= 1);
    QCOMPARE(connection.state(), ProxyConnection::State::Connected);
    QCOMPARE(connection.lastEventId(), 3u);

    // Live again.
    proxy.decide("192.0.2.1", "a@b.example", "four@corp.example");
    QVERIFY(QTest::qWaitFor([&] { return ids.size() == 4; }, 5000));
}

void ProxyConnectionTest::eventsComeAsTheObjectsAJsonSubscriberGets()
{
    // The client subscribes to binary events (docs/api.md, "Binary events") and hands the
    // console the objects a plain JSON subscriber reads, whatever the event.
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient json;
    QVERIFY(json.login(proxy.url(), proxy.token(false)));
    json.result(QStringLiteral("events.subscribe"));
    ProxyConnection connection(optionsFor(proxy, proxy.token(false)));
    QList<QJsonObject> events;
    QObject::connect(&connection, &ProxyConnection::eventsReceived, &connection,
                     [&](const QJsonArray &batch) {
                         for (const QJsonValue &e : batch)
                             events.append(e.toObject());
                     });
    QSignalSpy subscribed(&connection, &ProxyConnection::subscribed);
    connection.subscribe();
    connection.open();
    QVERIFY(subscribed.wait(5000));
    proxy.decide("192.0.2.1", "j\xc3\xb6rg@b.example", "one@corp.example");
    Event change;
    change.type = EventType::GroupChange;
    change.subject = QStringLiteral("group:3");
    change.action = QStringLiteral("group.update");
    change.who = QStringLiteral("admin@127.0.0.1");
    change.ref = 4;
    proxy.events.append(change);
    Event smtp;
    smtp.source = EventSource::Smtp;
    smtp.helo = "mx.b.example";
    smtp.tls = true;
    smtp.action = QStringLiteral("greylisted");
    proxy.events.append(smtp);
    QVERIFY(json.waitForEvents(3));
    QVERIFY(QTest::qWaitFor([&] { return events.size() == 3; }, 5000));
    QList<QJsonObject> viaJson;
    for (const QJsonObject &e : std::as_const(events))
        viaJson.append(QJsonDocument::fromJson(QJsonDocument(e).toJson()).object());
    QCOMPARE(viaJson, json.events());
    QCOMPARE(connection.lastEventId(), quint64(3));
}

QTEST_GUILESS_MAIN(ProxyConnectionTest)
#include "tst_proxy_connection.moc"
