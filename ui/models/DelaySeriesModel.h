// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DelaySummary.h"

#include <QAbstractTableModel>
#include <QJsonArray>

namespace greygate {

// The delay over time of one `delay.stats` answer, a row per hour, day or week: the time
// (a QDateTime, so TimeSeriesChartView's mapper reads it as the x value), the count, and
// p50, p95 and max in minutes (numbers a chart draws; the raw seconds under Qt::UserRole).
// Buckets without accepted mail are rows too, at zero, so the line does not bridge them.
class DelaySeriesModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Time,
        Count,
        P50,
        P95,
        Max,
        ColumnCount
    };
    struct Point
    {
        qint64 time = 0;
        DelaySummary summary;
    };
    static constexpr qsizetype kMaxPoints = 2000;

    explicit DelaySeriesModel(QObject *parent = nullptr);

    // The answer's "series", between from and to by stepSeconds (missing buckets at zero).
    void setSeries(const QJsonArray &series, qint64 from, qint64 to, qint64 stepSeconds);
    const QList<Point> &points() const { return m_points; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QList<Point> m_points;
};

} // namespace greygate
