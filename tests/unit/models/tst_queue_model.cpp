// SPDX-License-Identifier: GPL-3.0-or-later
// QueueModel against a real greygated: pages fetched on demand (fetchMore with the right
// first/last), the server's filters and sort, the countdown columns on a manual clock (only
// they are signalled), release/delete/permit through the API, errors reported by signal,
// and rows kept current by queue events and attempts, under QAbstractItemModelTester.

#include "LiveModelsDaemon.h"
#include "models/QueueModel.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QJsonObject>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int Triplets = 250;

QByteArray senderOf(int i)
{
    return QStringLiteral("s%1@b.example").arg(i, 3, 10, QLatin1Char('0')).toUtf8();
}

} // namespace

class QueueModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void pagesAreFetchedOnDemand();
    void underTheModelTesterEveryPageArrivesOnce();
    void filtersAndSortAreTheServers_data();
    void filtersAndSortAreTheServers();
    void countdownsTickOnTheirColumnsOnly();
    void releaseDeleteAndPermitGoThroughTheApi();
    void changesByAnotherAdminUpdateTheRows();
    void aRetryOfALoadedTripletRefreshesItsRow();
    void aNewDeferralAppearsWhereTheOrderPutsIt();
    void aBurstBeyondWhatCanBeFollowedMarksTheModelOutdated();
    void noProxyIsAnErrorNotACrash();

private:
    bool loadFirstPage(QueueModel &model);

    LiveModelsDaemon m_d;
};

void QueueModelTest::initTestCase()
{
    QVERIFY2(m_d.start(3600), qPrintable(m_d.error));
    for (int i = 0; i < Triplets; ++i) {
        const QByteArray answer = m_d.rcpt("192.0.2.10", senderOf(i), "rcpt@corp.example");
        QVERIFY2(answer.startsWith("DEFER_IF_PERMIT"), answer.constData());
    }
    QVERIFY(m_d.connectRegistry());
}

bool QueueModelTest::loadFirstPage(QueueModel &model)
{
    QSignalSpy pages(&model, &QueueModel::pageLoaded);
    model.setProxyId(m_d.proxyId);
    return pages.wait(10'000);
}

void QueueModelTest::pagesAreFetchedOnDemand()
{
    // No model tester here: it calls fetchMore() itself (as a view does when scrolled to the
    // end), and this test is about what happens without that. The next test has the tester.
    QueueModel model(m_d.registry);
    model.setPageSize(100);
    model.setFilter({QStringLiteral("deferred"), {}, QStringLiteral("@b.example"), {}, {}});
    QVERIFY(loadFirstPage(model));
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(model.total(), qint64(Triplets));
    QVERIFY(model.canFetchMore({}));
    QTest::qWait(300);
    QCOMPARE(model.rowCount(), 100); // nothing more until asked
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy pages(&model, &QueueModel::pageLoaded);
    model.fetchMore({});
    QVERIFY(!model.canFetchMore({})); // one page at a time
    QVERIFY(pages.wait(10'000));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.first().at(1).toInt(), 100);
    QCOMPARE(inserted.first().at(2).toInt(), 199);
    model.fetchMore({});
    QVERIFY(pages.wait(10'000));
    QCOMPARE(inserted.last().at(1).toInt(), 200);
    QCOMPARE(inserted.last().at(2).toInt(), Triplets - 1);
    QCOMPARE(model.rowCount(), Triplets);
    QVERIFY(!model.canFetchMore({}));
    QCOMPARE(model.index(0, QueueModel::State).data(QueueModel::StateRole).toString(),
             QStringLiteral("deferred"));
    QCOMPARE(model.index(0, QueueModel::Client).data().toString(), QStringLiteral("192.0.2.0/24"));
}

void QueueModelTest::underTheModelTesterEveryPageArrivesOnce()
{
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPageSize(60);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.setProxyId(m_d.proxyId);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), Triplets, 20'000);
    QVERIFY(!model.canFetchMore({}));
    // Contiguous batches, last = first + n - 1, and every triplet once.
    int next = 0;
    for (const QList<QVariant> &signal : std::as_const(inserted)) {
        QCOMPARE(signal.at(1).toInt(), next);
        next = signal.at(2).toInt() + 1;
    }
    QCOMPARE(next, Triplets);
    QSet<QString> senders;
    for (int r = 0; r < model.rowCount(); ++r)
        senders.insert(model.entry(r).sender);
    QCOMPARE(senders.size(), Triplets);
}

void QueueModelTest::filtersAndSortAreTheServers_data()
{
    QTest::addColumn<QString>("sender");
    QTest::addColumn<QString>("client");
    QTest::addColumn<int>("column");
    QTest::addColumn<bool>("descending");
    QTest::addColumn<int>("rows");
    QTest::addColumn<QString>("firstSender");
    QTest::newRow("sender substring, ascending")
        << QStringLiteral("s01") << QString() << int(QueueModel::Sender) << false << 10
        << QStringLiteral("s010@b.example");
    QTest::newRow("sender substring, descending")
        << QStringLiteral("s01") << QString() << int(QueueModel::Sender) << true << 10
        << QStringLiteral("s019@b.example");
    QTest::newRow("client address finds its network")
        << QStringLiteral("s24") << QStringLiteral("192.0.2.99") << int(QueueModel::Sender) << false
        << 10 << QStringLiteral("s240@b.example");
    QTest::newRow("another network: none") << QString() << QStringLiteral("198.51.100.1")
                                           << int(QueueModel::Sender) << false << 0 << QString();
}

void QueueModelTest::filtersAndSortAreTheServers()
{
    QFETCH(QString, sender);
    QFETCH(QString, client);
    QFETCH(int, column);
    QFETCH(bool, descending);
    QFETCH(int, rows);
    QFETCH(QString, firstSender);
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.sort(column, descending ? Qt::DescendingOrder : Qt::AscendingOrder);
    model.setFilter({QStringLiteral("any"), client, sender, {}, {}});
    QVERIFY(loadFirstPage(model));
    QCOMPARE(model.rowCount(), rows);
    QCOMPARE(model.total(), qint64(rows));
    if (rows > 0)
        QCOMPARE(model.entry(0).sender, firstSender);
}

void QueueModelTest::countdownsTickOnTheirColumnsOnly()
{
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setFilter({QStringLiteral("any"), {}, QStringLiteral("s000@"), {}, {}});
    QVERIFY(loadFirstPage(model));
    QCOMPARE(model.rowCount(), 1);
    const protocol::QueueEntry e = model.entry(0);
    QCOMPARE(e.passAt - e.firstSeen, 3600);
    qint64 now = e.passAt - 90;
    model.setClock([&now] { return now; });
    QCOMPARE(model.index(0, QueueModel::PassIn).data().toString(), QStringLiteral("1 min 30 s"));
    QCOMPARE(model.index(0, QueueModel::PassIn).data(Qt::UserRole).toLongLong(), 90);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    now += 31;
    model.tick();
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().column(), int(QueueModel::PassIn));
    QCOMPARE(changed.first().at(1).toModelIndex().column(), int(QueueModel::ExpiresIn));
    QCOMPARE(changed.first().at(1).toModelIndex().row(), 0);
    QCOMPARE(model.index(0, QueueModel::PassIn).data().toString(), QStringLiteral("59 s"));
    now = e.passAt + 1;
    QCOMPARE(model.index(0, QueueModel::PassIn).data().toString(), QStringLiteral("now"));
    now = e.expiresAt - 3 * 3600 - 120;
    QCOMPARE(model.index(0, QueueModel::ExpiresIn).data().toString(), QStringLiteral("3 h 2 min"));
    now = e.expiresAt + 1;
    QCOMPARE(model.index(0, QueueModel::ExpiresIn).data().toString(), QStringLiteral("expired"));
    // The model's own timer does the same once a second.
    changed.clear();
    QVERIFY(changed.wait(2500));
    QCOMPARE(changed.first().at(0).toModelIndex().column(), int(QueueModel::PassIn));
}

void QueueModelTest::releaseDeleteAndPermitGoThroughTheApi()
{
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.sort(QueueModel::Sender, Qt::AscendingOrder);
    model.setFilter({QStringLiteral("any"), {}, QStringLiteral("s10"), {}, {}});
    QVERIFY(loadFirstPage(model));
    QCOMPARE(model.rowCount(), 10); // s100..s109
    QSignalSpy done(&model, &QueueModel::actionDone);
    QSignalSpy failed(&model, &QueueModel::actionFailed);

    model.release(0);
    QVERIFY(done.wait(10'000));
    QCOMPARE(done.last().at(0).toString(), QStringLiteral("release"));
    QCOMPARE(model.entry(0).state, QStringLiteral("passed"));
    QCOMPARE(model.index(0, QueueModel::PassIn).data().toString(), QString());
    // The proxy agrees: the next retry passes at once.
    const QByteArray retry = m_d.rcpt("192.0.2.10", senderOf(100), "rcpt@corp.example");
    QVERIFY2(!retry.isEmpty() && !retry.startsWith("DEFER"), retry.constData());

    model.release(0); // already passed: the proxy's conflict, by signal
    QVERIFY(failed.wait(10'000));
    QCOMPARE(failed.last().at(0).toString(), QStringLiteral("release"));
    QVERIFY(!failed.last().at(2).toString().isEmpty());
    QCOMPARE(model.rowCount(), 10);

    const QString deleted = model.entry(1).sender;
    model.remove(1);
    QVERIFY(done.wait(10'000));
    QCOMPARE(done.last().at(0).toString(), QStringLiteral("delete"));
    QCOMPARE(model.rowCount(), 9);
    QCOMPARE(model.total(), 9);
    QVERIFY(model.entry(1).sender != deleted);

    const QString permitted = model.entry(1).sender;
    model.permit(1);
    QVERIFY(done.wait(10'000));
    QCOMPARE(done.last().at(0).toString(), QStringLiteral("permit"));
    QCOMPARE(model.rowCount(), 8);
    const ProxyConnection::Reply groups = m_d.call(QStringLiteral("group.list"));
    QVERIFY(groups.ok);
    qint64 permittedId = 0;
    for (const QJsonValue &g : groups.result.toObject().value(QStringLiteral("groups")).toArray()) {
        if (g.toObject().value(QStringLiteral("kind")).toString() == u"permitted")
            permittedId = g.toObject().value(QStringLiteral("id")).toInteger();
    }
    QVERIFY(permittedId > 0);
    const ProxyConnection::Reply group =
        m_d.call(QStringLiteral("group.get"), QJsonObject{{QStringLiteral("id"), permittedId}});
    QVERIFY(group.result.toObject().value(QStringLiteral("members")).toArray().contains(permitted));
}

void QueueModelTest::changesByAnotherAdminUpdateTheRows()
{
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.sort(QueueModel::Sender, Qt::AscendingOrder);
    model.setFilter({QStringLiteral("any"), {}, QStringLiteral("s20"), {}, {}});
    QVERIFY(loadFirstPage(model));
    QCOMPARE(model.rowCount(), 10);
    // Another console: its own connection to the same proxy.
    ProxyConnection::Options o;
    o.url = m_d.url();
    o.token = m_d.token;
    ProxyConnection other(o);
    QSignalSpy ready(&other, &ProxyConnection::ready);
    other.open();
    QVERIFY(ready.wait(10'000));
    const auto ask = [&](const QString &method, const protocol::QueueEntry &e) {
        std::optional<ProxyConnection::Reply> reply;
        other.call(method, protocol::TripletRef{e.client, e.sender, e.recipient}.toJson(),
                   [&](const ProxyConnection::Reply &r) { reply = r; });
        return QTest::qWaitFor([&] { return reply.has_value(); }, 10'000) && reply->ok;
    };
    const protocol::QueueEntry gone = model.entry(3);
    QVERIFY(ask(QStringLiteral("queue.delete"), gone));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 9, 10'000);
    QCOMPARE(model.rowOf({gone.client, gone.sender, gone.recipient}), -1);
    const protocol::QueueEntry released = model.entry(0);
    QVERIFY(ask(QStringLiteral("queue.release"), released));
    QTRY_COMPARE_WITH_TIMEOUT(model.entry(0).state, QStringLiteral("passed"), 10'000);
}

void QueueModelTest::aRetryOfALoadedTripletRefreshesItsRow()
{
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setFilter({QStringLiteral("any"), {}, QStringLiteral("s222@"), {}, {}});
    QVERIFY(loadFirstPage(model));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.entry(0).attempts, 1);
    // The MTA retries (as it sent it: upper case, another address of the same network).
    QVERIFY(m_d.rcpt("192.0.2.77", "S222@B.example", "rcpt@corp.example").startsWith("DEFER"));
    QTRY_COMPARE_WITH_TIMEOUT(model.entry(0).attempts, 2, 10'000);
    QCOMPARE(model.index(0, QueueModel::Attempts).data().toInt(), 2);
}

void QueueModelTest::aNewDeferralAppearsWhereTheOrderPutsIt()
{
    QueueModel model(m_d.registry); // newest first, the default
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPageSize(20);
    QVERIFY(loadFirstPage(model));
    const qint64 total = model.total();
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QVERIFY(m_d.rcpt("203.0.113.5", "new@c.example", "rcpt@corp.example").startsWith("DEFER"));
    QTRY_COMPARE_WITH_TIMEOUT(model.entry(0).sender, QStringLiteral("new@c.example"), 10'000);
    QCOMPARE(model.entry(0).client, QStringLiteral("203.0.113.0/24"));
    QCOMPARE(model.total(), total + 1);
    QCOMPARE(reset.count(), 0);
    QVERIFY(!model.isOutdated());
    // Filtered on another sender, it does not show.
    QueueModel other(m_d.registry);
    other.setFilter({QStringLiteral("any"), {}, QStringLiteral("s00"), {}, {}});
    QVERIFY(loadFirstPage(other));
    const int rows = other.rowCount();
    QVERIFY(m_d.rcpt("203.0.113.5", "new2@c.example", "rcpt@corp.example").startsWith("DEFER"));
    const protocol::TripletRef second{QStringLiteral("203.0.113.0/24"),
                                      QStringLiteral("new2@c.example"),
                                      QStringLiteral("rcpt@corp.example")};
    QTRY_VERIFY_WITH_TIMEOUT(model.rowOf(second) >= 0, 10'000);
    // Where the proxy itself puts it (the same second ties: the whole key decides).
    QueueModel fresh(m_d.registry);
    fresh.setPageSize(20);
    QVERIFY(loadFirstPage(fresh));
    for (int r = 0; r < 3; ++r)
        QCOMPARE(model.entry(r).sender, fresh.entry(r).sender);
    QCOMPARE(other.rowCount(), rows);
}

void QueueModelTest::aBurstBeyondWhatCanBeFollowedMarksTheModelOutdated()
{
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPageSize(20);
    QVERIFY(loadFirstPage(model));
    const qint64 before = model.total();
    QSignalSpy outdated(&model, &QueueModel::outdatedChanged);
    // More first sights at once than the model reads back row by row (it never floods the
    // proxy with queries): it says so, and a reload shows them all.
    for (int i = 0; i < 150; ++i) {
        const QByteArray sender = QStringLiteral("burst%1@d.example").arg(i).toUtf8();
        QVERIFY(m_d.rcpt("198.51.100.9", sender, "rcpt@corp.example").startsWith("DEFER"));
    }
    QTRY_VERIFY_WITH_TIMEOUT(model.isOutdated(), 10'000);
    QCOMPARE(outdated.first().at(0).toBool(), true);
    QSignalSpy page(&model, &QueueModel::pageLoaded);
    model.reload();
    QVERIFY(!model.isOutdated());
    QVERIFY(page.wait(10'000));
    QCOMPARE(model.total(), before + 150);
}

void QueueModelTest::noProxyIsAnErrorNotACrash()
{
    QueueModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy failed(&model, &QueueModel::loadFailed);
    model.setProxyId(QStringLiteral("no-such-proxy"));
    QVERIFY(failed.wait(5000));
    QVERIFY(model.lastError().contains(u"no proxy"));
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(!model.canFetchMore({}));
}

QTEST_GUILESS_MAIN(QueueModelTest)
#include "tst_queue_model.moc"
