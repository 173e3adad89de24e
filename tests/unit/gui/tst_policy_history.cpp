// SPDX-License-Identifier: GPL-3.0-or-later
// The console's replay and history against a whole proxy in the test process (the real
// control server, SQLite store, engine and event log), offscreen: the replay dialog shows the
// diff the proxy computed, the history lists versions, shows a version's difference, rolls
// back after the one confirmation, and compares two proxies' tables. Models are checked with
// QAbstractItemModelTester.

#include "../control/ControlTestProxy.h"
#include "client/ProxyRegistry.h"
#include "dialogs/Confirmation.h"
#include "dialogs/ReplayDialog.h"
#include "models/PolicyVersionModel.h"
#include "models/ReplayDiffModel.h"
#include "pages/PolicyHistoryView.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QJsonArray>
#include <QTableView>

using namespace greygate;
using namespace greygate::test;

namespace {

QJsonObject policyJson(const QString &narrative, const QString &action, const QString &domain)
{
    return QJsonObject{
        {QStringLiteral("narrative"), narrative},
        {QStringLiteral("action"), action},
        {QStringLiteral("from"), QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                                             {QStringLiteral("value"), domain}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
}

QString add(ProxyRegistry &registry, const ControlTestProxy &proxy, const QString &name)
{
    ProxyEndpoint e;
    e.name = name;
    e.url = proxy.url();
    e.token = proxy.token();
    const QString id = registry.add(e);
    // The caller checks the state: a QTRY_ macro cannot return a value from here.
    QTest::qWaitFor(
        [&] { return registry.connection(id)->state() == ProxyConnection::State::Connected; },
        10'000);
    return id;
}

} // namespace

class TstPolicyHistory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void replayDialogShowsTheProxysDiffGroupedByDomain();
    void historyShowsADiffRollsBackAndComparesProxies();
    void tablesCompareByPolicyIgnoringBookkeeping();
};

void TstPolicyHistory::replayDialogShowsTheProxysDiffGroupedByDomain()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    for (int i = 0; i < 4; ++i)
        proxy.decide("192.0.2." + QByteArray::number(i + 1),
                     "u" + QByteArray::number(i) + "@new.test", "alice@example.com");
    proxy.decide("192.0.2.9", "x@other.test", "alice@example.com");
    ProxyRegistry registry;
    const QString id = add(registry, proxy, QStringLiteral("mx1"));
    QCOMPARE(registry.connection(id)->state(), ProxyConnection::State::Connected);

    const QJsonObject candidate = ReplayDialog::candidateWith(
        {}, policyJson(QStringLiteral("new partner"), QStringLiteral("bypass"),
                       QStringLiteral("new.test")));
    ReplayDialog dialog(registry, id, candidate);
    QAbstractItemModelTester tester(dialog.model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    dialog.replay();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.busy(), 10'000);
    QCOMPARE(dialog.model()->rowCount(), 1);
    QCOMPARE(dialog.model()->index(0, ReplayDiffModel::Domain).data().toString(),
             QStringLiteral("new.test"));
    QCOMPARE(dialog.model()->index(0, ReplayDiffModel::Attempts).data().toInt(), 4);
    QCOMPARE(dialog.model()->index(0, ReplayDiffModel::Now).data().toString(),
             QStringLiteral("Bypass"));
    QVERIFY2(dialog.summary().startsWith(QStringLiteral("4 of 5 attempts would change: 4 now "
                                                        "bypass")),
             qPrintable(dialog.summary()));

    // A candidate the proxy refuses: the reason is shown, the table empty.
    ReplayDialog bad(
        registry, id,
        ReplayDialog::candidateWith({}, policyJson(QStringLiteral("x"), QStringLiteral("sometimes"),
                                                   QStringLiteral("a.test"))));
    bad.replay();
    QTRY_VERIFY_WITH_TIMEOUT(!bad.busy(), 10'000);
    QCOMPARE(bad.model()->rowCount(), 0);
    QVERIFY2(bad.summary().contains(QStringLiteral("action")), qPrintable(bad.summary()));
}

void TstPolicyHistory::historyShowsADiffRollsBackAndComparesProxies()
{
    ControlTestProxy mx1, mx2;
    QVERIFY2(mx1.start(), qPrintable(mx1.startError));
    QVERIFY2(mx2.start(), qPrintable(mx2.startError));
    ProxyRegistry registry;
    const QString one = add(registry, mx1, QStringLiteral("mx1"));
    const QString two = add(registry, mx2, QStringLiteral("mx2"));
    QCOMPARE(registry.connection(one)->state(), ProxyConnection::State::Connected);
    QCOMPARE(registry.connection(two)->state(), ProxyConnection::State::Connected);
    const auto call = [&](const QString &proxyId, const QString &method, const QJsonObject &p) {
        QJsonObject result;
        bool done = false;
        registry.connection(proxyId)->call(method, p, [&](const ProxyConnection::Reply &r) {
            result = r.result.toObject();
            done = true;
        });
        QTest::qWaitFor([&] { return done; }, 10'000);
        return result;
    };
    call(one, QStringLiteral("policy.create"),
         {{QStringLiteral("policy"), policyJson(QStringLiteral("partner"), QStringLiteral("bypass"),
                                                QStringLiteral("partner.test"))}});
    mx1.clock.advanceSeconds(10);
    QJsonObject p = call(one, QStringLiteral("policy.get"), {{QStringLiteral("id"), 1}});
    p.insert(QStringLiteral("action"), QStringLiteral("greylist"));
    call(one, QStringLiteral("policy.update"), {{QStringLiteral("policy"), p}});

    PolicyHistoryView view(registry);
    QAbstractItemModelTester tester(view.model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setProxyId(one);
    QTRY_COMPARE_WITH_TIMEOUT(view.model()->rowCount(), 2, 10'000);
    QCOMPARE(view.model()->index(0, PolicyVersionModel::What).data().toString(),
             QStringLiteral("Updated"));
    view.table()->selectRow(1); // the creation
    QTRY_VERIFY_WITH_TIMEOUT(view.diffText().contains(QStringLiteral("action: bypass -> greylist")),
                             10'000);

    view.compareProxies();
    QTRY_VERIFY_WITH_TIMEOUT(view.comparisonText().startsWith(QStringLiteral("mx2: only here: 1")),
                             10'000);

    Confirmation::setTestAnswer(1);
    QSignalSpy rolledBack(&view, &PolicyHistoryView::rolledBack);
    view.table()->selectRow(1);
    view.rollbackSelected();
    QVERIFY(rolledBack.wait(10'000));
    Confirmation::setTestAnswer(-1);
    QCOMPARE(call(one, QStringLiteral("policy.get"), {{QStringLiteral("id"), 1}})
                 .value(QStringLiteral("action"))
                 .toString(),
             QStringLiteral("bypass"));
    QTRY_COMPARE_WITH_TIMEOUT(view.model()->rowCount(), 3, 10'000);
    QCOMPARE(view.model()->index(0, PolicyVersionModel::What).data().toString(),
             QStringLiteral("Rolled back"));
}

void TstPolicyHistory::tablesCompareByPolicyIgnoringBookkeeping()
{
    const QJsonObject a{{QStringLiteral("id"), 1},
                        {QStringLiteral("version"), 3},
                        {QStringLiteral("action"), QStringLiteral("bypass")},
                        {QStringLiteral("updatedBy"), QStringLiteral("x")}};
    QJsonObject sameOtherVersion = a;
    sameOtherVersion.insert(QStringLiteral("version"), 9);
    sameOtherVersion.insert(QStringLiteral("updatedBy"), QStringLiteral("y"));
    QJsonObject changed = a;
    changed.insert(QStringLiteral("action"), QStringLiteral("greylist"));
    QJsonObject other{{QStringLiteral("id"), 2}};
    QCOMPARE(PolicyHistoryView::compareTables({a}, {sameOtherVersion}), QString());
    QCOMPARE(PolicyHistoryView::compareTables({a}, {changed}), QStringLiteral("different: 1"));
    QCOMPARE(PolicyHistoryView::compareTables({a}, {a, other}), QStringLiteral("only there: 2"));
    QVERIFY(PolicyHistoryView::describeDiff({}).contains(QStringLiteral("as it was")));
}

QTEST_MAIN(TstPolicyHistory)
#include "tst_policy_history.moc"
