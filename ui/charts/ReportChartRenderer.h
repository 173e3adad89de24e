// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "report/ReportChart.h"
#include "report/ReportData.h"

#include <QObject>

namespace greygate {

// Draws a report's charts to images: QtCharts draws through the GUI thread, so one chart per
// turn of the event loop (each takes some tens of milliseconds), and the GUI stays
// responsive between them. The figures over time (all proxies), and the totals per proxy.
class ReportChartRenderer : public QObject
{
    Q_OBJECT

public:
    explicit ReportChartRenderer(QObject *parent = nullptr);

    void start(const ReportData &data, QSize size = QSize(1000, 420));
    void cancel();
    bool isRunning() const { return m_step >= 0; }
    int chartCount() const { return 2; }

    // One at a time, synchronously: for tests and for the steps.
    static QImage timeSeries(const ReportData &data, QSize size);
    static QImage perProxy(const ReportData &data, QSize size);

Q_SIGNALS:
    void chartRendered(int index, int count);
    void finished(const QList<greygate::ReportChart> &charts);

private:
    void next();

    ReportData m_data;
    QSize m_size;
    QList<ReportChart> m_charts;
    int m_step = -1;
    quint64 m_generation = 0;
};

} // namespace greygate
