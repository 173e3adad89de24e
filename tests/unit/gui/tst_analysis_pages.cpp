// SPDX-License-Identifier: GPL-3.0-or-later
// The Dashboard and the Rejection Viewer offscreen, against two real greygated processes:
// the counters show what the proxies decided (one proxy, or both summed), the chart draws
// the same figures as the table beside it (one model, two views), and the rejections page
// filters through the proxy and exports what it shows as CSV.
#include "../models/AnalysisDaemon.h"
#include "charts/RangeSelector.h"
#include "charts/TimeSeriesChartView.h"
#include "models/RejectionModel.h"
#include "models/StatsSeriesModel.h"
#include "pages/DashboardPage.h"
#include "pages/RejectionsPage.h"

#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace greygate::test;

class AnalysisPagesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void dashboardShowsTheTotalsOfTheScope();
    void theChartDrawsWhatTheTableShows();
    void theRangeSelectorChangesTheWindow();
    void rejectionsPageFiltersAndExportsWhatItShows();

private:
    AnalysisDaemon m_a;
    AnalysisDaemon m_b;
    ProxyRegistry m_registry;
    QString m_idA;
    QString m_idB;
};

void AnalysisPagesTest::initTestCase()
{
    QString error;
    QVERIFY2(m_a.start({QStringLiteral("--delay=1")}, &error), qPrintable(error));
    QVERIFY2(m_b.start({QStringLiteral("--delay=1")}, &error), qPrintable(error));
    m_idA = addReady(m_registry, m_a, QStringLiteral("mx1"));
    m_idB = addReady(m_registry, m_b, QStringLiteral("mx2"));
    QVERIFY(!m_idA.isEmpty() && !m_idB.isEmpty());
    QVERIFY(blockSender(m_registry, m_idA, QStringLiteral("spam@bad.test")));
    QVERIFY(m_a.decide("192.0.2.1", "a@one.test", "x@corp.test").startsWith("DEFER"));
    QVERIFY(m_a.decide("192.0.2.2", "b@two.test", "x@corp.test").startsWith("DEFER"));
    QVERIFY(m_a.decide("198.51.100.9", "spam@bad.test", "x@corp.test").startsWith("REJECT"));
    QVERIFY(m_b.decide("203.0.113.1", "c@three.test", "y@corp.test").startsWith("DEFER"));
    QTest::qWait(1500);
    QVERIFY(m_a.decide("192.0.2.1", "a@one.test", "x@corp.test").startsWith("PREPEND"));
}

void AnalysisPagesTest::dashboardShowsTheTotalsOfTheScope()
{
    DashboardPage page(m_registry);
    page.resize(1200, 800);
    page.show();
    QCOMPARE(page.title(), QStringLiteral("Dashboard"));
    // Both proxies: 4 + 1 attempts, 2 + 1 deferred.
    QTRY_COMPARE(page.counterText(StatsSeriesModel::AttemptsColumn), QStringLiteral("5"));
    QCOMPARE(page.counterText(StatsSeriesModel::DeferredColumn), QStringLiteral("3"));
    QCOMPARE(page.counterText(StatsSeriesModel::PassedColumn), QStringLiteral("1"));
    QCOMPARE(page.counterText(StatsSeriesModel::BlockedColumn), QStringLiteral("1"));
    QCOMPARE(page.counterText(StatsSeriesModel::BypassedColumn), QStringLiteral("0"));

    page.setScope(m_idB);
    QTRY_COMPARE(page.counterText(StatsSeriesModel::AttemptsColumn), QStringLiteral("1"));
    QCOMPARE(page.counterText(StatsSeriesModel::BlockedColumn), QStringLiteral("0"));

    // Live: a decision now shows without a refetch.
    QVERIFY(m_b.decide("203.0.113.2", "d@three.test", "y@corp.test").startsWith("DEFER"));
    QTRY_COMPARE(page.counterText(StatsSeriesModel::AttemptsColumn), QStringLiteral("2"));
    QCOMPARE(page.counterText(StatsSeriesModel::DeferredColumn), QStringLiteral("2"));
}

void AnalysisPagesTest::theChartDrawsWhatTheTableShows()
{
    DashboardPage page(m_registry);
    page.resize(1200, 800);
    page.show();
    page.setScope(m_idA);
    QTRY_COMPARE(page.counterText(StatsSeriesModel::AttemptsColumn), QStringLiteral("4"));
    auto *chart = page.findChild<TimeSeriesChartView *>();
    QVERIFY(chart);
    QCOMPARE(chart->seriesCount(), 6);
    auto *table = page.findChild<QTableView *>(QStringLiteral("dashboardSeriesTable"));
    QVERIFY(table);
    QCOMPARE(table->model()->rowCount(), 60);
    for (int column : {int(StatsSeriesModel::AttemptsColumn), int(StatsSeriesModel::DeferredColumn),
                       int(StatsSeriesModel::BlockedColumn)}) {
        const QList<QPointF> points = chart->points(column);
        QCOMPARE(points.size(), 60);
        double chartSum = 0;
        qint64 tableSum = 0;
        for (const QPointF &p : points)
            chartSum += p.y();
        for (int row = 0; row < table->model()->rowCount(); ++row)
            tableSum += table->model()->index(row, column).data().toLongLong();
        QCOMPARE(qint64(chartSum), tableSum);
    }
    double deferred = 0;
    for (const QPointF &p : chart->points(StatsSeriesModel::DeferredColumn))
        deferred += p.y();
    QCOMPARE(qint64(deferred), 2);
}

void AnalysisPagesTest::theRangeSelectorChangesTheWindow()
{
    DashboardPage page(m_registry);
    auto *range = page.findChild<RangeSelector *>();
    QVERIFY(range);
    range->setCurrentIndex(2);
    QCOMPARE(page.seriesModel()->window(), StatsWindow::lastWeek());
    QCOMPARE(page.seriesModel()->rowCount(), 168);
    QTRY_COMPARE(page.counterText(StatsSeriesModel::AttemptsColumn), QStringLiteral("6"));
    range->setCurrentIndex(1);
    QCOMPARE(page.seriesModel()->rowCount(), 96);
    QTRY_COMPARE(page.counterText(StatsSeriesModel::AttemptsColumn), QStringLiteral("6"));
}

void AnalysisPagesTest::rejectionsPageFiltersAndExportsWhatItShows()
{
    RejectionsPage page(m_registry);
    page.resize(1200, 600);
    page.show();
    auto *sender = page.findChild<QLineEdit *>(QStringLiteral("rejectionsSender"));
    QVERIFY(sender);
    sender->setText(QStringLiteral("bad.test"));
    page.applyFilters();
    QTRY_VERIFY(!page.model()->isLoading());
    QTest::qWait(300);
    // The blocked attempt made at start is in the proxy's rejection log.
    QTRY_COMPARE(page.shown()->rowCount(), 1);

    QVERIFY(m_a.decide("198.51.100.9", "spam@bad.test", "z@corp.test").startsWith("REJECT"));
    QTRY_COMPARE(page.shown()->rowCount(), 2);
    QCOMPARE(page.model()->rowAt(0).reason, RejectionModel::kBlockedReason);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("rejections.csv"));
    QString error;
    QVERIFY2(page.exportCsv(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().split('\n');
    QCOMPARE(lines.size(), 4); // header, two rows, and the empty rest after the last CRLF
    QVERIFY(lines.at(0).startsWith("Time,Proxy,Reason,Client,Sender,Recipient"));
    QVERIFY(lines.at(1).contains(",mx1,Blocked Sender,"));
    QVERIFY(lines.at(2).contains(",mx1,Blocked Sender,"));
    const QByteArray rows = lines.at(1) + lines.at(2);
    QVERIFY(rows.contains(",spam@bad.test,x@corp.test,"));
    QVERIFY(rows.contains(",spam@bad.test,z@corp.test,"));

    // Another filter: the live row does not match it, so it goes.
    sender->setText(QStringLiteral("nobody.test"));
    page.applyFilters();
    QTRY_COMPARE(page.shown()->rowCount(), 0);
}

QTEST_MAIN(AnalysisPagesTest)
#include "tst_analysis_pages.moc"
