// SPDX-License-Identifier: GPL-3.0-or-later
#include "LiveAttemptsFilter.h"

#include "LiveAttemptsModel.h"

namespace greygate {

LiveAttemptsFilter::LiveAttemptsFilter(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(Qt::UserRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void LiveAttemptsFilter::setSourceModel(QAbstractItemModel *source)
{
    m_live = qobject_cast<const LiveAttemptsModel *>(source);
    QSortFilterProxyModel::setSourceModel(source);
}

void LiveAttemptsFilter::changed()
{
    // Qt 6.4 has no begin/endFilterChange: invalidateFilter() re-runs the filter, keeping
    // the sort.
    invalidateFilter();
}

void LiveAttemptsFilter::setText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    changed();
}

void LiveAttemptsFilter::setOutcomes(const QSet<QString> &outcomes)
{
    if (outcomes == m_outcomes)
        return;
    m_outcomes = outcomes;
    m_outcomeCodes.clear();
    const QStringList names = LiveAttemptsModel::outcomeNames();
    for (const QString &name : outcomes) {
        const qsizetype code = names.indexOf(name);
        m_outcomeCodes.insert(code >= 0 ? int(code) : -1);
    }
    changed();
}

void LiveAttemptsFilter::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    changed();
}

bool LiveAttemptsFilter::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_live || sourceParent.isValid())
        return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
    const LiveAttemptsModel::Row &row = m_live->row(sourceRow);
    if (!m_proxyId.isEmpty() && m_live->proxyIdOf(sourceRow) != m_proxyId)
        return false;
    if (row.isGap())
        return true;
    if (!m_outcomeCodes.isEmpty() && !m_outcomeCodes.contains(row.outcome))
        return false;
    if (m_text.isEmpty())
        return true;
    return row.client.contains(m_text, Qt::CaseInsensitive) ||
           row.sender.contains(m_text, Qt::CaseInsensitive) ||
           row.recipient.contains(m_text, Qt::CaseInsensitive) ||
           row.reason.contains(m_text, Qt::CaseInsensitive);
}

} // namespace greygate
