// SPDX-License-Identifier: GPL-3.0-or-later
// The control server over a real loopback WebSocket, with a real engine, SQLite store,
// policy handler and event log: authentication and its refusals, every method, version
// conflicts between two editors, and hostile requests refused while the server keeps
// serving. The event stream has its own test (tst_event_stream).

#include "ControlTestProxy.h"

#include <QFile>
#include <QTcpSocket>
#include <sys/stat.h>

using namespace greygate;
using namespace greygate::test;

namespace {

QJsonObject policyJson(const char *narrative, const char *action, const char *domain)
{
    return QJsonObject{
        {QStringLiteral("narrative"), QString::fromUtf8(narrative)},
        {QStringLiteral("action"), QString::fromUtf8(action)},
        {QStringLiteral("from"), QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                                             {QStringLiteral("value"), QString::fromUtf8(domain)}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
}

QJsonObject triplet(const char *client, const char *sender, const char *recipient)
{
    return QJsonObject{{QStringLiteral("client"), QString::fromUtf8(client)},
                       {QStringLiteral("sender"), QString::fromUtf8(sender)},
                       {QStringLiteral("recipient"), QString::fromUtf8(recipient)}};
}

// A hand-written upgrade request, for headers a WebSocket client would not send.
QByteArray rawUpgrade(quint16 port, const QByteArray &host, const QByteArray &extra)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return QByteArray();
    socket.write("GET / HTTP/1.1\r\nHost: " + host +
                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                 extra + "\r\n");
    QByteArray received;
    QTest::qWaitFor(
        [&] {
            received += socket.readAll();
            return socket.state() != QAbstractSocket::ConnectedState;
        },
        5000);
    return received + socket.readAll();
}

} // namespace

class ControlServerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void refusesNonLoopbackAddressWithoutTls();
    void createsPrivateTokenFilesAndRefusesReadableOnes();
    void requestBeforeAuthenticationIsRefusedAndClosed();
    void wrongTokensAreRefusedThenTheAddressIsBanned();
    void bearerHeaderAuthenticates();
    void silentPlainConnectionsAreBoundedAndDroppedWithoutAnUpgrade();
    void readOnlyTokenReadsButCannotChange();
    void browserOriginAndForeignHostAreRefused();
    void hostileRequestsAreRefusedWhileTheServerKeepsServing();
    void requestsBeyondTheRateAreRefused();
    void helloStatusAndStatsReflectDecisions();
    void queueListsReleasesDeletesAndPermits();
    void twoEditorsOfOnePolicyConflictOnTheVersion();
    void policiesImportExportExplainAndAudit();
    void groupsMembersAndAutoAllow();
    void groupCsvImportExportRoundTripAndABadLineIsRefused();
};

void ControlServerTest::refusesNonLoopbackAddressWithoutTls()
{
    ControlOptions o;
    o.address = QHostAddress::AnyIPv4;
    o.tlsMode = ControlCertificate::Mode::Off;
    ControlTestProxy proxy(o);
    QVERIFY(!proxy.start());
    QVERIFY2(proxy.startError.contains(QStringLiteral("TLS")), qPrintable(proxy.startError));
    QCOMPARE(proxy.server->serverPort(), quint16(0)); // nothing listens
}

void ControlServerTest::createsPrivateTokenFilesAndRefusesReadableOnes()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    for (const QString &path : {ControlTokens::adminFile(proxy.dir.path()),
                                ControlTokens::readOnlyFile(proxy.dir.path())}) {
        struct stat st;
        QCOMPARE(::stat(QFile::encodeName(path).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0600);
    }
    QVERIFY(proxy.token(true) != proxy.token(false));
    QVERIFY(proxy.token(true).size() >= 40);

    // A second start keeps the tokens; a token file others can read stops it.
    const QByteArray admin = proxy.token(true);
    ControlTokens again;
    QString error;
    QVERIFY(again.load(proxy.dir.path(), &error));
    QCOMPARE(again.check(admin), ControlRole::Admin);
    QCOMPARE(again.check(proxy.token(false)), ControlRole::ReadOnly);
    QCOMPARE(again.check("nope"), ControlRole::None);
    QCOMPARE(again.check(QByteArray(admin + 'x')), ControlRole::None);
    ::chmod(QFile::encodeName(ControlTokens::adminFile(proxy.dir.path())).constData(), 0644);
    QVERIFY(!again.load(proxy.dir.path(), &error));
    QVERIFY2(error.contains(QStringLiteral("chmod 600")), qPrintable(error));
}

void ControlServerTest::requestBeforeAuthenticationIsRefusedAndClosed()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.open(proxy.url()));
    const QJsonObject answer = client.call(QStringLiteral("status"));
    QCOMPARE(TestClient::errorCode(answer), QStringLiteral("unauthenticated"));
    QVERIFY(QTest::qWaitFor([&] { return client.closed; }, 5000));

    TestClient good; // the server still serves
    QVERIFY(good.login(proxy.url(), proxy.token()));
    QVERIFY(good.result(QStringLiteral("status")).contains(QStringLiteral("triplets")));
}

void ControlServerTest::wrongTokensAreRefusedThenTheAddressIsBanned()
{
    ControlOptions o;
    o.banAfterFailures = 3;
    ControlTestProxy proxy(o);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    for (int i = 0; i < 3; ++i) {
        TestClient client;
        QVERIFY(client.open(proxy.url()));
        const QJsonObject answer =
            client.call(QStringLiteral("auth"),
                        QJsonObject{{QStringLiteral("token"), QStringLiteral("guess%1").arg(i)}});
        QCOMPARE(TestClient::errorCode(answer.isEmpty() ? client.lastAnswer() : answer),
                 QStringLiteral("unauthenticated"));
        QVERIFY(QTest::qWaitFor([&] { return client.closed; }, 5000));
    }
    // Banned now: even the right token is not looked at.
    TestClient client;
    QVERIFY(client.open(proxy.url()));
    QVERIFY(QTest::qWaitFor([&] { return client.closed; }, 5000));
    QCOMPARE(client.socket.closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
    QVERIFY(client.socket.closeReason().contains(QStringLiteral("banned")));
}

void ControlServerTest::bearerHeaderAuthenticates()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.open(proxy.url(), proxy.token(false)));
    const QJsonObject hello = client.result(QStringLiteral("hello"));
    QCOMPARE(hello.value(QStringLiteral("role")).toString(), QStringLiteral("readonly"));
    QCOMPARE(hello.value(QStringLiteral("apiVersion")).toInt(), 1);

    TestClient wrong;
    QVERIFY(wrong.open(proxy.url(), "not-the-token-at-all"));
    QVERIFY(QTest::qWaitFor([&] { return wrong.closed; }, 5000));
    QCOMPARE(TestClient::errorCode(wrong.lastAnswer()), QStringLiteral("unauthenticated"));
}

void ControlServerTest::silentPlainConnectionsAreBoundedAndDroppedWithoutAnUpgrade()
{
    // Plain connections are accepted by the control server itself and handed to the
    // WebSocket server: ones that never send their upgrade hold no slot for long, and no more
    // of them than the connection limit wait at once.
    ControlOptions options;
    options.maxConnections = 3;
    options.handshakeTimeoutMs = 1000;
    ControlTestProxy proxy(options);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    std::vector<std::unique_ptr<QTcpSocket>> silent;
    for (int i = 0; i < 3; ++i) {
        silent.push_back(std::make_unique<QTcpSocket>());
        silent.back()->connectToHost(QHostAddress::LocalHost, proxy.server->serverPort());
        QVERIFY(silent.back()->waitForConnected(5000));
    }
    QTcpSocket extra;
    extra.connectToHost(QHostAddress::LocalHost, proxy.server->serverPort());
    QVERIFY(extra.waitForConnected(5000));
    QVERIFY(
        QTest::qWaitFor([&] { return extra.state() == QAbstractSocket::UnconnectedState; }, 5000));
    for (const auto &socket : silent)
        QCOMPARE(socket->state(), QAbstractSocket::ConnectedState);
    QVERIFY(QTest::qWaitFor(
        [&] {
            return std::all_of(silent.begin(), silent.end(), [](const auto &socket) {
                return socket->state() == QAbstractSocket::UnconnectedState;
            });
        },
        10'000));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token(false)));
    QVERIFY(client.result(QStringLiteral("hello")).contains(QStringLiteral("apiVersion")));
}

void ControlServerTest::readOnlyTokenReadsButCannotChange()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token(false)));
    QVERIFY(client.result(QStringLiteral("policy.list")).contains(QStringLiteral("policies")));
    for (const auto &[method, params] :
         {std::pair{
              QStringLiteral("policy.create"),
              QJsonObject{{QStringLiteral("policy"), policyJson("x", "bypass", "a.example")}}},
          std::pair{QStringLiteral("queue.release"), triplet("192.0.2.0/24", "a@b", "c@d")},
          std::pair{QStringLiteral("autoallow.remove"),
                    QJsonObject{{QStringLiteral("external"), QStringLiteral("a@b")},
                                {QStringLiteral("internal"), QStringLiteral("c@d")}}}}) {
        const QJsonObject answer = client.call(method, params);
        QCOMPARE(TestClient::errorCode(answer), QStringLiteral("forbidden"));
    }
    QVERIFY(!client.closed);
    QVERIFY(proxy.handler->policies().set().document().policies.isEmpty());
}

void ControlServerTest::browserOriginAndForeignHostAreRefused()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    const quint16 port = proxy.server->serverPort();
    const QByteArray local = "127.0.0.1:" + QByteArray::number(port);

    const QByteArray fine = rawUpgrade(port, local, QByteArray());
    QVERIFY2(fine.startsWith("HTTP/1.1 101"), fine.constData());

    // A page on attacker.example whose name now resolves to 127.0.0.1 (DNS rebinding).
    const QByteArray rebound = rawUpgrade(port, "attacker.example:" + QByteArray::number(port), "");
    QVERIFY(rebound.startsWith("HTTP/1.1 101"));
    const qsizetype frame = rebound.indexOf("\r\n\r\n") + 4;
    QCOMPARE(quint8(rebound.at(frame)), quint8(0x88));                // a close frame
    QCOMPARE(rebound.mid(frame + 2, 2), QByteArray::fromHex("03f0")); // 1008

    const QByteArray browser = rawUpgrade(port, local, "Origin: http://attacker.example\r\n");
    QVERIFY2(!browser.startsWith("HTTP/1.1 101"), browser.constData());

    TestClient client; // still serving
    QVERIFY(client.login(proxy.url(), proxy.token()));
    QVERIFY(ControlServer::isLoopbackHost(u"localhost:1234"));
    QVERIFY(ControlServer::isLoopbackHost(u"[::1]:80"));
    QVERIFY(ControlServer::isLoopbackHost(u"127.0.0.5"));
    QVERIFY(!ControlServer::isLoopbackHost(u"127.0.0.1.nip.io"));
    QVERIFY(!ControlServer::isLoopbackHost(u""));
}

void ControlServerTest::hostileRequestsAreRefusedWhileTheServerKeepsServing()
{
    ControlOptions o;
    o.maxMessageBytes = 4096;
    ControlTestProxy proxy(o);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));

    QCOMPARE(TestClient::errorCode(client.sendRaw("{not json")), QStringLiteral("bad_request"));
    QCOMPARE(TestClient::errorCode(client.sendRaw("[1,2,3]")), QStringLiteral("bad_request"));
    const QJsonObject unknown = client.call(QStringLiteral("queue.drop"));
    QCOMPARE(TestClient::errorCode(unknown), QStringLiteral("bad_request"));
    QCOMPARE(TestClient::errorField(unknown), QStringLiteral("method"));
    const QJsonObject wrongType =
        client.call(QStringLiteral("queue.list"),
                    QJsonObject{{QStringLiteral("limit"), QStringLiteral("ten")}});
    QCOMPARE(TestClient::errorCode(wrongType), QStringLiteral("bad_request"));
    QCOMPARE(TestClient::errorField(wrongType), QStringLiteral("params.limit"));
    const QJsonObject missing = client.call(QStringLiteral("policy.get"));
    QCOMPARE(TestClient::errorField(missing), QStringLiteral("params.id"));
    const QJsonObject extra =
        client.call(QStringLiteral("status"), QJsonObject{{QStringLiteral("x"), 1}});
    QCOMPARE(TestClient::errorField(extra), QStringLiteral("params.x"));
    const QJsonObject control =
        client.call(QStringLiteral("queue.delete"), triplet("192.0.2.0/24\x1f"
                                                            "a",
                                                            "b", "c"));
    QCOMPARE(TestClient::errorField(control), QStringLiteral("params.client"));
    const QByteArray big =
        R"({"id":99,"method":"status","params":{"pad":")" + QByteArray(8000, 'a') + R"("}})";
    QCOMPARE(TestClient::errorCode(client.sendRaw(big)), QStringLiteral("too_large"));
    client.socket.sendBinaryMessage("\x01\x02");
    QVERIFY(QTest::qWaitFor(
        [&] { return TestClient::errorCode(client.lastAnswer()) == u"bad_request"; }, 5000));

    QVERIFY(!client.closed);
    QVERIFY(client.result(QStringLiteral("status")).contains(QStringLiteral("triplets")));
    TestClient other;
    QVERIFY(other.login(proxy.url(), proxy.token()));
    QVERIFY(other.result(QStringLiteral("ping")).contains(QStringLiteral("time")));
}

void ControlServerTest::requestsBeyondTheRateAreRefused()
{
    ControlOptions o;
    o.requestsPerSecond = 1;
    o.burst = 3;
    ControlTestProxy proxy(o);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token())); // the first of the burst
    for (int i = 0; i < 20; ++i)
        client.socket.sendTextMessage(QStringLiteral(R"({"id":%1,"method":"ping"})").arg(100 + i));
    QVERIFY(QTest::qWaitFor([&] { return client.answers() >= 21; }, 5000));
    int limited = 0;
    for (const QJsonObject &m : std::as_const(client.inbox))
        limited += TestClient::errorCode(m) == u"rate_limited" ? 1 : 0;
    QVERIFY(limited >= 1);
    QVERIFY(limited <= 18); // the burst (2 left after auth) was served
    QVERIFY(!client.closed);
}

void ControlServerTest::helloStatusAndStatsReflectDecisions()
{
    ControlOptions o;
    o.proxyName = QStringLiteral("mx1");
    ControlTestProxy proxy(o);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    QVERIFY(proxy.decide("192.0.2.1", "a@b.example", "c@d.example").startsWith("DEFER_IF_PERMIT"));
    proxy.clock.advanceSeconds(61);
    QVERIFY(proxy.decide("192.0.2.1", "a@b.example", "c@d.example").startsWith("PREPEND"));
    QVERIFY(proxy.decide("192.0.2.9", "x@y.example", "c@d.example").startsWith("DEFER"));

    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const QJsonObject hello = client.result(QStringLiteral("hello"));
    QCOMPARE(hello.value(QStringLiteral("proxyName")).toString(), QStringLiteral("mx1"));
    QCOMPARE(hello.value(QStringLiteral("storeKind")).toString(), QStringLiteral("sqlite"));
    QCOMPARE(hello.value(QStringLiteral("role")).toString(), QStringLiteral("admin"));
    QCOMPARE(
        hello.value(QStringLiteral("config")).toObject().value(QStringLiteral("delay")).toInt(),
        60);

    const QJsonObject status = client.result(QStringLiteral("status"));
    QCOMPARE(status.value(QStringLiteral("triplets")).toInt(), 2);
    const QJsonObject totals = status.value(QStringLiteral("totals")).toObject();
    QCOMPARE(totals.value(QStringLiteral("attempts")).toInt(), 3);
    QCOMPARE(totals.value(QStringLiteral("deferred")).toInt(), 2);
    QCOMPARE(totals.value(QStringLiteral("passed")).toInt(), 1);
    QCOMPARE(status.value(QStringLiteral("lastEventId")).toInt(), 3);
    QCOMPARE(status.value(QStringLiteral("connections")).toInt(), 1);

    const qint64 t0 = proxy.clock.now() - 120;
    const QJsonObject stats =
        client.result(QStringLiteral("stats"),
                      QJsonObject{{QStringLiteral("from"), t0}, {QStringLiteral("to"), t0 + 300}});
    QCOMPARE(stats.value(QStringLiteral("buckets")).toArray().size(), 2); // two minutes used
    QCOMPARE(
        stats.value(QStringLiteral("total")).toObject().value(QStringLiteral("attempts")).toInt(),
        3);
    const QJsonObject report =
        client.result(QStringLiteral("report"), QJsonObject{{QStringLiteral("from"), t0},
                                                            {QStringLiteral("to"), t0 + 86400}});
    QCOMPARE(report.value(QStringLiteral("step")).toInt(), 1440);
    QCOMPARE(report.value(QStringLiteral("buckets")).toArray().size(), 1);
    QCOMPARE(
        report.value(QStringLiteral("total")).toObject().value(QStringLiteral("deferred")).toInt(),
        2);
}

void ControlServerTest::queueListsReleasesDeletesAndPermits()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    proxy.decide("192.0.2.1", "alice@mail.example", "bob@corp.example");
    proxy.decide("192.0.2.1", "alice@mail.example", "carol@corp.example");
    proxy.decide("198.51.100.7", "news@bulk.example", "bob@corp.example");

    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    QJsonObject page =
        client.result(QStringLiteral("queue.list"),
                      QJsonObject{{QStringLiteral("client"), QStringLiteral("192.0.2.77")},
                                  {QStringLiteral("sort"), QStringLiteral("recipient")},
                                  {QStringLiteral("descending"), false}});
    QCOMPARE(page.value(QStringLiteral("total")).toInt(), 2);
    const QJsonObject first = page.value(QStringLiteral("entries")).toArray().at(0).toObject();
    QCOMPARE(first.value(QStringLiteral("recipient")).toString(),
             QStringLiteral("bob@corp.example"));
    QCOMPARE(first.value(QStringLiteral("client")).toString(), QStringLiteral("192.0.2.0/24"));
    QCOMPARE(first.value(QStringLiteral("state")).toString(), QStringLiteral("deferred"));
    QCOMPARE(first.value(QStringLiteral("passAt")).toInteger(),
             first.value(QStringLiteral("firstSeen")).toInteger() + 60);
    QCOMPARE(first.value(QStringLiteral("expiresAt")).toInteger(),
             first.value(QStringLiteral("firstSeen")).toInteger() + 12 * 3600);

    // Release: the next retry passes at once, whatever the delay.
    QJsonObject released =
        client.result(QStringLiteral("queue.release"),
                      triplet("192.0.2.0/24", "alice@mail.example", "bob@corp.example"));
    QCOMPARE(released.value(QStringLiteral("state")).toString(), QStringLiteral("passed"));
    QCOMPARE(proxy.decide("192.0.2.1", "alice@mail.example", "bob@corp.example"),
             QByteArray("DUNNO"));
    QCOMPARE(TestClient::errorCode(
                 client.call(QStringLiteral("queue.release"),
                             triplet("192.0.2.0/24", "alice@mail.example", "bob@corp.example"))),
             QStringLiteral("conflict"));

    // Delete: gone from the list; unknown triplets are not_found.
    QVERIFY(client
                .call(QStringLiteral("queue.delete"),
                      triplet("192.0.2.0/24", "alice@mail.example", "carol@corp.example"))
                .contains(QStringLiteral("result")));
    QCOMPARE(TestClient::errorCode(
                 client.call(QStringLiteral("queue.delete"),
                             triplet("192.0.2.0/24", "alice@mail.example", "carol@corp.example"))),
             QStringLiteral("not_found"));
    page = client.result(QStringLiteral("queue.list"),
                         QJsonObject{{QStringLiteral("state"), QStringLiteral("deferred")}});
    QCOMPARE(page.value(QStringLiteral("total")).toInt(), 1);

    // Permit: the sender joins Permitted Senders (made for it), its triplet leaves the queue,
    // and its next mail bypasses greylisting.
    const QJsonObject permitted =
        client.result(QStringLiteral("queue.permit"),
                      triplet("198.51.100.0/24", "news@bulk.example", "bob@corp.example"));
    QCOMPARE(permitted.value(QStringLiteral("member")).toString(),
             QStringLiteral("news@bulk.example"));
    const QList<SenderGroup> groups = proxy.handler->policies().set().document().groups;
    QCOMPARE(groups.size(), 1);
    QCOMPARE(groups[0].kind, GroupKind::Permitted);
    QCOMPARE(proxy.engine->tripletCount(), 1);
    QCOMPARE(proxy.decide("198.51.100.8", "news@bulk.example", "dave@corp.example"),
             QByteArray("DUNNO"));
    QCOMPARE(proxy.engine->tripletCount(), 1);

    // All of it is in the store: a restart sees the released and the removed triplets.
    QString error;
    QVERIFY(proxy.store->flush(5000, &error));
    GreylistEngine reloaded(proxy.config, proxy.clock);
    QVERIFY(reloaded.load(*proxy.store, &error));
    QCOMPARE(reloaded.tripletCount(), 1);
    const std::optional<TripletKey> key =
        reloaded.normaliser().normalise("192.0.2.1", "alice@mail.example", "bob@corp.example");
    QCOMPARE(reloaded.triplet(*key)->status, TripletStatus::Passed);
}

void ControlServerTest::twoEditorsOfOnePolicyConflictOnTheVersion()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient alice, bob;
    QVERIFY(alice.login(proxy.url(), proxy.token()));
    QVERIFY(bob.login(proxy.url(), proxy.token()));
    const QJsonObject created =
        alice.result(QStringLiteral("policy.create"),
                     QJsonObject{{QStringLiteral("policy"),
                                  policyJson("Partners", "bypass", "partner.example")}});
    const qint64 id = created.value(QStringLiteral("id")).toInteger();
    QCOMPARE(created.value(QStringLiteral("version")).toInt(), 1);

    QJsonObject forAlice =
        alice.result(QStringLiteral("policy.get"), QJsonObject{{QStringLiteral("id"), id}});
    QJsonObject forBob =
        bob.result(QStringLiteral("policy.get"), QJsonObject{{QStringLiteral("id"), id}});
    QCOMPARE(forBob.value(QStringLiteral("version")).toInt(), 1);

    forAlice.insert(QStringLiteral("narrative"), QStringLiteral("Partners (alice)"));
    const QJsonObject updated = alice.result(QStringLiteral("policy.update"),
                                             QJsonObject{{QStringLiteral("policy"), forAlice}});
    QCOMPARE(updated.value(QStringLiteral("version")).toInt(), 2);

    forBob.insert(QStringLiteral("narrative"), QStringLiteral("Partners (bob)"));
    const QJsonObject refused =
        bob.call(QStringLiteral("policy.update"), QJsonObject{{QStringLiteral("policy"), forBob}});
    QCOMPARE(TestClient::errorCode(refused), QStringLiteral("stale_version"));
    QCOMPARE(proxy.handler->policies().set().policy(id)->narrative,
             QStringLiteral("Partners (alice)"));

    // Bob reloads and succeeds; an update without a version is refused outright.
    forBob = bob.result(QStringLiteral("policy.get"), QJsonObject{{QStringLiteral("id"), id}});
    forBob.insert(QStringLiteral("narrative"), QStringLiteral("Partners (bob)"));
    QCOMPARE(
        bob.result(QStringLiteral("policy.update"), QJsonObject{{QStringLiteral("policy"), forBob}})
            .value(QStringLiteral("version"))
            .toInt(),
        3);
    forBob.remove(QStringLiteral("version"));
    QCOMPARE(TestClient::errorField(bob.call(QStringLiteral("policy.update"),
                                             QJsonObject{{QStringLiteral("policy"), forBob}})),
             QStringLiteral("params.policy.version"));
    QCOMPARE(TestClient::errorCode(alice.call(
                 QStringLiteral("policy.delete"),
                 QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("version"), 2}})),
             QStringLiteral("stale_version"));
    QVERIFY(alice
                .call(QStringLiteral("policy.delete"),
                      QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("version"), 3}})
                .contains(QStringLiteral("result")));
    QCOMPARE(TestClient::errorCode(
                 alice.call(QStringLiteral("policy.get"), QJsonObject{{QStringLiteral("id"), id}})),
             QStringLiteral("not_found"));
}

void ControlServerTest::policiesImportExportExplainAndAudit()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const QJsonObject document{
        {QStringLiteral("format"), 1},
        {QStringLiteral("policies"),
         QJsonArray{policyJson("Skip partner", "bypass", "partner.example")}}};
    const QJsonObject imported = client.result(QStringLiteral("policy.import"),
                                               QJsonObject{{QStringLiteral("document"), document}});
    QVERIFY(imported.value(QStringLiteral("changes")).toInt() >= 1);
    const QJsonObject bad = client.call(
        QStringLiteral("policy.import"),
        QJsonObject{{QStringLiteral("document"), QJsonObject{{QStringLiteral("format"), 7}}}});
    QCOMPARE(TestClient::errorCode(bad), QStringLiteral("bad_request"));
    QCOMPARE(TestClient::errorField(bad), QStringLiteral("params.document"));

    const QJsonObject list = client.result(QStringLiteral("policy.list"));
    QCOMPARE(list.value(QStringLiteral("policies")).toArray().size(), 1);
    QCOMPARE(list.value(QStringLiteral("precedence")).toArray().size(), 1);
    const QJsonObject exported = client.result(QStringLiteral("policy.export"));
    QCOMPARE(exported.value(QStringLiteral("policies")).toArray().size(), 1);

    const QJsonObject explained =
        client.result(QStringLiteral("policy.explain"),
                      triplet("192.0.2.1", "x@partner.example", "y@corp.example"));
    QVERIFY2(
        explained.value(QStringLiteral("summary")).toString().startsWith(QStringLiteral("bypass")),
        qPrintable(explained.value(QStringLiteral("summary")).toString()));
    QCOMPARE(explained.value(QStringLiteral("triplet"))
                 .toObject()
                 .value(QStringLiteral("state"))
                 .toString(),
             QStringLiteral("unknown"));
    QCOMPARE(proxy.decide("192.0.2.1", "x@partner.example", "y@corp.example"), QByteArray("DUNNO"));

    const QJsonObject audit = client.result(QStringLiteral("audit.list"));
    const QJsonArray entries = audit.value(QStringLiteral("entries")).toArray();
    QVERIFY(!entries.isEmpty());
    QCOMPARE(entries.last().toObject().value(QStringLiteral("who")).toString(),
             QStringLiteral("admin@127.0.0.1"));
    QVERIFY(entries.last()
                .toObject()
                .value(QStringLiteral("what"))
                .toString()
                .startsWith(QStringLiteral("policy.")));
}

void ControlServerTest::groupsMembersAndAutoAllow()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const QJsonObject created = client.result(
        QStringLiteral("group.create"),
        QJsonObject{{QStringLiteral("group"),
                     QJsonObject{{QStringLiteral("name"), QStringLiteral("Blocked Senders")},
                                 {QStringLiteral("members"),
                                  QJsonArray{QStringLiteral("spam@bad.example")}}}}});
    const qint64 id = created.value(QStringLiteral("id")).toInteger();
    QVERIFY(id > 0);
    QCOMPARE(proxy.decide("192.0.2.1", "spam@bad.example", "a@corp.example").left(6),
             QByteArray("REJECT"));

    QJsonObject added = client.result(
        QStringLiteral("group.members.add"),
        QJsonObject{{QStringLiteral("id"), id},
                    {QStringLiteral("version"), 1},
                    {QStringLiteral("members"), QJsonArray{QStringLiteral("@worse.example")}}});
    QCOMPARE(added.value(QStringLiteral("version")).toInt(), 2);
    const QJsonObject badMember = client.call(
        QStringLiteral("group.members.add"),
        QJsonObject{{QStringLiteral("id"), id},
                    {QStringLiteral("version"), 2},
                    {QStringLiteral("members"), QJsonArray{QStringLiteral("ok@a.example"), 5}}});
    QCOMPARE(TestClient::errorField(badMember), QStringLiteral("params.members[1]"));
    const QJsonObject group =
        client.result(QStringLiteral("group.get"), QJsonObject{{QStringLiteral("id"), id}});
    QCOMPARE(group.value(QStringLiteral("members")).toArray().size(), 2);
    const QJsonObject groups = client.result(QStringLiteral("group.list"));
    QCOMPARE(groups.value(QStringLiteral("groups"))
                 .toArray()
                 .at(0)
                 .toObject()
                 .value(QStringLiteral("memberCount"))
                 .toInt(),
             2);
    QVERIFY(client
                .call(QStringLiteral("group.members.remove"),
                      QJsonObject{{QStringLiteral("id"), id},
                                  {QStringLiteral("version"), 2},
                                  {QStringLiteral("members"),
                                   QJsonArray{QStringLiteral("spam@bad.example")}}})
                .contains(QStringLiteral("result")));
    QVERIFY(proxy.decide("192.0.2.1", "spam@bad.example", "a@corp.example").startsWith("DEFER"));
    QVERIFY(client
                .call(QStringLiteral("group.delete"),
                      QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("version"), 3}})
                .contains(QStringLiteral("result")));

    const qint64 expires = proxy.clock.now() + 86400;
    QVERIFY(
        client
            .call(QStringLiteral("autoallow.add"),
                  QJsonObject{{QStringLiteral("external"), QStringLiteral("Friend@Out.example")},
                              {QStringLiteral("internal"), QStringLiteral("me@corp.example")},
                              {QStringLiteral("expiresAt"), expires}})
            .contains(QStringLiteral("result")));
    const QJsonObject allowList =
        client.result(QStringLiteral("autoallow.list"),
                      QJsonObject{{QStringLiteral("filter"), QStringLiteral("friend")}});
    QCOMPARE(allowList.value(QStringLiteral("total")).toInt(), 1);
    QCOMPARE(proxy.decide("192.0.2.1", "friend@out.example", "me@corp.example"),
             QByteArray("DUNNO"));
    QVERIFY(
        client
            .call(QStringLiteral("autoallow.remove"),
                  QJsonObject{{QStringLiteral("external"), QStringLiteral("friend@out.example")},
                              {QStringLiteral("internal"), QStringLiteral("me@corp.example")}})
            .contains(QStringLiteral("result")));
    QCOMPARE(TestClient::errorCode(client.call(
                 QStringLiteral("autoallow.remove"),
                 QJsonObject{{QStringLiteral("external"), QStringLiteral("friend@out.example")},
                             {QStringLiteral("internal"), QStringLiteral("me@corp.example")}})),
             QStringLiteral("not_found"));
    QCOMPARE(client.result(QStringLiteral("autoallow.list")).value(QStringLiteral("total")).toInt(),
             0);
}

void ControlServerTest::groupCsvImportExportRoundTripAndABadLineIsRefused()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const qint64 id =
        client
            .result(
                QStringLiteral("group.create"),
                QJsonObject{{QStringLiteral("group"),
                             QJsonObject{{QStringLiteral("name"), QStringLiteral("Partners")}}}})
            .value(QStringLiteral("id"))
            .toInteger();
    QVERIFY(id > 0);

    const QString csv = QStringLiteral("member\r\n# suppliers\r\nsales@supply.test\r\n"
                                       "\"@partner.test\"\r\n192.0.2.0/24\r\n");
    QJsonObject imported =
        client.result(QStringLiteral("group.import"), QJsonObject{{QStringLiteral("id"), id},
                                                                  {QStringLiteral("version"), 1},
                                                                  {QStringLiteral("csv"), csv}});
    QCOMPARE(imported.value(QStringLiteral("read")).toInt(), 3);
    QCOMPARE(imported.value(QStringLiteral("version")).toInt(), 2);
    QVERIFY(proxy.decide("198.51.100.1", "x@partner.test", "y@corp.example").startsWith("DEFER"));

    // Export gives the same members back as CSV; importing that with replace changes nothing.
    const QJsonObject exported =
        client.result(QStringLiteral("group.export"), QJsonObject{{QStringLiteral("id"), id}});
    const QString out = exported.value(QStringLiteral("csv")).toString();
    QVERIFY2(out.startsWith(QStringLiteral("member\n")), qPrintable(out));
    for (const QString &m : {QStringLiteral("sales@supply.test"), QStringLiteral("@partner.test"),
                             QStringLiteral("192.0.2.0/24")})
        QVERIFY2(out.contains(m + u'\n'), qPrintable(out));
    QCOMPARE(exported.value(QStringLiteral("members")).toInt(), 3);
    imported = client.result(QStringLiteral("group.import"),
                             QJsonObject{{QStringLiteral("id"), id},
                                         {QStringLiteral("version"), 2},
                                         {QStringLiteral("csv"), out},
                                         {QStringLiteral("replace"), true}});
    QCOMPARE(imported.value(QStringLiteral("read")).toInt(), 3);
    QCOMPARE(client.result(QStringLiteral("group.export"), QJsonObject{{QStringLiteral("id"), id}})
                 .value(QStringLiteral("csv"))
                 .toString(),
             out);

    // Replace with a shorter list.
    imported = client.result(
        QStringLiteral("group.import"),
        QJsonObject{{QStringLiteral("id"), id},
                    {QStringLiteral("version"), imported.value(QStringLiteral("version")).toInt()},
                    {QStringLiteral("csv"), QStringLiteral("only@one.test\n")},
                    {QStringLiteral("replace"), true}});
    const qint64 version = imported.value(QStringLiteral("version")).toInteger();
    QCOMPARE(client.result(QStringLiteral("group.get"), QJsonObject{{QStringLiteral("id"), id}})
                 .value(QStringLiteral("members"))
                 .toArray(),
             QJsonArray{QStringLiteral("only@one.test")});

    // A bad line refuses the whole file, named by its number; nothing changes.
    const QJsonObject bad = client.call(
        QStringLiteral("group.import"),
        QJsonObject{{QStringLiteral("id"), id},
                    {QStringLiteral("version"), version},
                    {QStringLiteral("csv"), QStringLiteral("member\na@b.test\nnot a member\n")}});
    QCOMPARE(TestClient::errorCode(bad), QStringLiteral("bad_request"));
    QCOMPARE(TestClient::errorField(bad), QStringLiteral("params.csv"));
    const QString message =
        bad.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
    QVERIFY2(message.contains(QStringLiteral("line 3")), qPrintable(message));
    QCOMPARE(client.result(QStringLiteral("group.get"), QJsonObject{{QStringLiteral("id"), id}})
                 .value(QStringLiteral("version"))
                 .toInteger(),
             version);

    // Version-checked like every change; unknown group; the read-only token may not import.
    const QJsonObject stale =
        client.call(QStringLiteral("group.import"), QJsonObject{{QStringLiteral("id"), id},
                                                                {QStringLiteral("version"), 1},
                                                                {QStringLiteral("csv"), csv}});
    QCOMPARE(TestClient::errorCode(stale), QStringLiteral("stale_version"));
    const QJsonObject missing =
        client.call(QStringLiteral("group.export"), QJsonObject{{QStringLiteral("id"), 999}});
    QCOMPARE(TestClient::errorCode(missing), QStringLiteral("not_found"));
    TestClient reader;
    QVERIFY(reader.login(proxy.url(), proxy.token(false)));
    QCOMPARE(TestClient::errorCode(reader.call(QStringLiteral("group.import"),
                                               QJsonObject{{QStringLiteral("id"), id},
                                                           {QStringLiteral("version"), version},
                                                           {QStringLiteral("csv"), csv}})),
             QStringLiteral("forbidden"));
    QVERIFY(reader.call(QStringLiteral("group.export"), QJsonObject{{QStringLiteral("id"), id}})
                .contains(QStringLiteral("result")));
}

QTEST_GUILESS_MAIN(ControlServerTest)
#include "tst_control_server.moc"
