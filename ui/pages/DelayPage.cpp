// SPDX-License-Identifier: GPL-3.0-or-later
#include "DelayPage.h"

#include "charts/TimeSeriesChartView.h"
#include "models/DelayStatsModel.h"
#include "widgets/DataTable.h"
#include "widgets/ProxyPicker.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QVBoxLayout>

namespace greygate {

namespace {

struct RangeChoice
{
    const char *label;
    qint64 span;
    DelayStatsModel::Step step;
};

// The proxy keeps 8 days of per-hour histograms (docs/api.md, delay.stats).
constexpr RangeChoice kRanges[] = {
    {QT_TRANSLATE_NOOP("greygate::DelayPage", "Last 6 hours, hourly"), 6 * 3600,
     DelayStatsModel::Step::Hour},
    {QT_TRANSLATE_NOOP("greygate::DelayPage", "Last 24 hours, hourly"), 86400,
     DelayStatsModel::Step::Hour},
    {QT_TRANSLATE_NOOP("greygate::DelayPage", "Last 7 days, hourly"), 7 * 86400,
     DelayStatsModel::Step::Hour},
    {QT_TRANSLATE_NOOP("greygate::DelayPage", "Last 7 days, daily"), 7 * 86400,
     DelayStatsModel::Step::Day},
};

} // namespace

DelayPage::DelayPage(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : Page(parent)
    , m_model(new DelayStatsModel(registry, this))
    , m_picker(new ProxyPicker(registry, this))
    , m_range(new QComboBox(this))
    , m_summary(new QLabel(this))
    , m_tabs(new QTabWidget(this))
    , m_chart(new TimeSeriesChartView(this))
    , m_series(new DataTable(QStringLiteral("delaySeries"), &settings, this))
    , m_domains(new DataTable(QStringLiteral("delayDomains"), &settings, this))
    , m_policies(new DataTable(QStringLiteral("delayPolicies"), &settings, this))
{
    for (const RangeChoice &c : kRanges)
        m_range->addItem(tr(c.label));
    m_range->setObjectName(QStringLiteral("range"));
    m_range->setCurrentIndex(1);
    connect(m_range, &QComboBox::currentIndexChanged, this, &DelayPage::applyRange);
    auto *reload = new QPushButton(tr("Refresh"), this);
    connect(reload, &QPushButton::clicked, this, &DelayPage::refresh);
    m_summary->setObjectName(QStringLiteral("summary"));
    m_summary->setWordWrap(true);

    m_domains->setObjectName(QStringLiteral("delayDomains"));
    m_policies->setObjectName(QStringLiteral("delayPolicies"));
    m_domains->setSourceModel(m_model->domains());
    m_policies->setSourceModel(m_model->policies());
    m_series->setSourceModel(m_model->series());
    for (DataTable *t : {m_domains, m_policies}) {
        t->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
        t->setColumnWidth(DelayBreakdownModel::Name, 280);
        t->sortByColumn(DelayBreakdownModel::Count, Qt::DescendingOrder);
    }
    m_chart->setObjectName(QStringLiteral("delayChart"));
    m_chart->setModel(m_model->series(), DelaySeriesModel::Time,
                      {DelaySeriesModel::P50, DelaySeriesModel::P95, DelaySeriesModel::Max});
    m_chart->setMinimumHeight(220);
    m_tabs->addTab(m_domains, tr("By sender domain"));
    m_tabs->addTab(m_policies, tr("By policy"));
    m_tabs->addTab(m_series, tr("Over time (table)"));

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_picker);
    bar->addWidget(m_range);
    bar->addWidget(reload);
    bar->addWidget(m_summary, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_chart);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(split, 1);

    connect(m_picker, &ProxyPicker::proxyChanged, m_model, &DelayStatsModel::setProxyId);
    connect(m_model, &DelayStatsModel::loaded, this, &DelayPage::updateSummary);
    connect(m_model, &DelayStatsModel::loadFailed, this, [this](const QString &message) {
        m_summary->setText(QStringLiteral("<span style=\"color:#b00020\">%1</span>")
                               .arg(tr("No delay figures: %1").arg(message).toHtmlEscaped()));
    });
    applyRange();
    m_model->setProxyId(m_picker->proxyId());
    updateSummary();
}

QIcon DelayPage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("chronometer"),
                            style()->standardIcon(QStyle::SP_FileDialogInfoView));
}

void DelayPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

void DelayPage::refresh()
{
    m_model->reload();
}

void DelayPage::applyRange()
{
    const int i = std::clamp(m_range->currentIndex(), 0, int(std::size(kRanges)) - 1);
    m_model->setRange({kRanges[i].span, kRanges[i].step});
}

void DelayPage::updateSummary()
{
    if (!m_model->lastError().isEmpty())
        return;
    const DelaySummary &t = m_model->total();
    if (t.count == 0) {
        m_summary->setText(m_model->proxyId().isEmpty()
                               ? tr("No proxy connected.")
                               : tr("No mail was accepted after greylisting in this range."));
        return;
    }
    m_summary->setText(tr("%n message(s) accepted after greylisting: p50 %1, p95 %2, max %3",
                          nullptr, int(std::min<qint64>(t.count, INT_MAX)))
                           .arg(DelaySummary::format(t.p50), DelaySummary::format(t.p95),
                                DelaySummary::format(t.max)));
}

} // namespace greygate
