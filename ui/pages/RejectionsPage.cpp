// SPDX-License-Identifier: GPL-3.0-or-later
#include "RejectionsPage.h"

#include "client/ProxyRegistry.h"
#include "models/RejectionModel.h"
#include "report/TableCsvExporter.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace greygate {

namespace {

constexpr qint64 kRangeSeconds[] = {3600, 86400, 7 * 86400, 0}; // 0: everything kept

} // namespace

RejectionsPage::RejectionsPage(ProxyRegistry &registry, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_model(new RejectionModel(registry, this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_debounce(new QTimer(this))
{
    m_range = new QComboBox(this);
    m_range->addItems({tr("Last hour"), tr("Last day"), tr("Last week"), tr("Everything")});
    m_range->setCurrentIndex(2);
    m_reason = new QComboBox(this);
    m_reason->addItem(tr("Any reason"), QString());
    m_reason->addItem(tr("Sender Failed to Retry"), QStringLiteral("Sender Failed to Retry"));
    m_reason->addItem(tr("Blocked Sender"), RejectionModel::kBlockedReason);
    const auto makeField = [this](const QString &placeholder, const QString &name) {
        auto *edit = new QLineEdit(this);
        edit->setPlaceholderText(placeholder);
        edit->setClearButtonEnabled(true);
        edit->setObjectName(name);
        connect(edit, &QLineEdit::textChanged, m_debounce, qOverload<>(&QTimer::start));
        return edit;
    };
    m_client = makeField(tr("Client contains…"), QStringLiteral("rejectionsClient"));
    m_sender = makeField(tr("Sender contains…"), QStringLiteral("rejectionsSender"));
    m_recipient = makeField(tr("Recipient contains…"), QStringLiteral("rejectionsRecipient"));
    auto *exportButton = new QPushButton(tr("Export CSV…"), this);
    exportButton->setToolTip(tr("Save the rows shown, as sorted, to a CSV file"));
    // The triage ranks these same "Sender Failed to Retry" rows by how likely they were
    // legitimate, with allow-and-notify: one click from here.
    auto *triage = new QPushButton(tr("Triage failed to retry…"), this);
    triage->setObjectName(QStringLiteral("openTriage"));
    triage->setToolTip(tr("Rank the \"Sender Failed to Retry\" entries by how likely they were "
                          "legitimate, and allow a sender with a note (Triage page)"));
    connect(triage, &QPushButton::clicked, this,
            [this] { Q_EMIT openPageRequested(QStringLiteral("triage")); });

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_range);
    filters->addWidget(m_reason);
    filters->addWidget(m_client, 1);
    filters->addWidget(m_sender, 1);
    filters->addWidget(m_recipient, 1);
    filters->addWidget(exportButton);
    filters->addWidget(triage);

    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(Qt::UserRole);
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("rejectionsTable"));
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(RejectionModel::TimeColumn, Qt::DescendingOrder);
    m_table->setAlternatingRowColors(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    // The columns fit what the first page holds (a reset gives the header its default sizes
    // back), looking at a bounded number of rows; the admin can resize them after.
    m_table->horizontalHeader()->setResizeContentsPrecision(100);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, [this] { m_fitted = false; });
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_fitted)
            return;
        m_fitted = true;
        m_table->resizeColumnsToContents();
    });

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("rejectionsStatus"));
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_status);

    m_debounce->setSingleShot(true);
    m_debounce->setInterval(300);
    connect(m_debounce, &QTimer::timeout, this, &RejectionsPage::applyFilters);
    connect(m_range, &QComboBox::currentIndexChanged, this, &RejectionsPage::applyFilters);
    connect(m_reason, &QComboBox::currentIndexChanged, this, &RejectionsPage::applyFilters);
    connect(exportButton, &QPushButton::clicked, this, &RejectionsPage::askExport);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &RejectionsPage::updateStatus);
    connect(m_model, &QAbstractItemModel::modelReset, this, &RejectionsPage::updateStatus);
    connect(m_model, &RejectionModel::loadingChanged, this, &RejectionsPage::updateStatus);
    connect(m_model, &RejectionModel::errorOccurred, this,
            [this](const QString &proxyId, const QString &message) {
                const ProxyEndpoint *e = m_registry.endpoint(proxyId);
                m_status->setText(
                    tr("%1 could not list its rejections: %2").arg(e ? e->name : proxyId, message));
            });
    applyFilters();
}

RejectionsPage::~RejectionsPage() = default;

QIcon RejectionsPage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("mail-mark-junk"),
                            style()->standardIcon(QStyle::SP_MessageBoxWarning));
}

void RejectionsPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_model->setScope(proxyId);
}

void RejectionsPage::applyFilters()
{
    m_debounce->stop();
    RejectionModel::Filter filter;
    const qint64 span = kRangeSeconds[qBound(0, m_range->currentIndex(), 3)];
    filter.from = span > 0 ? QDateTime::currentSecsSinceEpoch() - span : 0;
    filter.client = m_client->text().trimmed();
    filter.sender = m_sender->text().trimmed();
    filter.recipient = m_recipient->text().trimmed();
    filter.reason = m_reason->currentData().toString();
    m_model->setFilter(filter);
    updateStatus();
}

void RejectionsPage::refresh()
{
    m_model->reload();
    updateStatus();
}

void RejectionsPage::updateStatus()
{
    const int rows = m_model->rowCount();
    QString text = tr("%n rejection(s) shown", nullptr, rows);
    if (m_model->isLoading())
        text += tr("; loading…");
    else if (m_model->canFetchMore({}))
        text += tr("; scroll down for more");
    m_status->setText(text);
}

bool RejectionsPage::exportCsv(const QString &path, QString *error)
{
    return TableCsvExporter::write(*m_proxy, path, error);
}

void RejectionsPage::askExport()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export rejections"), QDir::home().filePath(QStringLiteral("rejections.csv")),
        tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportCsv(path, &error))
        QMessageBox::warning(this, tr("Export rejections"),
                             error + u'\n' + tr("Choose another folder and export again."));
}

} // namespace greygate
