// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

class QComboBox;
class QLabel;
class QTabWidget;

namespace greygate {

class DataTable;
class DelayStatsModel;
class ProxyPicker;
class ProxyRegistry;
class Settings;
class TimeSeriesChartView;

// Delay analytics (docs/console.md, "Delay"): how long greylisting held up the mail it
// accepted, on one proxy over a chosen range: the total (p50, p95, max), a chart of p50/p95/max
// over time, and sortable tables per sender domain and per policy (DelayStatsModel).
class DelayPage : public Page
{
    Q_OBJECT

public:
    DelayPage(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);

    QString title() const override { return tr("Delay"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;

    DelayStatsModel *model() const { return m_model; }
    QComboBox *rangeBox() const { return m_range; }
    QTabWidget *tabs() const { return m_tabs; }
    DataTable *domainTable() const { return m_domains; }
    DataTable *policyTable() const { return m_policies; }
    TimeSeriesChartView *chart() const { return m_chart; }
    QLabel *summary() const { return m_summary; }

public Q_SLOTS:
    void refresh();

private:
    void applyRange();
    void updateSummary();

    DelayStatsModel *m_model;
    ProxyPicker *m_picker;
    QComboBox *m_range;
    QLabel *m_summary;
    QTabWidget *m_tabs;
    TimeSeriesChartView *m_chart;
    DataTable *m_series;
    DataTable *m_domains;
    DataTable *m_policies;
};

} // namespace greygate
