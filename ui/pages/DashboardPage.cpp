// SPDX-License-Identifier: GPL-3.0-or-later
#include "DashboardPage.h"

#include "charts/BreakdownChartView.h"
#include "charts/ChartPalette.h"
#include "charts/RangeSelector.h"
#include "charts/TimeSeriesChartView.h"
#include "client/ProxyRegistry.h"
#include "models/BreakdownModel.h"
#include "models/StatsSeriesModel.h"
#include "report/TableCsvExporter.h"

#include <QDir>
#include <QFileDialog>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace greygate {

namespace {

QTableView *makeTable(QAbstractItemModel *model, QWidget *parent)
{
    auto *proxy = new QSortFilterProxyModel(parent);
    proxy->setSourceModel(model);
    proxy->setSortRole(Qt::UserRole); // raw values, not their display text (STYLE.md)
    auto *table = new QTableView(parent);
    table->setModel(proxy);
    table->setSortingEnabled(true);
    table->setAlternatingRowColors(true);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->verticalHeader()->hide();
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
    // Every column as wide as what it holds (names first: they are what the admin reads),
    // the last one taking what is left.
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table->horizontalHeader()->setStretchLastSection(true);
    return table;
}

} // namespace

DashboardPage::DashboardPage(ProxyRegistry &registry, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_series(new StatsSeriesModel(registry, this))
    , m_policies(new BreakdownModel(registry, BreakdownModel::Kind::Policies, this))
    , m_domains(new BreakdownModel(registry, BreakdownModel::Kind::SenderDomains, this))
{
    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Range:"), this));
    m_range = new RangeSelector(this);
    m_range->setObjectName(QStringLiteral("dashboardRange"));
    top->addWidget(m_range);
    auto *exportButton = new QPushButton(tr("Export CSV…"), this);
    exportButton->setToolTip(tr("Save the figures over time, as the table shows them"));
    top->addWidget(exportButton);
    top->addStretch(1);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("dashboardStatus"));
    top->addWidget(m_status);

    m_chart = new TimeSeriesChartView(this);
    m_chart->setModel(m_series, StatsSeriesModel::TimeColumn,
                      {StatsSeriesModel::AttemptsColumn, StatsSeriesModel::DeferredColumn,
                       StatsSeriesModel::PassedColumn, StatsSeriesModel::BypassedColumn,
                       StatsSeriesModel::BlockedColumn, StatsSeriesModel::FailedToRetryColumn});
    m_table = makeTable(m_series, this);
    m_table->setObjectName(QStringLiteral("dashboardSeriesTable"));
    m_table->sortByColumn(StatsSeriesModel::TimeColumn, Qt::DescendingOrder);
    auto *seriesTabs = new QTabWidget(this);
    seriesTabs->addTab(m_chart, tr("Chart"));
    seriesTabs->addTab(m_table, tr("Table"));

    m_policyChart = new BreakdownChartView(BreakdownChartView::Style::Pie, this);
    m_policyChart->setModel(m_policies, BreakdownModel::NameColumn, m_policies->valueColumn());
    m_policyTable = makeTable(m_policies, this);
    m_policyTable->setObjectName(QStringLiteral("dashboardPolicyTable"));
    m_policyTable->sortByColumn(m_policies->valueColumn(), Qt::DescendingOrder);
    auto *policyBox = new QGroupBox(tr("Decisions by policy"), this);
    auto *policyLayout = new QHBoxLayout(policyBox);
    m_policyChart->setFixedWidth(210);
    policyLayout->addWidget(m_policyChart);
    policyLayout->addWidget(m_policyTable, 1);

    m_domainChart = new BreakdownChartView(BreakdownChartView::Style::Bars, this);
    m_domainChart->setModel(m_domains, BreakdownModel::NameColumn, m_domains->valueColumn());
    m_domainTable = makeTable(m_domains, this);
    m_domainTable->setObjectName(QStringLiteral("dashboardDomainTable"));
    m_domainTable->sortByColumn(m_domains->valueColumn(), Qt::DescendingOrder);
    auto *domainBox = new QGroupBox(tr("Top deferred sender domains"), this);
    auto *domainLayout = new QHBoxLayout(domainBox);
    domainLayout->addWidget(m_domainChart, 1);
    domainLayout->addWidget(m_domainTable, 1);

    auto *breakdowns = new QWidget(this);
    auto *breakdownLayout = new QHBoxLayout(breakdowns);
    breakdownLayout->setContentsMargins(0, 0, 0, 0);
    // Policy names are long and their table has six columns: it gets the wider share.
    breakdownLayout->addWidget(policyBox, 3);
    breakdownLayout->addWidget(domainBox, 2);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(seriesTabs);
    splitter->addWidget(breakdowns);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(makeCounters());
    layout->addWidget(splitter, 1);

    connect(m_range, &RangeSelector::windowChanged, this, [this](const StatsWindow &window) {
        m_series->setWindow(window);
        m_policies->setWindow(window);
        m_domains->setWindow(window);
        updateCounters();
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export the figures"),
            QDir::home().filePath(QStringLiteral("greygate-stats.csv")), tr("CSV files (*.csv)"));
        QString error;
        if (!path.isEmpty() && !TableCsvExporter::write(*m_table->model(), path, &error))
            QMessageBox::warning(this, tr("Export the figures"),
                                 error + u'\n' + tr("Choose another folder and export again."));
    });
    connect(m_series, &StatsSeriesModel::totalChanged, this, &DashboardPage::updateCounters);
    connect(m_series, &StatsSeriesModel::loadingChanged, this, &DashboardPage::updateCounters);
    connect(m_series, &StatsSeriesModel::errorOccurred, this,
            [this](const QString &proxyId, const QString &message) {
                const ProxyEndpoint *e = m_registry.endpoint(proxyId);
                m_status->setText(tr("%1: %2").arg(e ? e->name : proxyId, message));
            });
    connect(m_policies, &BreakdownModel::supportChanged, this,
            &DashboardPage::updateBreakdownState);
    updateBreakdownState();
    updateCounters();
}

DashboardPage::~DashboardPage() = default;

QIcon DashboardPage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("office-chart-line"),
                            style()->standardIcon(QStyle::SP_FileDialogDetailedView));
}

void DashboardPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_series->setScope(proxyId);
    m_policies->setScope(proxyId);
    m_domains->setScope(proxyId);
    updateCounters();
}

void DashboardPage::refresh()
{
    m_series->refresh();
    m_policies->refresh();
    m_domains->refresh();
}

QWidget *DashboardPage::makeCounters()
{
    auto *row = new QWidget(this);
    auto *layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    const char *names[] = {"counterAttempts", "counterDeferred", "counterPassed",
                           "counterBypassed", "counterBlocked",  "counterFailedToRetry"};
    for (int column = StatsSeriesModel::AttemptsColumn;
         column <= StatsSeriesModel::FailedToRetryColumn; ++column) {
        auto *box = new QFrame(row);
        box->setFrameShape(QFrame::StyledPanel);
        const QColor color = ChartPalette::counterColor(column - 1);
        box->setStyleSheet(
            QStringLiteral("QFrame { border-left: 4px solid %1; }").arg(color.name()));
        auto *boxLayout = new QVBoxLayout(box);
        boxLayout->setSpacing(0);
        auto *caption = new QLabel(StatsSeriesModel::columnTitle(column), box);
        caption->setStyleSheet(QStringLiteral("border: none;"));
        auto *value = new QLabel(QStringLiteral("0"), box);
        value->setObjectName(QLatin1String(names[column - 1]));
        QFont big = value->font();
        big.setPointSizeF(big.pointSizeF() * 1.8);
        big.setBold(true);
        value->setFont(big);
        value->setStyleSheet(QStringLiteral("border: none;"));
        boxLayout->addWidget(caption);
        boxLayout->addWidget(value);
        layout->addWidget(box);
        m_counters.append(value);
    }
    return row;
}

QString DashboardPage::counterText(int column) const
{
    const int i = column - StatsSeriesModel::AttemptsColumn;
    return i >= 0 && i < m_counters.size() ? m_counters.at(i)->text() : QString();
}

void DashboardPage::updateCounters()
{
    const protocol::Counters total = m_series->total();
    for (int column = StatsSeriesModel::AttemptsColumn;
         column <= StatsSeriesModel::FailedToRetryColumn; ++column) {
        m_counters.at(column - 1)
            ->setText(QLocale().toString(StatsSeriesModel::counterOf(total, column)));
    }
    const QString who =
        scope().isEmpty()
            ? tr("all proxies (%n)", nullptr, m_registry.count())
            : (m_registry.endpoint(scope()) ? m_registry.endpoint(scope())->name : scope());
    m_status->setText(m_series->isLoading() ? tr("Loading %1…").arg(who) : who);
}

void DashboardPage::updateBreakdownState()
{
    const QString why = tr("This proxy does not offer stats.breakdown yet (update greygated)");
    const bool supported = m_policies->isSupported();
    m_policyChart->setEmptyText(supported ? tr("Nothing decided in this range") : why);
    m_domainChart->setEmptyText(supported ? tr("No sender deferred in this range") : why);
}

} // namespace greygate
