// SPDX-License-Identifier: GPL-3.0-or-later
// The console's bundled engine: greygated's composition on its own thread, started with an
// ephemeral control port in a temp dbdir; it registers itself in the ProxyRegistry as the
// local proxy, answers hello and status through ProxyConnection and decides a real policy
// request; it stops (and starts again on a new port); a port in use fails with advice.

#include "LocalEngine.h"
#include "PolicyClient.h"
#include "client/ProxyRegistry.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <optional>

using namespace greygate;

namespace {

std::optional<ProxyConnection::Reply> call(ProxyConnection *c, const QString &method)
{
    std::optional<ProxyConnection::Reply> reply;
    c->call(method, {}, [&](const ProxyConnection::Reply &r) { reply = r; });
    if (!QTest::qWaitFor([&] { return reply.has_value(); }, 10'000))
        return std::nullopt;
    return reply;
}

LocalEngine::Options optionsFor(const QTemporaryDir &dir, quint16 policyPort = 0)
{
    LocalEngine::Options o;
    o.dbDir = dir.filePath(QStringLiteral("db"));
    o.policyPort = policyPort;
    return o;
}

} // namespace

class LocalEngineTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void startsRegistersServesHelloAndStops();
    void startsAgainAfterAStop();
    void aPortInUseFailsWithAdvice();
    void dbdirComesFromTheEnvironmentForTests();
};

void LocalEngineTest::startsRegistersServesHelloAndStops()
{
    QTemporaryDir dir;
    ProxyRegistry registry;
    LocalEngine engine(registry, optionsFor(dir));
    QSignalSpy states(&engine, &EngineControl::stateChanged);
    QSignalSpy added(&registry, &ProxyRegistry::proxyAdded);
    engine.start();
    QCOMPARE(engine.state(), EngineControl::State::Starting); // on its thread, not blocking
    QTRY_COMPARE_WITH_TIMEOUT(engine.state(), EngineControl::State::Running, 30'000);
    QVERIFY2(engine.error().isEmpty(), qPrintable(engine.error()));
    QVERIFY(engine.controlPort() != 0);
    QVERIFY(engine.policyPort() != 0);

    // Registered as the local proxy, reached like any other.
    QCOMPARE(added.count(), 1);
    const QString id = QString(LocalEngine::kProxyId);
    const ProxyEndpoint *e = registry.endpoint(id);
    QVERIFY(e);
    QVERIFY(e->local);
    QCOMPARE(e->url.host(), QStringLiteral("127.0.0.1"));
    QCOMPARE(e->url.port(), int(engine.controlPort()));
    ProxyConnection *c = registry.connection(id);
    QTRY_COMPARE_WITH_TIMEOUT(c->state(), ProxyConnection::State::Connected, 15'000);
    QCOMPARE(c->hello().role, QStringLiteral("admin"));
    QCOMPARE(c->hello().storeKind, QStringLiteral("sqlite"));
    QVERIFY(!c->hello().engineVersion.isEmpty());
    const auto status = call(c, QStringLiteral("status"));
    QVERIFY(status && status->ok);

    // It decides: a first attempt is greylisted.
    test::PolicyClient policy;
    QVERIFY(policy.connectTo(engine.policyPort()));
    const auto answer = policy.askRcpt("192.0.2.7", "a@sender.example", "b@corp.example");
    QVERIFY(answer);
    QVERIFY2(answer->startsWith("DEFER_IF_PERMIT"), answer->constData());
    const auto after = call(c, QStringLiteral("status"));
    QVERIFY(after && after->ok);
    QCOMPARE(after->result.toObject().value(u"triplets").toInteger(), 1);

    engine.stop();
    QCOMPARE(engine.state(), EngineControl::State::Stopping);
    QTRY_COMPARE_WITH_TIMEOUT(engine.state(), EngineControl::State::Stopped, 15'000);
    QCOMPARE(c->state(), ProxyConnection::State::Disconnected);
    QVERIFY(registry.endpoint(id)); // still listed, to be started again
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("db/control.token"))));
}

void LocalEngineTest::startsAgainAfterAStop()
{
    QTemporaryDir dir;
    ProxyRegistry registry;
    LocalEngine engine(registry, optionsFor(dir));
    engine.start();
    QTRY_COMPARE_WITH_TIMEOUT(engine.state(), EngineControl::State::Running, 30'000);
    engine.stop();
    QTRY_COMPARE_WITH_TIMEOUT(engine.state(), EngineControl::State::Stopped, 15'000);
    engine.start();
    QTRY_COMPARE_WITH_TIMEOUT(engine.state(), EngineControl::State::Running, 30'000);
    QCOMPARE(registry.count(), 1); // the same entry, updated
    ProxyConnection *c = registry.connection(QString(LocalEngine::kProxyId));
    QCOMPARE(registry.endpoint(QString(LocalEngine::kProxyId))->url.port(),
             int(engine.controlPort()));
    QTRY_COMPARE_WITH_TIMEOUT(c->state(), ProxyConnection::State::Connected, 15'000);
    // The destructor stops it (bounded) without help.
}

void LocalEngineTest::aPortInUseFailsWithAdvice()
{
    QTcpServer occupant;
    QVERIFY(occupant.listen(QHostAddress::LocalHost, 0));
    QTemporaryDir dir;
    ProxyRegistry registry;
    LocalEngine engine(registry, optionsFor(dir, occupant.serverPort()));
    engine.start();
    QTRY_COMPARE_WITH_TIMEOUT(engine.state(), EngineControl::State::Failed, 30'000);
    QVERIFY2(engine.error().contains(QLatin1String("--engine-inet")), qPrintable(engine.error()));
    QCOMPARE(registry.count(), 0);
    // It can be started again once the port is free.
    occupant.close();
    engine.start();
    QTRY_COMPARE_WITH_TIMEOUT(engine.state(), EngineControl::State::Running, 30'000);
}

void LocalEngineTest::dbdirComesFromTheEnvironmentForTests()
{
    qputenv("GREYGATE_DBDIR", QByteArrayLiteral("/tmp/greygate-test-dbdir"));
    QCOMPARE(LocalEngine::defaultDbDir(), QStringLiteral("/tmp/greygate-test-dbdir"));
    qunsetenv("GREYGATE_DBDIR");
    QVERIFY(LocalEngine::defaultDbDir().endsWith(QLatin1String("/greygate")));
}

QTEST_GUILESS_MAIN(LocalEngineTest)
#include "tst_local_engine.moc"
