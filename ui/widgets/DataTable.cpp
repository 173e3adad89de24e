// SPDX-License-Identifier: GPL-3.0-or-later
#include "DataTable.h"

#include "RawSortProxyModel.h"
#include "settings/Settings.h"

#include <QAction>
#include <QFileDialog>
#include <QHeaderView>
#include <QMenu>
#include <QMessageBox>
#include <QSaveFile>
#include <QSortFilterProxyModel>

namespace greygate {

DataTable::DataTable(const QString &name, Settings *settings, QWidget *parent)
    : QTableView(parent)
    , m_name(name)
    , m_settings(settings)
{
    setObjectName(name);
    setSortingEnabled(true);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setAlternatingRowColors(true);
    setWordWrap(false);
    verticalHeader()->setVisible(false);
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    horizontalHeader()->setStretchLastSection(true);
    horizontalHeader()->setSectionsMovable(true);
    horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(horizontalHeader(), &QHeaderView::customContextMenuRequested, this,
            &DataTable::showHeaderMenu);
    setContextMenuPolicy(Qt::ActionsContextMenu);
    auto *exportAction = new QAction(tr("Export shown rows as CSV…"), this);
    connect(exportAction, &QAction::triggered, this, &DataTable::exportCsv);
    addAction(exportAction);
}

DataTable::~DataTable()
{
    saveColumns();
}

void DataTable::setSourceModel(QAbstractItemModel *source, QSortFilterProxyModel *proxy)
{
    if (!proxy) {
        proxy = new RawSortProxyModel(this);
        proxy->setSourceModel(source);
    }
    m_proxy = proxy;
    // The raw value sorts (a count as a number, a time as a time), the display formats it.
    m_proxy->setSortRole(Qt::UserRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    setModel(m_proxy);
    // Unsorted until the admin (or the page) chooses: QHeaderView's default indicator would
    // sort on column 0 descending, which turns a live table upside down (and costs a sort per
    // batch for nothing).
    horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    m_proxy->sort(-1);
    restoreColumns();
}

QAbstractItemModel *DataTable::sourceModel() const
{
    return m_proxy ? m_proxy->sourceModel() : nullptr;
}

QList<int> DataTable::selectedSourceRows() const
{
    QList<int> rows;
    if (!m_proxy || !selectionModel())
        return rows;
    const QModelIndexList selected = selectionModel()->selectedRows();
    for (const QModelIndex &index : selected) {
        QModelIndex source = m_proxy->mapToSource(index);
        // A proxy stacked on a proxy: map down to the innermost model.
        auto *inner = qobject_cast<QAbstractProxyModel *>(m_proxy->sourceModel());
        while (inner) {
            source = inner->mapToSource(source);
            inner = qobject_cast<QAbstractProxyModel *>(inner->sourceModel());
        }
        rows.append(source.row());
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return rows;
}

QString DataTable::csvField(const QString &value)
{
    QString v = value;
    if (!v.isEmpty() && (v.front() == u'=' || v.front() == u'+' || v.front() == u'-' ||
                         v.front() == u'@' || v.front() == u'\t' || v.front() == u'\r'))
        v.prepend(u'\'');
    if (v.contains(u',') || v.contains(u'"') || v.contains(u'\n') || v.contains(u'\r') ||
        v.contains(u';')) {
        v.replace(QStringLiteral("\""), QStringLiteral("\"\""));
        return u'"' + v + u'"';
    }
    return v;
}

QString DataTable::toCsv() const
{
    QString out;
    QAbstractItemModel *m = model();
    if (!m)
        return out;
    QList<int> columns;
    const QHeaderView *header = horizontalHeader();
    for (int visual = 0; visual < header->count(); ++visual) {
        const int logical = header->logicalIndex(visual);
        if (!header->isSectionHidden(logical))
            columns.append(logical);
    }
    QStringList fields;
    for (int c : columns)
        fields.append(csvField(m->headerData(c, Qt::Horizontal).toString()));
    out += fields.join(u',') + QStringLiteral("\r\n");
    for (int r = 0; r < m->rowCount(); ++r) {
        fields.clear();
        for (int c : columns)
            fields.append(csvField(m->index(r, c).data().toString()));
        out += fields.join(u',') + QStringLiteral("\r\n");
    }
    return out;
}

void DataTable::exportCsv()
{
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export as CSV"), m_name + QStringLiteral(".csv"), tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(toCsv().toUtf8()) < 0 || !file.commit())
        QMessageBox::warning(
            this, tr("Export failed"),
            tr("Could not write %1: %2. Choose another folder.").arg(path, file.errorString()));
}

void DataTable::saveColumns()
{
    if (m_settings && m_restored && model())
        m_settings->setMapValue(Settings::Key::ColumnStates, m_name,
                                horizontalHeader()->saveState());
}

void DataTable::restoreColumns()
{
    if (m_settings) {
        const QByteArray state =
            m_settings->mapValue(Settings::Key::ColumnStates, m_name).toByteArray();
        if (!state.isEmpty())
            horizontalHeader()->restoreState(state);
        if (!m_restored) {
            auto save = [this] {
                saveColumns();
            };
            connect(horizontalHeader(), &QHeaderView::sectionResized, this, save);
            connect(horizontalHeader(), &QHeaderView::sectionMoved, this, save);
            connect(horizontalHeader(), &QHeaderView::sortIndicatorChanged, this, save);
        }
    }
    m_restored = true;
}

void DataTable::showHeaderMenu(const QPoint &pos)
{
    QAbstractItemModel *m = model();
    if (!m)
        return;
    QMenu menu(this);
    QHeaderView *header = horizontalHeader();
    for (int c = 0; c < m->columnCount(); ++c) {
        QAction *a = menu.addAction(m->headerData(c, Qt::Horizontal).toString());
        a->setCheckable(true);
        a->setChecked(!header->isSectionHidden(c));
        connect(a, &QAction::toggled, this, [this, header, c](bool on) {
            header->setSectionHidden(c, !on);
            saveColumns();
        });
    }
    menu.exec(header->mapToGlobal(pos));
}

} // namespace greygate
