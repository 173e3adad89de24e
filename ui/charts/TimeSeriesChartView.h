// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QChartView>
#include <QList>
#include <QPointer>

class QAbstractItemModel;
class QDateTimeAxis;
class QValueAxis;

namespace greygate {

// A line per counter over time, fed by a table model through QVXYModelMapper: the chart and a
// table beside it are two views of one model (StatsSeriesModel). The x column's display value
// is a QDateTime (the mapper turns it into milliseconds); the axes follow the model's rows.
class TimeSeriesChartView : public QChartView
{
    Q_OBJECT

public:
    explicit TimeSeriesChartView(QWidget *parent = nullptr);
    ~TimeSeriesChartView() override;

    // One line per value column, named by the model's header and coloured by ChartPalette
    // (colorIndex: the counter's index, column - 1 for StatsSeriesModel).
    void setModel(QAbstractItemModel *model, int timeColumn, const QList<int> &valueColumns);
    QAbstractItemModel *model() const { return m_model; }
    void setSeriesVisible(int valueColumn, bool visible);
    int seriesCount() const;
    // The points the line of a value column draws (x: milliseconds since the epoch).
    QList<QPointF> points(int valueColumn) const;

private:
    void updateAxes();

    void dropMappers();

    QPointer<QAbstractItemModel> m_model;
    QList<QPointer<QObject>> m_mappers;
    int m_timeColumn = 0;
    QList<int> m_valueColumns;
    QDateTimeAxis *m_axisX = nullptr;
    QValueAxis *m_axisY = nullptr;
};

} // namespace greygate
