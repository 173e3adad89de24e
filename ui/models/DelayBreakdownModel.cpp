// SPDX-License-Identifier: GPL-3.0-or-later
#include "DelayBreakdownModel.h"

#include <QJsonObject>

namespace greygate {

namespace {

constexpr qsizetype kMaxRows = 1000; // the proxy gives at most 100 + "(other)"

} // namespace

DelayBreakdownModel::DelayBreakdownModel(By by, QObject *parent)
    : QAbstractTableModel(parent)
    , m_by(by)
{}

void DelayBreakdownModel::setRows(const QJsonArray &rows)
{
    QList<DelayBreakdownRow> fresh;
    for (const QJsonValue &value : rows) {
        if (fresh.size() >= kMaxRows)
            break;
        const QJsonObject o = value.toObject();
        DelayBreakdownRow row;
        if (m_by == By::Domain) {
            row.key = row.name = o.value(QStringLiteral("domain")).toString().left(255);
        } else {
            row.key = o.value(QStringLiteral("policy")).toString().left(32);
            row.name = o.value(QStringLiteral("name")).toString().left(256);
            if (row.name.isEmpty())
                row.name = row.key;
        }
        if (row.key.isEmpty())
            continue;
        row.summary = DelaySummary::fromJson(o);
        fresh.append(row);
    }
    beginResetModel();
    m_rows = fresh;
    endResetModel();
}

int DelayBreakdownModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int DelayBreakdownModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DelayBreakdownModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const DelayBreakdownRow &row = m_rows.at(index.row());
    const DelaySummary &s = row.summary;
    const qint64 raw[] = {0, s.count, s.p50, s.p95, s.max, s.mean};
    switch (role) {
    case Qt::UserRole: // the raw value, to sort on
        return index.column() == Name ? QVariant(row.name) : QVariant(raw[index.column()]);
    case Qt::ToolTipRole:
        if (index.column() == Name && m_by == By::Policy)
            return row.key == u"none" || row.key == u"other"
                       ? row.name
                       : tr("policy %1: %2").arg(row.key, row.name);
        return {};
    case Qt::TextAlignmentRole:
        return index.column() == Name ? QVariant()
                                      : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    case Qt::DisplayRole:
        break;
    default:
        return {};
    }
    switch (Column(index.column())) {
    case Name:
        return row.name;
    case Count:
        return s.count;
    case P50:
    case P95:
    case Max:
    case Mean:
        return DelaySummary::format(raw[index.column()]);
    case ColumnCount:
        break;
    }
    return {};
}

QVariant DelayBreakdownModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Name:
        return m_by == By::Domain ? tr("Sender domain") : tr("Policy");
    case Count:
        return tr("Accepted");
    case P50:
        return tr("p50 delay");
    case P95:
        return tr("p95 delay");
    case Max:
        return tr("Max delay");
    case Mean:
        return tr("Mean delay");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace greygate
