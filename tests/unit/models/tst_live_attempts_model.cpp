// SPDX-License-Identifier: GPL-3.0-or-later
// LiveAttemptsModel and its filter, fed events the way ProxyRegistry delivers them: rows are
// inserted in one batch per flush, the ring drops its oldest rows with one removal, events
// seen twice are dropped by id, a lost stretch becomes a gap row, pause keeps buffering
// (bounded), and the filter narrows by text, outcome and proxy. Every model runs under
// QAbstractItemModelTester.

#include "models/LiveAttemptsFilter.h"
#include "models/LiveAttemptsModel.h"

#include <QAbstractItemModelTester>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

using namespace greygate;

namespace {

QJsonObject attempt(qint64 id, const QString &outcome, const QString &sender,
                    const QString &client = QStringLiteral("192.0.2.7"))
{
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("type"), QStringLiteral("attempt")},
                       {QStringLiteral("time"), 1'800'000'000 + id},
                       {QStringLiteral("outcome"), outcome},
                       {QStringLiteral("attempts"), 1},
                       {QStringLiteral("client"), client},
                       {QStringLiteral("sender"), sender},
                       {QStringLiteral("recipient"), QStringLiteral("rcpt@corp.example")}};
}

QJsonArray attempts(qint64 firstId, int count, const QString &outcome = QStringLiteral("deferred"))
{
    QJsonArray events;
    for (int i = 0; i < count; ++i)
        events.append(
            attempt(firstId + i, outcome, QStringLiteral("s%1@b.example").arg(firstId + i)));
    return events;
}

} // namespace

class LiveAttemptsModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void eventsAreInsertedInOneBatchPerFlush();
    void theFlushTimerInsertsWithin100ms();
    void aFullRingDropsItsOldestRowsWithOneRemoval();
    void aBatchLargerThanTheRingKeepsTheNewest();
    void eventsSeenTwiceAreDroppedById();
    void aResyncInsertsAGapRowAndAcceptsRestartedIds();
    void otherEventTypesAndMalformedEventsAreIgnored();
    void pausedKeepsBufferingBoundedAndResumeFlushes();
    void clearRemovesEveryRowExplicitly();
    void displayAndRawRoles();
    void filterByText_data();
    void filterByText();
    void filterByOutcomeAndProxyKeepsGapRows();
    void filterFollowsInsertsAndRingRemovals();
};

void LiveAttemptsModelTest::eventsAreInsertedInOneBatchPerFlush()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    // Several messages from the proxy between two flushes: one insert.
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 300));
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(301, 200));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.pendingCount(), 500);
    model.flush();
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.first().at(1).toInt(), 0);
    QCOMPARE(inserted.first().at(2).toInt(), 499); // last = first + n - 1
    QCOMPARE(model.rowCount(), 500);
    QCOMPARE(model.row(499).eventId, 500u);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(501, 10));
    model.flush();
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(inserted.last().at(1).toInt(), 500);
    QCOMPARE(inserted.last().at(2).toInt(), 509);
    model.flush(); // nothing buffered: no signal
    QCOMPARE(inserted.count(), 2);
}

void LiveAttemptsModelTest::theFlushTimerInsertsWithin100ms()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy flushed(&model, &LiveAttemptsModel::rowsFlushed);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 5));
    QVERIFY(flushed.wait(2000));
    QCOMPARE(flushed.first().at(0).toInt(), 5);
    QCOMPARE(model.rowCount(), 5);
}

void LiveAttemptsModelTest::aFullRingDropsItsOldestRowsWithOneRemoval()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry, 100);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 80));
    model.flush();
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(81, 50));
    model.flush();
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.first().at(1).toInt(), 0);
    QCOMPARE(removed.first().at(2).toInt(), 29); // 80 + 50 - 100 oldest rows
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.first().at(1).toInt(), 50); // after the removal: 50 rows left
    QCOMPARE(inserted.first().at(2).toInt(), 99);
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(model.row(0).eventId, 31u);
    QCOMPARE(model.row(99).eventId, 130u);
    // Round and round the ring: still the newest 100, in order.
    for (int round = 0; round < 7; ++round) {
        Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(131 + round * 37, 37));
        model.flush();
    }
    const quint64 last = 130 + 7 * 37;
    QCOMPARE(model.rowCount(), 100);
    for (int r = 0; r < 100; ++r)
        QCOMPARE(model.row(r).eventId, last - 99 + quint64(r));
    QCOMPARE(model.index(99, LiveAttemptsModel::Sender).data().toString(),
             QStringLiteral("s%1@b.example").arg(last));
}

void LiveAttemptsModelTest::aBatchLargerThanTheRingKeepsTheNewest()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry, 50);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 30));
    model.flush();
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(31, 120));
    QCOMPARE(model.pendingCount(), 50); // bounded before it reaches the table
    QCOMPARE(model.droppedBeforeShown(), 70);
    model.flush();
    QCOMPARE(model.rowCount(), 50);
    QCOMPARE(model.row(0).eventId, 101u);
    QCOMPARE(model.row(49).eventId, 150u);
}

void LiveAttemptsModelTest::eventsSeenTwiceAreDroppedById()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 10));
    // A re-subscription from a cursor replays a few; another proxy has its own ids.
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(6, 10));
    Q_EMIT registry.eventsReceived(QStringLiteral("p2"), attempts(1, 3));
    model.flush();
    QCOMPARE(model.rowCount(), 18);
    QCOMPARE(model.proxyIdOf(17), QStringLiteral("p2"));
    QCOMPARE(model.index(17, 0).data(LiveAttemptsModel::ProxyIdRole).toString(),
             QStringLiteral("p2"));
}

void LiveAttemptsModelTest::aResyncInsertsAGapRowAndAcceptsRestartedIds()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(100, 5));
    // The proxy restarted (ids from 1 again) and could not replay what happened meanwhile.
    Q_EMIT registry.resyncNeeded(QStringLiteral("p1"));
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 2));
    model.flush();
    QCOMPARE(model.rowCount(), 8);
    QVERIFY(model.row(5).isGap());
    QCOMPARE(model.index(5, 0).data(LiveAttemptsModel::IsGapRole).toBool(), true);
    QCOMPARE(model.index(5, 0).data(LiveAttemptsModel::OutcomeRole).toString(),
             QStringLiteral("gap"));
    QVERIFY(model.index(5, LiveAttemptsModel::Reason).data().toString().contains(u"lost"));
    QCOMPARE(model.row(6).eventId, 1u);
    QCOMPARE(model.row(7).eventId, 2u);
}

void LiveAttemptsModelTest::otherEventTypesAndMalformedEventsAreIgnored()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QJsonArray events;
    events.append(QJsonObject{{QStringLiteral("id"), 1},
                              {QStringLiteral("type"), QStringLiteral("policy")},
                              {QStringLiteral("subject"), QStringLiteral("policy:1")}});
    events.append(QStringLiteral("not an object"));
    events.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("attempt")}}); // no id
    QJsonObject huge = attempt(2, QStringLiteral("deferred"), QString(100'000, u'x'));
    events.append(huge);
    events.append(attempt(3, QStringLiteral("fromTheFuture"), QStringLiteral("a@b.example")));
    events.append(QJsonObject{{QStringLiteral("id"), 4},
                              {QStringLiteral("type"), QStringLiteral("failedToRetry")},
                              {QStringLiteral("time"), 1'800'000'004},
                              {QStringLiteral("client"), QStringLiteral("192.0.2.0/24")},
                              {QStringLiteral("sender"), QStringLiteral("late@b.example")},
                              {QStringLiteral("recipient"), QStringLiteral("r@corp.example")},
                              {QStringLiteral("attempts"), 1}});
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), events);
    model.flush();
    QCOMPARE(model.rowCount(), 3);
    QVERIFY(model.row(0).sender.size() <= 512); // bounded
    QCOMPARE(model.index(1, 0).data(LiveAttemptsModel::OutcomeRole).toString(),
             QStringLiteral("other"));
    QVERIFY(model.row(1).reason.contains(u"fromTheFuture"));
    QCOMPARE(model.index(2, 0).data(LiveAttemptsModel::OutcomeRole).toString(),
             QStringLiteral("failedToRetry"));
}

void LiveAttemptsModelTest::pausedKeepsBufferingBoundedAndResumeFlushes()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry, 100);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.setPaused(true);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 60));
    QTest::qWait(250); // two flush periods: nothing shown while paused
    model.flush();
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(model.pendingCount(), 60);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(61, 90));
    QCOMPARE(model.pendingCount(), 100);
    QCOMPARE(model.droppedBeforeShown(), 50);
    model.setPaused(false);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(model.rowCount(), 100);
    QCOMPARE(model.row(0).eventId, 51u);
    QCOMPARE(model.row(99).eventId, 150u);
}

void LiveAttemptsModelTest::clearRemovesEveryRowExplicitly()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry, 100);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(1, 150));
    model.flush();
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(removed.count(), 1);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(151, 3));
    model.flush();
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.row(0).eventId, 151u);
}

void LiveAttemptsModelTest::displayAndRawRoles()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QJsonObject e = attempt(7, QStringLiteral("passed"), QString());
    e.insert(QStringLiteral("attempts"), 3);
    e.insert(QStringLiteral("reason"), QStringLiteral("policy 4"));
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), QJsonArray{e});
    model.flush();
    QCOMPARE(model.index(0, LiveAttemptsModel::Sender).data().toString(), QStringLiteral("<>"));
    QCOMPARE(model.index(0, LiveAttemptsModel::Attempts).data().toInt(), 3);
    QCOMPARE(model.index(0, LiveAttemptsModel::Time).data(Qt::UserRole).toLongLong(),
             1'800'000'007LL);
    QVERIFY(model.index(0, LiveAttemptsModel::Time).data().toString().contains(u':'));
    QCOMPARE(model.index(0, LiveAttemptsModel::Reason).data().toString(),
             QStringLiteral("policy 4"));
    QCOMPARE(model.index(0, LiveAttemptsModel::Outcome).data().toString(),
             LiveAttemptsModel::outcomeLabel(QStringLiteral("passed")));
    // An unknown proxy id is shown as the id.
    QCOMPARE(model.index(0, LiveAttemptsModel::Proxy).data().toString(), QStringLiteral("p1"));
    const QJsonObject json = model.rowJson(0);
    QCOMPARE(json.value(QStringLiteral("outcome")).toString(), QStringLiteral("passed"));
    QCOMPARE(json.value(QStringLiteral("id")).toInteger(), 7);
}

void LiveAttemptsModelTest::filterByText_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("rows");
    QTest::newRow("everything") << QString() << 4;
    QTest::newRow("sender, any case") << QStringLiteral("ALICE") << 1;
    QTest::newRow("client") << QStringLiteral("198.51.100") << 2;
    QTest::newRow("recipient") << QStringLiteral("rcpt@corp") << 4;
    QTest::newRow("nothing") << QStringLiteral("zzz") << 0;
}

void LiveAttemptsModelTest::filterByText()
{
    QFETCH(QString, text);
    QFETCH(int, rows);
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    LiveAttemptsFilter filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    Q_EMIT registry.eventsReceived(
        QStringLiteral("p1"),
        QJsonArray{attempt(1, QStringLiteral("deferred"), QStringLiteral("alice@a.example")),
                   attempt(2, QStringLiteral("deferred"), QStringLiteral("bob@a.example")),
                   attempt(3, QStringLiteral("passed"), QStringLiteral("carol@a.example"),
                           QStringLiteral("198.51.100.1")),
                   attempt(4, QStringLiteral("blocked"), QStringLiteral("dan@a.example"),
                           QStringLiteral("198.51.100.2"))});
    model.flush();
    filter.setText(text);
    QCOMPARE(filter.rowCount(), rows);
}

void LiveAttemptsModelTest::filterByOutcomeAndProxyKeepsGapRows()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry);
    LiveAttemptsFilter filter;
    filter.setSourceModel(&model);
    QAbstractItemModelTester tester(&filter,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"),
                                   attempts(1, 3, QStringLiteral("deferred")));
    Q_EMIT registry.eventsReceived(QStringLiteral("p1"), attempts(4, 2, QStringLiteral("passed")));
    Q_EMIT registry.resyncNeeded(QStringLiteral("p1"));
    Q_EMIT registry.eventsReceived(QStringLiteral("p2"),
                                   attempts(1, 4, QStringLiteral("deferred")));
    model.flush();
    QCOMPARE(filter.rowCount(), 10);
    filter.setOutcomes({QStringLiteral("passed")});
    QCOMPARE(filter.rowCount(), 3); // two passed and the gap: a hole stays visible
    filter.setOutcomes({QStringLiteral("deferred"), QStringLiteral("passed")});
    QCOMPARE(filter.rowCount(), 10);
    filter.setProxyId(QStringLiteral("p2"));
    QCOMPARE(filter.rowCount(), 4);
    filter.setProxyId(QStringLiteral("p1"));
    filter.setText(QStringLiteral("s4@"));
    QCOMPARE(filter.rowCount(), 2); // s4@b.example and the gap
    // Sorted on the raw role (the time), newest first; the gap has the time it was noticed.
    filter.setText(QString());
    filter.setOutcomes({});
    filter.sort(LiveAttemptsModel::Time, Qt::DescendingOrder);
    QCOMPARE(filter.rowCount(), 6);
    QList<qint64> ids;
    for (int r = 0; r < filter.rowCount(); ++r) {
        if (!filter.index(r, 0).data(LiveAttemptsModel::IsGapRole).toBool())
            ids.append(filter.index(r, 0).data(LiveAttemptsModel::EventIdRole).toLongLong());
    }
    QCOMPARE(ids, (QList<qint64>{5, 4, 3, 2, 1}));
}

void LiveAttemptsModelTest::filterFollowsInsertsAndRingRemovals()
{
    ProxyRegistry registry;
    LiveAttemptsModel model(registry, 20);
    LiveAttemptsFilter filter;
    filter.setSourceModel(&model);
    filter.setOutcomes({QStringLiteral("blocked")});
    QAbstractItemModelTester tester(&filter,
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int round = 0; round < 10; ++round) {
        QJsonArray events = attempts(1 + round * 7, 6);
        events.append(
            attempt(7 + round * 7, QStringLiteral("blocked"), QStringLiteral("x@y.example")));
        Q_EMIT registry.eventsReceived(QStringLiteral("p1"), events);
        model.flush();
    }
    // The ring holds the newest 20 rows: 70 - 20 = rows 51..70, of which 56, 63, 70 blocked.
    QCOMPARE(model.rowCount(), 20);
    QCOMPARE(filter.rowCount(), 3);
}

QTEST_GUILESS_MAIN(LiveAttemptsModelTest)
#include "tst_live_attempts_model.moc"
