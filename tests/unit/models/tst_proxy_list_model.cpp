// SPDX-License-Identifier: GPL-3.0-or-later
// ProxyListModel follows the registry live: a proxy added shows its state as it connects to
// a real greygated, then what its hello said (store, version) and an uptime that ticks on the
// model's clock; a wrong token shows "refused" with the reason; removal removes the row.

#include "LiveModelsDaemon.h"
#include "models/ProxyListModel.h"

#include <QAbstractItemModelTester>

using namespace greygate;
using namespace greygate::test;

class ProxyListModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void followsTheRegistryAndTheConnectionState();
    void aRefusedTokenShowsTheReason();
    void aCertificateNotThePinnedOneReadsCertificateChanged();
    void formatDuration_data();
    void formatDuration();
};

void ProxyListModelTest::followsTheRegistryAndTheConnectionState()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(), qPrintable(d.error));
    ProxyListModel model(d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    qint64 nowMs = 1'000'000;
    model.setClock([&nowMs] { return nowMs; });
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QVERIFY(d.connectRegistry(QStringLiteral("mx1")));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(model.rowCount(), 1);
    QVERIFY(changed.count() >= 2); // connecting, authenticating, connected
    QCOMPARE(model.index(0, ProxyListModel::Name).data().toString(), QStringLiteral("mx1"));
    QCOMPARE(model.index(0, ProxyListModel::Url).data().toString(), d.url().toString());
    QCOMPARE(model.index(0, ProxyListModel::State).data().toString(), QStringLiteral("connected"));
    QCOMPARE(model.index(0, 0).data(ProxyListModel::StateRole).toInt(),
             int(ProxyConnection::State::Connected));
    QCOMPARE(model.index(0, ProxyListModel::StoreKind).data().toString(), QStringLiteral("sqlite"));
    QVERIFY(!model.index(0, ProxyListModel::EngineVersion).data().toString().isEmpty());
    QCOMPARE(model.proxyId(0), d.proxyId);

    const qint64 uptime = model.index(0, ProxyListModel::Uptime).data(Qt::UserRole).toLongLong();
    QVERIFY(uptime >= 0);
    nowMs += 125'000;
    changed.clear();
    model.tick();
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().column(), int(ProxyListModel::Uptime));
    QCOMPARE(changed.first().at(1).toModelIndex().column(), int(ProxyListModel::Uptime));
    QCOMPARE(model.index(0, ProxyListModel::Uptime).data(Qt::UserRole).toLongLong(), uptime + 125);

    // The daemon goes away: the row says so.
    QVERIFY(d.daemon.terminate());
    QTRY_COMPARE_WITH_TIMEOUT(model.index(0, ProxyListModel::State).data().toString(),
                              QStringLiteral("reconnecting"), 10'000);
    QCOMPARE(model.index(0, ProxyListModel::Uptime).data().toString(), QString());
    QVERIFY(!model.index(0, ProxyListModel::LastError).data().toString().isEmpty());

    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QVERIFY(d.registry.remove(d.proxyId));
    QCOMPARE(removed.count(), 1);
    QCOMPARE(model.rowCount(), 0);
}

void ProxyListModelTest::aRefusedTokenShowsTheReason()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(), qPrintable(d.error));
    ProxyEndpoint first;
    first.name = QStringLiteral("not this one");
    first.url = QUrl(QStringLiteral("ws://127.0.0.1:1"));
    d.registry.add(first, false); // listed before the model exists, never opened
    ProxyListModel model(d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, ProxyListModel::State).data().toString(),
             QStringLiteral("disconnected"));
    ProxyEndpoint endpoint;
    endpoint.name = QStringLiteral("wrong token");
    endpoint.url = d.url();
    endpoint.token = "not-the-token-not-the-token";
    d.registry.add(endpoint);
    QCOMPARE(model.rowCount(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(model.index(1, ProxyListModel::State).data().toString(),
                              QStringLiteral("refused"), 10'000);
    QVERIFY(!model.index(1, ProxyListModel::LastError).data().toString().isEmpty());
    QCOMPARE(model.index(1, ProxyListModel::Uptime).data().toString(), QString());
}

void ProxyListModelTest::aCertificateNotThePinnedOneReadsCertificateChanged()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(3600, {QStringLiteral("--control-tls=on")}), qPrintable(d.error));
    ProxyListModel model(d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QUrl url = d.url();
    url.setScheme(QStringLiteral("wss"));
    // First contact without a pin: trusted, and the fingerprint is there to be pinned.
    ProxyEndpoint first;
    first.name = QStringLiteral("first contact");
    first.url = url;
    first.token = d.token;
    d.registry.add(first);
    QTRY_COMPARE_WITH_TIMEOUT(model.index(0, ProxyListModel::State).data().toString(),
                              QStringLiteral("connected"), 10'000);
    const QString seen = model.index(0, ProxyListModel::Certificate).data().toString();
    QCOMPARE(seen.size(), 64);
    // Pinned to another certificate: refused before the token is sent, and said so.
    ProxyEndpoint pinned = first;
    pinned.name = QStringLiteral("pinned elsewhere");
    pinned.pinnedSha256 = QByteArray(64, 'a');
    d.registry.add(pinned);
    QTRY_COMPARE_WITH_TIMEOUT(model.index(1, ProxyListModel::State).data().toString(),
                              QStringLiteral("certificate changed"), 10'000);
    QCOMPARE(model.index(1, 0).data(ProxyListModel::CertificateChangedRole).toBool(), true);
    QCOMPARE(model.index(1, ProxyListModel::Certificate).data().toString(), seen);
    QCOMPARE(model.index(0, 0).data(ProxyListModel::CertificateChangedRole).toBool(), false);
}

void ProxyListModelTest::formatDuration_data()
{
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("seconds") << qint64(42) << QStringLiteral("42 s");
    QTest::newRow("minutes") << qint64(125) << QStringLiteral("2 min 5 s");
    QTest::newRow("hours") << qint64(3 * 3600 + 60) << QStringLiteral("3 h 1 min");
    QTest::newRow("days") << qint64(2 * 86400 + 5 * 3600) << QStringLiteral("2 d 5 h");
    QTest::newRow("negative") << qint64(-5) << QStringLiteral("0 s");
}

void ProxyListModelTest::formatDuration()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, text);
    QCOMPARE(ProxyListModel::formatDuration(seconds), text);
}

QTEST_GUILESS_MAIN(ProxyListModelTest)
#include "tst_proxy_list_model.moc"
