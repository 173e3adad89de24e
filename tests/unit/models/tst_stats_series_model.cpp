// SPDX-License-Identifier: GPL-3.0-or-later
// StatsSeriesModel against real greygated processes: decisions made through the policy port
// show in the series live (event stream), a model opened later fetches the same figures
// (`stats`), the scope sums every proxy or shows one, and the window slides forward with
// rows removed and inserted, never a reset. Every model runs under QAbstractItemModelTester.
#include "AnalysisDaemon.h"
#include "models/StatsSeriesModel.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>

using namespace greygate;
using namespace greygate::test;
using protocol::Counters;

namespace {

Counters sumOfRows(const StatsSeriesModel &model)
{
    Counters sum;
    for (int row = 0; row < model.rowCount(); ++row) {
        sum.attempts += model.index(row, StatsSeriesModel::AttemptsColumn).data().toULongLong();
        sum.deferred += model.index(row, StatsSeriesModel::DeferredColumn).data().toULongLong();
        sum.passed += model.index(row, StatsSeriesModel::PassedColumn).data().toULongLong();
        sum.bypassed += model.index(row, StatsSeriesModel::BypassedColumn).data().toULongLong();
        sum.blocked += model.index(row, StatsSeriesModel::BlockedColumn).data().toULongLong();
        sum.failedToRetry +=
            model.index(row, StatsSeriesModel::FailedToRetryColumn).data().toULongLong();
    }
    return sum;
}

Counters counters(quint64 attempts, quint64 deferred, quint64 passed, quint64 blocked)
{
    Counters c;
    c.attempts = attempts;
    c.deferred = deferred;
    c.passed = passed;
    c.blocked = blocked;
    return c;
}

} // namespace

class StatsSeriesModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void countsEveryDecisionLiveAsItIsMade();
    void aModelOpenedLaterFetchesTheSameFigures();
    void sumsEveryProxyOfTheScopeOrShowsOne();
    void slidesForwardWithoutAReset();

private:
    AnalysisDaemon m_a;
    AnalysisDaemon m_b;
    ProxyRegistry m_registry;
    QString m_idA;
    QString m_idB;
    Counters m_expectedA;
};

void StatsSeriesModelTest::initTestCase()
{
    QString error;
    QVERIFY2(m_a.start({QStringLiteral("--delay=1")}, &error), qPrintable(error));
    QVERIFY2(m_b.start({QStringLiteral("--delay=1")}, &error), qPrintable(error));
    m_idA = addReady(m_registry, m_a, QStringLiteral("mx1"));
    m_idB = addReady(m_registry, m_b, QStringLiteral("mx2"));
    QVERIFY(!m_idA.isEmpty() && !m_idB.isEmpty());
    QVERIFY(blockSender(m_registry, m_idA, QStringLiteral("spam@bad.test")));
}

void StatsSeriesModelTest::countsEveryDecisionLiveAsItIsMade()
{
    StatsSeriesModel model(m_registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setScope(m_idA);
    QCOMPARE(model.rowCount(), 60);
    QCOMPARE(model.columnCount(), int(StatsSeriesModel::ColumnCount));
    QTRY_VERIFY(!model.isLoading());
    QCOMPARE(model.total(), Counters{});

    QVERIFY(m_a.decide("192.0.2.1", "a@one.test", "x@corp.test").startsWith("DEFER_IF_PERMIT"));
    QVERIFY(m_a.decide("192.0.2.2", "b@two.test", "x@corp.test").startsWith("DEFER_IF_PERMIT"));
    QVERIFY(m_a.decide("192.0.2.3", "c@two.test", "y@corp.test").startsWith("DEFER_IF_PERMIT"));
    QVERIFY(m_a.decide("198.51.100.9", "spam@bad.test", "x@corp.test").startsWith("REJECT"));
    QTest::qWait(1500); // past the one-second delay
    const QByteArray retry = m_a.decide("192.0.2.1", "a@one.test", "x@corp.test");
    QVERIFY2(retry.startsWith("PREPEND X-Greylist"), retry.constData());
    m_expectedA = counters(5, 3, 1, 1);

    QTRY_COMPARE(model.total(), m_expectedA);
    QCOMPARE(sumOfRows(model), m_expectedA);
    // The time column is what the chart's mapper and the table both read: a date and time,
    // the raw seconds beside it for sorting.
    const QModelIndex last = model.index(model.rowCount() - 1, StatsSeriesModel::TimeColumn);
    QCOMPARE(last.data().metaType(), QMetaType::fromType<QDateTime>());
    QCOMPARE(last.data(Qt::UserRole).toLongLong(), model.firstBucketTime() + 59 * 60);
    QVERIFY(qAbs(last.data(Qt::UserRole).toLongLong() - QDateTime::currentSecsSinceEpoch()) < 120);
}

void StatsSeriesModelTest::aModelOpenedLaterFetchesTheSameFigures()
{
    StatsSeriesModel model(m_registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &StatsSeriesModel::loadingChanged);
    model.setScope(m_idA);
    QTRY_COMPARE(model.total(), m_expectedA);
    QCOMPARE(sumOfRows(model), m_expectedA);

    // The same figures over a day in quarter hours and a week in hours.
    model.setWindow(StatsWindow::lastDay());
    QCOMPARE(model.rowCount(), 96);
    QTRY_COMPARE(model.total(), m_expectedA);
    model.setWindow(StatsWindow::lastWeek());
    QCOMPARE(model.rowCount(), 168);
    QTRY_COMPARE(model.total(), m_expectedA);
    QCOMPARE(sumOfRows(model), m_expectedA);
    QVERIFY(loaded.count() >= 2);
}

void StatsSeriesModelTest::sumsEveryProxyOfTheScopeOrShowsOne()
{
    QVERIFY(m_b.decide("203.0.113.5", "d@four.test", "z@corp.test").startsWith("DEFER_IF_PERMIT"));
    QVERIFY(m_b.decide("203.0.113.6", "e@four.test", "z@corp.test").startsWith("DEFER_IF_PERMIT"));
    const Counters expectedB = counters(2, 2, 0, 0);

    StatsSeriesModel all(m_registry);
    QAbstractItemModelTester tester(&all, QAbstractItemModelTester::FailureReportingMode::QtTest);
    Counters both = m_expectedA;
    both += expectedB;
    QTRY_COMPARE(all.total(), both);
    QCOMPARE(sumOfRows(all), both);

    all.setScope(m_idB);
    QTRY_COMPARE(all.total(), expectedB);

    // Live while scoped to all: a decision on either proxy adds to the sum.
    all.setScope(QString());
    QTRY_COMPARE(all.total(), both);
    QVERIFY(m_b.decide("203.0.113.7", "f@four.test", "z@corp.test").startsWith("DEFER_IF_PERMIT"));
    both += counters(1, 1, 0, 0);
    QTRY_COMPARE(all.total(), both);
    QCOMPARE(sumOfRows(all), both);
}

void StatsSeriesModelTest::slidesForwardWithoutAReset()
{
    qint64 now = QDateTime::currentSecsSinceEpoch();
    StatsSeriesModel model(m_registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setClock([&now] { return now; });
    model.setScope(m_idA);
    QTRY_VERIFY(!model.isLoading());
    const qint64 first = model.firstBucketTime();

    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    now += 180; // three minutes later: three rows leave at the top, three come at the bottom
    QTRY_COMPARE(model.firstBucketTime(), first + 180);
    QCOMPARE(model.rowCount(), 60);
    QCOMPARE(resets.count(), 0);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.at(0).at(1).toInt(), 0);
    QCOMPARE(removed.at(0).at(2).toInt(), 2);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.at(0).at(1).toInt(), 57);
    QCOMPARE(inserted.at(0).at(2).toInt(), 59);
    QCOMPARE(model.index(0, StatsSeriesModel::TimeColumn).data(Qt::UserRole).toLongLong(),
             first + 180);
}

QTEST_GUILESS_MAIN(StatsSeriesModelTest)
#include "tst_stats_series_model.moc"
