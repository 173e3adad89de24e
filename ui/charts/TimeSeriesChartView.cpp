// SPDX-License-Identifier: GPL-3.0-or-later
#include "TimeSeriesChartView.h"

#include "ChartPalette.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QLineSeries>
#include <QVXYModelMapper>
#include <QValueAxis>

namespace greygate {

TimeSeriesChartView::TimeSeriesChartView(QWidget *parent)
    : QChartView(parent)
{
    setRenderHint(QPainter::Antialiasing);
    auto *chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    m_axisX = new QDateTimeAxis;
    m_axisX->setTickCount(7);
    m_axisY = new QValueAxis;
    m_axisY->setLabelFormat(QStringLiteral("%d"));
    m_axisY->setMin(0);
    chart->addAxis(m_axisX, Qt::AlignBottom);
    chart->addAxis(m_axisY, Qt::AlignLeft);
    setChart(chart);
    setMinimumHeight(180);
}

TimeSeriesChartView::~TimeSeriesChartView()
{
    dropMappers();
}

// A mapper writes back to its model when its series is cleared as the chart is destroyed,
// and the model may be gone by then (a page deletes its children in creation order, models
// first): the mappers go before the series.
void TimeSeriesChartView::dropMappers()
{
    for (const QPointer<QObject> &mapper : std::as_const(m_mappers))
        delete mapper.data();
    m_mappers.clear();
}

void TimeSeriesChartView::setModel(QAbstractItemModel *model, int timeColumn,
                                   const QList<int> &valueColumns)
{
    QChart *c = chart();
    dropMappers();
    c->removeAllSeries();
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    m_timeColumn = timeColumn;
    m_valueColumns = valueColumns;
    if (!model)
        return;
    for (int column : valueColumns) {
        auto *series = new QLineSeries(c);
        series->setName(model->headerData(column, Qt::Horizontal).toString());
        QPen pen(ChartPalette::counterColor(column - 1));
        pen.setWidthF(2.0);
        series->setPen(pen);
        // The mapper follows inserts, removals and changes of the model by itself.
        auto *mapper = new QVXYModelMapper(series);
        mapper->setXColumn(timeColumn);
        mapper->setYColumn(column);
        mapper->setSeries(series);
        mapper->setModel(model);
        m_mappers.append(mapper);
        c->addSeries(series);
        series->attachAxis(m_axisX);
        series->attachAxis(m_axisY);
    }
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved}) {
        connect(model, signal, this, &TimeSeriesChartView::updateAxes);
    }
    connect(model, &QAbstractItemModel::dataChanged, this, &TimeSeriesChartView::updateAxes);
    connect(model, &QAbstractItemModel::modelReset, this, &TimeSeriesChartView::updateAxes);
    updateAxes();
}

void TimeSeriesChartView::setSeriesVisible(int valueColumn, bool visible)
{
    const qsizetype i = m_valueColumns.indexOf(valueColumn);
    const QList<QAbstractSeries *> all = chart()->series();
    if (i >= 0 && i < all.size())
        all.at(i)->setVisible(visible);
    updateAxes();
}

int TimeSeriesChartView::seriesCount() const
{
    return int(chart()->series().size());
}

QList<QPointF> TimeSeriesChartView::points(int valueColumn) const
{
    const qsizetype i = m_valueColumns.indexOf(valueColumn);
    const QList<QAbstractSeries *> all = chart()->series();
    if (i < 0 || i >= all.size())
        return {};
    auto *line = qobject_cast<QLineSeries *>(all.at(i));
    return line ? line->points() : QList<QPointF>();
}

// The x axis spans the rows' times, the y axis the largest visible value (at least 5, so a
// quiet hour still has a readable scale).
void TimeSeriesChartView::updateAxes()
{
    if (!m_model)
        return;
    const int rows = m_model->rowCount();
    if (rows == 0)
        return;
    const QDateTime first = m_model->index(0, m_timeColumn).data().toDateTime();
    const QDateTime last = m_model->index(rows - 1, m_timeColumn).data().toDateTime();
    if (first.isValid() && last.isValid()) {
        const qint64 span = first.secsTo(last);
        m_axisX->setFormat(span > 2 * 86400 ? QStringLiteral("ddd d MMM")
                                            : QStringLiteral("HH:mm"));
        m_axisX->setRange(first, last > first ? last : first.addSecs(60));
    }
    const QList<QAbstractSeries *> all = chart()->series();
    double top = 0;
    for (int row = 0; row < rows; ++row) {
        for (qsizetype i = 0; i < m_valueColumns.size(); ++i) {
            if (i < all.size() && !all.at(i)->isVisible())
                continue;
            top = qMax(top, m_model->index(row, m_valueColumns.at(i)).data().toDouble());
        }
    }
    m_axisY->setRange(0, qMax(5.0, top * 1.1));
    m_axisY->applyNiceNumbers();
}

} // namespace greygate
