// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

class QLabel;
class QTableView;

namespace greygate {

class BreakdownModel;
class BreakdownChartView;
class ProxyRegistry;
class RangeSelector;
class StatsSeriesModel;
class TimeSeriesChartView;

// The Dashboard (DESIGN.md §6): for the scope (one proxy, or all together) over the range
// chosen (last hour, day, week): the six counters, live; their time series as a chart and
// as a table (two views of one StatsSeriesModel); the decisions per policy and the sender
// domains deferred most (BreakdownModel, with a chart each).
class DashboardPage : public Page
{
    Q_OBJECT

public:
    explicit DashboardPage(ProxyRegistry &registry, QWidget *parent = nullptr);
    ~DashboardPage() override;

    QString title() const override { return tr("Dashboard"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;

    StatsSeriesModel *seriesModel() const { return m_series; }
    BreakdownModel *policyModel() const { return m_policies; }
    BreakdownModel *domainModel() const { return m_domains; }
    // The counter shown for a StatsSeriesModel column (tests, screenshots).
    QString counterText(int column) const;

public Q_SLOTS:
    // Fetches everything again (the main window's Refresh).
    void refresh();

private:
    QWidget *makeCounters();
    void updateCounters();
    void updateBreakdownState();

    ProxyRegistry &m_registry;
    StatsSeriesModel *m_series = nullptr;
    BreakdownModel *m_policies = nullptr;
    BreakdownModel *m_domains = nullptr;
    RangeSelector *m_range = nullptr;
    QLabel *m_status = nullptr;
    QList<QLabel *> m_counters; // per counter column
    TimeSeriesChartView *m_chart = nullptr;
    QTableView *m_table = nullptr;
    BreakdownChartView *m_policyChart = nullptr;
    BreakdownChartView *m_domainChart = nullptr;
    QTableView *m_policyTable = nullptr;
    QTableView *m_domainTable = nullptr;
};

} // namespace greygate
