// SPDX-License-Identifier: GPL-3.0-or-later
#include "BreakdownChartView.h"

#include "ChartPalette.h"

#include <QAbstractItemModel>
#include <QBarCategoryAxis>
#include <QBarSet>
#include <QHorizontalBarSeries>
#include <QPieSeries>
#include <QVBarModelMapper>
#include <QVPieModelMapper>
#include <QValueAxis>

namespace greygate {

BreakdownChartView::BreakdownChartView(Style style, QWidget *parent)
    : QChartView(parent)
    , m_style(style)
{
    setRenderHint(QPainter::Antialiasing);
    auto *chart = new QChart;
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->legend()->setAlignment(Qt::AlignRight);
    setChart(chart);
    setMinimumHeight(160);
}

BreakdownChartView::~BreakdownChartView()
{
    dropMappers();
}

// A mapper writes back to its model when its series is cleared as the chart is destroyed,
// and the model may be gone by then (a page deletes its children in creation order, models
// first): the mappers go before the series.
void BreakdownChartView::dropMappers()
{
    for (const QPointer<QObject> &mapper : std::as_const(m_mappers))
        delete mapper.data();
    m_mappers.clear();
}

void BreakdownChartView::setTitle(const QString &title)
{
    m_title = title;
    relabel();
}

void BreakdownChartView::setEmptyText(const QString &text)
{
    m_emptyText = text;
    relabel();
}

void BreakdownChartView::setModel(QAbstractItemModel *model, int labelColumn, int valueColumn)
{
    QChart *c = chart();
    dropMappers();
    c->removeAllSeries();
    for (QAbstractAxis *axis : c->axes())
        c->removeAxis(axis);
    m_categories = nullptr;
    m_values = nullptr;
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    m_labelColumn = labelColumn;
    m_valueColumn = valueColumn;
    if (!model)
        return;
    if (m_style == Style::Pie) {
        auto *series = new QPieSeries(c);
        series->setHoleSize(0.35);
        auto *mapper = new QVPieModelMapper(series);
        mapper->setLabelsColumn(labelColumn);
        mapper->setValuesColumn(valueColumn);
        mapper->setSeries(series);
        mapper->setModel(model);
        m_mappers.append(mapper);
        c->addSeries(series);
        c->legend()->setVisible(true);
        c->legend()->setAlignment(Qt::AlignBottom); // room for the policies' long names
    } else {
        auto *series = new QHorizontalBarSeries(c);
        auto *mapper = new QVBarModelMapper(series);
        mapper->setFirstBarSetColumn(valueColumn);
        mapper->setLastBarSetColumn(valueColumn);
        mapper->setSeries(series);
        mapper->setModel(model);
        m_mappers.append(mapper);
        c->addSeries(series);
        m_categories = new QBarCategoryAxis;
        m_values = new QValueAxis;
        m_values->setLabelFormat(QStringLiteral("%d"));
        c->addAxis(m_categories, Qt::AlignLeft);
        c->addAxis(m_values, Qt::AlignBottom);
        series->attachAxis(m_categories);
        series->attachAxis(m_values);
        c->legend()->setVisible(false);
    }
    connect(model, &QAbstractItemModel::rowsInserted, this, &BreakdownChartView::relabel);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &BreakdownChartView::relabel);
    connect(model, &QAbstractItemModel::dataChanged, this, &BreakdownChartView::relabel);
    connect(model, &QAbstractItemModel::modelReset, this, &BreakdownChartView::relabel);
    relabel();
}

// The mapper keeps the values; labels, colours, the category axis and the title (which says
// why there is nothing to draw) are set here.
void BreakdownChartView::relabel()
{
    chart()->setTitle(m_title);
    if (!m_model)
        return;
    const int rows = m_model->rowCount();
    const QList<QAbstractSeries *> all = chart()->series();
    if (all.isEmpty())
        return;
    double top = 0;
    for (int row = 0; row < rows; ++row)
        top = qMax(top, m_model->index(row, m_valueColumn).data().toDouble());
    if (auto *pie = qobject_cast<QPieSeries *>(all.first())) {
        const QList<QPieSlice *> slices = pie->slices();
        for (qsizetype i = 0; i < slices.size(); ++i) {
            QPieSlice *slice = slices.at(i);
            slice->setBrush(ChartPalette::sliceColor(int(i)));
            const QString label = m_model->index(int(i), m_labelColumn).data().toString();
            slice->setLabel(QStringLiteral("%1 (%2)").arg(label).arg(qint64(slice->value())));
        }
    } else if (auto *bars = qobject_cast<QHorizontalBarSeries *>(all.first())) {
        QStringList labels;
        for (int row = 0; row < rows; ++row)
            labels.append(m_model->index(row, m_labelColumn).data().toString());
        m_categories->setCategories(labels);
        m_values->setRange(0, qMax(5.0, top * 1.1));
        m_values->applyNiceNumbers();
        for (QBarSet *set : bars->barSets())
            set->setBrush(ChartPalette::sliceColor(0));
    }
    if ((rows == 0 || top == 0) && !m_emptyText.isEmpty())
        chart()->setTitle(m_title.isEmpty() ? m_emptyText : m_title + u"\n" + m_emptyText);
}

} // namespace greygate
