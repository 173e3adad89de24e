// SPDX-License-Identifier: GPL-3.0-or-later
// PolicyTableModel, GroupListModel, GroupMembersModel and AutoAllowModel against a real
// greygated: loading, the effective order, changes with versions (a stale one is a conflict
// carrying the proxy's message, nothing applied), another admin's changes followed without a
// reset, a group in use refused, and the Auto Allow table paged and filtered.

#include "LiveModelsDaemon.h"
#include "models/AutoAllowModel.h"
#include "models/GroupListModel.h"
#include "models/GroupMembersModel.h"
#include "models/PolicyTableModel.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

using namespace greygate;
using namespace greygate::test;

namespace {

QJsonObject policy(const QString &narrative, const QJsonObject &from)
{
    return QJsonObject{
        {QStringLiteral("narrative"), narrative},
        {QStringLiteral("action"), QStringLiteral("bypass")},
        {QStringLiteral("from"), from},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}},
        {QStringLiteral("enabled"), true}};
}

QJsonObject spec(const QString &type, const QString &value = QString())
{
    QJsonObject o{{QStringLiteral("type"), type}};
    if (!value.isEmpty())
        o.insert(QStringLiteral("value"), value);
    return o;
}

} // namespace

class PolicyModelsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void policiesWithTheirEffectiveOrder();
    void aStaleUpdateIsAConflictWithTheProxysMessage();
    void anotherAdminsChangeIsFollowedWithoutAReset();
    void groupsAndTheirMembers();
    void autoAllowIsPagedAndFiltered();
};

void PolicyModelsTest::policiesWithTheirEffectiveOrder()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(), qPrintable(d.error));
    QVERIFY(d.connectRegistry());
    PolicyTableModel model(d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &PolicyTableModel::loaded);
    QSignalSpy done(&model, &PolicyTableModel::changeDone);
    model.setProxyId(d.proxyId);
    QVERIFY(loaded.wait(10'000));
    QCOMPARE(model.rowCount(), 0);

    model.create(policy(QStringLiteral("partners"),
                        spec(QStringLiteral("domain"), QStringLiteral("partner.test"))));
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    const qint64 domainId = done.last().at(1).toLongLong();
    model.create(policy(QStringLiteral("the boss"),
                        spec(QStringLiteral("address"), QStringLiteral("boss@partner.test"))));
    QVERIFY(done.wait(10'000));
    const qint64 addressId = done.last().at(1).toLongLong();
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 2, 10'000);
    // An address is more specific than a domain: it comes first, whatever the ids say.
    QTRY_COMPARE_WITH_TIMEOUT(
        model.index(model.rowOfId(addressId), PolicyTableModel::Order).data().toInt(), 1, 10'000);
    QCOMPARE(model.index(model.rowOfId(domainId), PolicyTableModel::Order).data().toInt(), 2);
    QCOMPARE(model.index(model.rowOfId(domainId), PolicyTableModel::From).data().toString(),
             QStringLiteral("Domain partner.test"));
    QCOMPARE(model.index(model.rowOfId(domainId), PolicyTableModel::Action).data().toString(),
             QStringLiteral("Take no action"));
    const QJsonObject json = model.policyJson(model.rowOfId(addressId));
    QCOMPARE(json.value(QStringLiteral("narrative")).toString(), QStringLiteral("the boss"));
    QCOMPARE(json.value(QStringLiteral("id")).toInteger(), addressId);

    const qint64 version = json.value(QStringLiteral("version")).toInteger();
    model.remove(addressId, version);
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    QCOMPARE(model.index(0, PolicyTableModel::Order).data().toInt(), 1);
}

void PolicyModelsTest::aStaleUpdateIsAConflictWithTheProxysMessage()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(), qPrintable(d.error));
    QVERIFY(d.connectRegistry());
    QVERIFY(d.call(QStringLiteral("policy.create"),
                   QJsonObject{{QStringLiteral("policy"),
                                policy(QStringLiteral("v1"), spec(QStringLiteral("everyone")))}})
                .ok);
    PolicyTableModel model(d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &PolicyTableModel::loaded);
    model.setProxyId(d.proxyId);
    QVERIFY(loaded.wait(10'000));
    QCOMPARE(model.rowCount(), 1);
    const QJsonObject read = model.policyJson(0);

    QSignalSpy done(&model, &PolicyTableModel::changeDone);
    QSignalSpy conflict(&model, &PolicyTableModel::conflict);
    QJsonObject first = read;
    first.insert(QStringLiteral("narrative"), QStringLiteral("v2"));
    model.update(first);
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(model.index(0, PolicyTableModel::Narrative).data().toString(),
                              QStringLiteral("v2"), 10'000);
    // An edit made from the version read before: refused, reported, not applied.
    QJsonObject stale = read;
    stale.insert(QStringLiteral("narrative"), QStringLiteral("lost?"));
    model.update(stale);
    QVERIFY(conflict.wait(10'000));
    QCOMPARE(conflict.first().at(0).toLongLong(), read.value(QStringLiteral("id")).toInteger());
    QVERIFY2(conflict.first().at(1).toString().contains(QStringLiteral("stale version")),
             qPrintable(conflict.first().at(1).toString()));
    QTest::qWait(300);
    QCOMPARE(model.index(0, PolicyTableModel::Narrative).data().toString(), QStringLiteral("v2"));
}

void PolicyModelsTest::anotherAdminsChangeIsFollowedWithoutAReset()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(), qPrintable(d.error));
    QVERIFY(d.connectRegistry());
    PolicyTableModel model(d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &PolicyTableModel::loaded);
    model.setProxyId(d.proxyId);
    QVERIFY(loaded.wait(10'000));
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    // Another console (its own connection): the model learns of it by the policy event.
    ProxyConnection::Options o;
    o.url = d.url();
    o.token = d.token;
    ProxyConnection other(o);
    QSignalSpy ready(&other, &ProxyConnection::ready);
    other.open();
    QVERIFY(ready.wait(10'000));
    std::optional<ProxyConnection::Reply> reply;
    other.call(QStringLiteral("policy.create"),
               QJsonObject{{QStringLiteral("policy"),
                            policy(QStringLiteral("by someone else"),
                                   spec(QStringLiteral("domain"), QStringLiteral("x.test")))}},
               [&](const ProxyConnection::Reply &r) { reply = r; });
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    QVERIFY(reply && reply->ok);
    QCOMPARE(model.index(0, PolicyTableModel::Narrative).data().toString(),
             QStringLiteral("by someone else"));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(reset.count(), 0);
}

void PolicyModelsTest::groupsAndTheirMembers()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(), qPrintable(d.error));
    QVERIFY(d.connectRegistry());
    GroupListModel groups(d.registry);
    QAbstractItemModelTester groupsTester(&groups,
                                          QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy done(&groups, &GroupListModel::changeDone);
    QSignalSpy failed(&groups, &GroupListModel::changeFailed);
    QSignalSpy conflict(&groups, &GroupListModel::conflict);
    groups.setProxyId(d.proxyId);
    groups.create(QStringLiteral("VIP"));
    QVERIFY(done.wait(10'000));
    const qint64 vip = done.last().at(1).toLongLong();
    groups.create(QStringLiteral("Blocked Senders"));
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(groups.rowCount(), 2, 10'000);
    const int vipRow = groups.rowOfId(vip);
    QCOMPARE(groups.index(vipRow, GroupListModel::Name).data().toString(), QStringLiteral("VIP"));
    QCOMPARE(groups.index(vipRow, GroupListModel::Kind).data().toString(),
             QStringLiteral("Custom"));
    QCOMPARE(groups.index(1 - vipRow, 0).data(GroupListModel::KindRole).toString(),
             QStringLiteral("blocked"));

    GroupMembersModel members(d.registry);
    QAbstractItemModelTester membersTester(&members,
                                           QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy membersLoaded(&members, &GroupMembersModel::loaded);
    members.setGroup(d.proxyId, vip);
    QVERIFY(membersLoaded.wait(10'000));
    QCOMPARE(members.groupName(), QStringLiteral("VIP"));
    QCOMPARE(members.rowCount(), 0);
    QSignalSpy membersDone(&members, &GroupMembersModel::changeDone);
    QSignalSpy membersFailed(&members, &GroupMembersModel::changeFailed);
    members.add({QStringLiteral("boss@partner.test"), QStringLiteral("@vip.test"),
                 QStringLiteral("*.cdn.test"), QStringLiteral("198.51.100.0/24")});
    QVERIFY(membersDone.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(members.rowCount(), 4, 10'000);
    QCOMPARE(members.index(members.rowOf(QStringLiteral("@vip.test")), GroupMembersModel::Kind)
                 .data()
                 .toString(),
             QStringLiteral("Domain"));
    QCOMPARE(members.index(members.rowOf(QStringLiteral("198.51.100.0/24")), 1).data().toString(),
             QStringLiteral("Network"));
    // The list's member count follows by the group event.
    QTRY_COMPARE_WITH_TIMEOUT(
        groups.index(groups.rowOfId(vip), GroupListModel::Members).data().toInt(), 4, 10'000);

    members.add({QStringLiteral("not a member!")});
    QVERIFY(membersFailed.wait(10'000));
    QVERIFY(!membersFailed.last().at(1).toString().isEmpty());
    members.remove({QStringLiteral("@vip.test")});
    QVERIFY(membersDone.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(members.rowCount(), 3, 10'000);

    // CSV through the proxy's own parser: a bad line is refused with its number, nothing
    // imported; a good file replaces the members; the export gives them back.
    members.importCsv(QStringLiteral("member\nok@x.test\nnot a member!\n"));
    QVERIFY(membersFailed.wait(10'000));
    QVERIFY2(membersFailed.last().at(1).toString().contains(QStringLiteral("line 3")),
             qPrintable(membersFailed.last().at(1).toString()));
    QTest::qWait(300);
    QCOMPARE(members.rowCount(), 3);
    members.importCsv(QStringLiteral("member\none@x.test\n@two.test\n"), true);
    QVERIFY(membersDone.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(
        members.members(), (QStringList{QStringLiteral("one@x.test"), QStringLiteral("@two.test")}),
        10'000);
    QSignalSpy exported(&members, &GroupMembersModel::csvExported);
    members.exportCsv();
    QVERIFY(exported.wait(10'000));
    QVERIFY(exported.first().at(0).toString().contains(QStringLiteral("one@x.test")));
    QVERIFY(exported.first().at(0).toString().contains(QStringLiteral("@two.test")));

    // A group a policy uses cannot go; a stale version is a conflict.
    QVERIFY(d.call(QStringLiteral("policy.create"),
                   QJsonObject{{QStringLiteral("policy"),
                                policy(QStringLiteral("vip"),
                                       spec(QStringLiteral("group"), QStringLiteral("VIP")))}})
                .ok);
    const qint64 version =
        groups.index(groups.rowOfId(vip), 0).data(GroupListModel::VersionRole).toLongLong();
    groups.remove(vip, version);
    QVERIFY(failed.wait(10'000));
    QCOMPARE(groups.rowCount(), 2);
    groups.remove(vip, version - 1);
    QVERIFY(conflict.wait(10'000));
    QVERIFY(conflict.last().at(1).toString().contains(QStringLiteral("stale version")));
}

void PolicyModelsTest::autoAllowIsPagedAndFiltered()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(), qPrintable(d.error));
    QVERIFY(d.connectRegistry());
    QJsonArray entries;
    for (int i = 0; i < 250; ++i) {
        entries.append(QJsonObject{
            {QStringLiteral("internal"), QStringLiteral("user%1@corp.example").arg(i % 5)},
            {QStringLiteral("external"),
             QStringLiteral("pen%1@pal.test").arg(i, 3, 10, QLatin1Char('0'))},
            {QStringLiteral("createdAt"), QStringLiteral("2026-01-01T00:00:00Z")},
            {QStringLiteral("expiresAt"), QStringLiteral("2099-01-01T00:00:00Z")}});
    }
    const ProxyConnection::Reply imported =
        d.call(QStringLiteral("policy.import"),
               QJsonObject{{QStringLiteral("document"),
                            QJsonObject{{QStringLiteral("format"), 1},
                                        {QStringLiteral("autoAllow"), entries}}}});
    QVERIFY2(imported.ok, qPrintable(imported.error.message));

    // On demand, without the model tester (it calls fetchMore() itself, as a view does).
    AutoAllowModel paged(d.registry);
    paged.setPageSize(100);
    paged.setProxyId(d.proxyId);
    QTRY_COMPARE_WITH_TIMEOUT(paged.rowCount(), 100, 10'000);
    QCOMPARE(paged.total(), 250);
    QVERIFY(paged.canFetchMore({}));
    QTest::qWait(200);
    QCOMPARE(paged.rowCount(), 100); // nothing more until asked
    paged.fetchMore({});
    QTRY_COMPARE_WITH_TIMEOUT(paged.rowCount(), 200, 10'000);
    paged.fetchMore({});
    QTRY_COMPARE_WITH_TIMEOUT(paged.rowCount(), 250, 10'000);
    QVERIFY(!paged.canFetchMore({}));

    // Under the tester, which fetches every page as a scrolled view would.
    AutoAllowModel model(d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPageSize(100);
    model.setProxyId(d.proxyId);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 250, 10'000);
    QVERIFY(!model.canFetchMore({}));
    QCOMPARE(model.index(0, AutoAllowModel::ExpiresAt).data(Qt::UserRole).toLongLong(),
             QDateTime::fromString(QStringLiteral("2099-01-01T00:00:00Z"), Qt::ISODate)
                 .toSecsSinceEpoch());

    model.setFilter(QStringLiteral("pen12"));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 10, 10'000); // pen120..pen129
    QCOMPARE(model.total(), 10);

    QSignalSpy done(&model, &AutoAllowModel::changeDone);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    const QString removed = model.index(0, AutoAllowModel::External).data().toString();
    model.remove(0);
    QVERIFY(done.wait(10'000));
    QCOMPARE(model.rowCount(), 9);
    QCOMPARE(model.total(), 9);
    model.add(QStringLiteral("pen12x@pal.test"), QStringLiteral("*"),
              QDateTime::currentSecsSinceEpoch() + 86400);
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 10, 10'000);
    QCOMPARE(model.total(), 10);
    QCOMPARE(reset.count(), 0); // changes are applied in place
    QVERIFY(model.rowOf(QStringLiteral("pen12x@pal.test\n*")) >= 0);
    QCOMPARE(model.rowOf(removed + QStringLiteral("\nuser0@corp.example")), -1);
}

QTEST_GUILESS_MAIN(PolicyModelsTest)
#include "tst_policy_models.moc"
