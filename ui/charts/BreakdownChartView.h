// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QChartView>
#include <QPointer>

class QAbstractItemModel;
class QBarCategoryAxis;
class QValueAxis;

namespace greygate {

// A breakdown (BreakdownModel: decisions per policy, deferrals per sender domain) as a pie
// (QVPieModelMapper) or horizontal bars (QVBarModelMapper), labels from one column and values
// from another of the same model the table beside it shows.
class BreakdownChartView : public QChartView
{
    Q_OBJECT

public:
    enum class Style
    {
        Pie,
        Bars,
    };

    explicit BreakdownChartView(Style style, QWidget *parent = nullptr);
    ~BreakdownChartView() override;

    void setModel(QAbstractItemModel *model, int labelColumn, int valueColumn);
    void setTitle(const QString &title);
    // Shown in the middle when there is nothing to draw (no data, or the proxy cannot tell).
    void setEmptyText(const QString &text);

private:
    void relabel();

    Style m_style;
    void dropMappers();

    QPointer<QAbstractItemModel> m_model;
    QList<QPointer<QObject>> m_mappers;
    int m_labelColumn = 0;
    int m_valueColumn = 1;
    QBarCategoryAxis *m_categories = nullptr;
    QValueAxis *m_values = nullptr;
    QString m_title;
    QString m_emptyText;
};

} // namespace greygate
