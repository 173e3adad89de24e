// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReportChartRenderer.h"

#include "ChartPalette.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QDateTimeAxis>
#include <QLineSeries>
#include <QTimer>
#include <QValueAxis>

namespace greygate {

namespace {

const char *const kCounterNames[6] = {QT_TRANSLATE_NOOP("ReportChartRenderer", "Attempts"),
                                      QT_TRANSLATE_NOOP("ReportChartRenderer", "Deferred"),
                                      QT_TRANSLATE_NOOP("ReportChartRenderer", "Passed"),
                                      QT_TRANSLATE_NOOP("ReportChartRenderer", "Bypassed"),
                                      QT_TRANSLATE_NOOP("ReportChartRenderer", "Blocked"),
                                      QT_TRANSLATE_NOOP("ReportChartRenderer", "Failed to retry")};

quint64 counter(const protocol::Counters &c, int i)
{
    const quint64 values[6] = {c.attempts, c.deferred, c.passed,
                               c.bypassed, c.blocked,  c.failedToRetry};
    return values[i];
}

// Renders a chart at a fixed size as it looks in a window: the view is laid out and painted
// off screen (a view never shown has no layout, and draws its chart squeezed).
QImage render(QChart *chart, QSize size)
{
    QChartView view(chart); // takes the chart
    view.setRenderHint(QPainter::Antialiasing);
    view.setAttribute(Qt::WA_DontShowOnScreen);
    view.resize(size);
    view.show();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest);
    QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
    return view.grab().toImage();
}

} // namespace

ReportChartRenderer::ReportChartRenderer(QObject *parent)
    : QObject(parent)
{}

QImage ReportChartRenderer::timeSeries(const ReportData &data, QSize size)
{
    auto *chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto *x = new QDateTimeAxis;
    x->setFormat(data.to - data.from > 2 * 86400 ? QStringLiteral("d MMM")
                                                 : QStringLiteral("d MMM HH:mm"));
    x->setTickCount(7);
    auto *y = new QValueAxis;
    y->setLabelFormat(QStringLiteral("%d"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    const QList<protocol::StatsBucket> buckets = data.combinedBuckets();
    double top = 0;
    for (int i = 0; i < 6; ++i) {
        auto *series = new QLineSeries;
        series->setName(tr(kCounterNames[i]));
        QPen pen(ChartPalette::counterColor(i));
        pen.setWidthF(2);
        series->setPen(pen);
        QList<QPointF> points;
        points.reserve(buckets.size());
        for (const protocol::StatsBucket &b : buckets) {
            const double v = double(counter(b.counters, i));
            top = qMax(top, v);
            points.append(QPointF(double(b.time) * 1000.0, v));
        }
        series->replace(points);
        chart->addSeries(series);
        series->attachAxis(x);
        series->attachAxis(y);
    }
    x->setRange(QDateTime::fromSecsSinceEpoch(data.from), QDateTime::fromSecsSinceEpoch(data.to));
    y->setRange(0, qMax(5.0, top * 1.1));
    y->applyNiceNumbers();
    return render(chart, size);
}

QImage ReportChartRenderer::perProxy(const ReportData &data, QSize size)
{
    auto *chart = new QChart;
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto *series = new QBarSeries;
    QStringList names;
    double top = 0;
    for (const ReportProxy &p : data.proxies) {
        if (p.error.isEmpty())
            names.append(p.name);
    }
    for (int i = 0; i < 6; ++i) {
        auto *set = new QBarSet(tr(kCounterNames[i]));
        set->setBrush(ChartPalette::counterColor(i));
        for (const ReportProxy &p : data.proxies) {
            if (!p.error.isEmpty())
                continue;
            const double v = double(counter(p.total, i));
            top = qMax(top, v);
            set->append(v);
        }
        series->append(set);
    }
    chart->addSeries(series);
    auto *x = new QBarCategoryAxis;
    x->setCategories(names);
    auto *y = new QValueAxis;
    y->setLabelFormat(QStringLiteral("%d"));
    y->setRange(0, qMax(5.0, top * 1.1));
    y->applyNiceNumbers();
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    return render(chart, size);
}

void ReportChartRenderer::start(const ReportData &data, QSize size)
{
    ++m_generation;
    m_data = data;
    m_size = size;
    m_charts.clear();
    m_step = 0;
    QTimer::singleShot(0, this, [this, generation = m_generation] {
        if (generation == m_generation)
            next();
    });
}

void ReportChartRenderer::cancel()
{
    ++m_generation;
    m_step = -1;
}

void ReportChartRenderer::next()
{
    // Laying a chart out runs the event loop: a new start() or a cancel() may come meanwhile,
    // and then this chart belongs to a report nobody waits for.
    const quint64 generation = m_generation;
    QImage image = m_step == 0 ? timeSeries(m_data, m_size) : perProxy(m_data, m_size);
    if (generation != m_generation)
        return;
    m_charts.append(ReportChart{m_step == 0 ? tr("Over time, all proxies") : tr("Per proxy"),
                                std::move(image)});
    ++m_step;
    Q_EMIT chartRendered(m_step, chartCount());
    if (m_step < chartCount()) {
        QTimer::singleShot(0, this, [this, generation = m_generation] {
            if (generation == m_generation)
                next();
        });
        return;
    }
    m_step = -1;
    Q_EMIT finished(m_charts);
}

} // namespace greygate
