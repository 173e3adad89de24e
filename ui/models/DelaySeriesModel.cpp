// SPDX-License-Identifier: GPL-3.0-or-later
#include "DelaySeriesModel.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>

namespace greygate {

DelaySeriesModel::DelaySeriesModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void DelaySeriesModel::setSeries(const QJsonArray &series, qint64 from, qint64 to,
                                 qint64 stepSeconds)
{
    QHash<qint64, DelaySummary> byTime;
    for (const QJsonValue &value : series) {
        if (byTime.size() >= kMaxPoints)
            break;
        const QJsonObject o = value.toObject();
        byTime.insert(o.value(QStringLiteral("time")).toInteger(), DelaySummary::fromJson(o));
    }
    QList<Point> fresh;
    if (stepSeconds > 0 && to > from) {
        // The proxy's buckets start at the hour holding `from`, one per step from there; it
        // leaves out those without accepted mail.
        const qint64 first = from - from % 3600;
        for (qint64 t = first; t < to && fresh.size() < kMaxPoints; t += stepSeconds)
            fresh.append(Point{t, byTime.value(t)});
        // A bucket the proxy gave off the expected boundaries is kept, in time order.
        for (auto it = byTime.cbegin(); it != byTime.cend(); ++it) {
            if ((it.key() - first) % stepSeconds == 0 && it.key() >= first && it.key() < to)
                continue;
            if (fresh.size() >= kMaxPoints)
                break;
            const auto at =
                std::lower_bound(fresh.begin(), fresh.end(), it.key(),
                                 [](const Point &p, qint64 time) { return p.time < time; });
            fresh.insert(at, Point{it.key(), it.value()});
        }
    }
    beginResetModel();
    m_points = fresh;
    endResetModel();
}

int DelaySeriesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_points.size());
}

int DelaySeriesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DelaySeriesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Point &p = m_points.at(index.row());
    const qint64 seconds[] = {p.time, p.summary.count, p.summary.p50, p.summary.p95, p.summary.max};
    if (role == Qt::UserRole)
        return seconds[index.column()];
    if (role == Qt::ToolTipRole && index.column() > Count)
        return DelaySummary::format(seconds[index.column()]);
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(index.column())) {
    case Time:
        return QDateTime::fromSecsSinceEpoch(p.time);
    case Count:
        return p.summary.count;
    case P50:
    case P95:
    case Max:
        // Minutes, to a tenth: what the chart's axis reads.
        return double(seconds[index.column()] * 10 / 60) / 10.0;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant DelaySeriesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Time:
        return tr("Time");
    case Count:
        return tr("Accepted");
    case P50:
        return tr("p50 (min)");
    case P95:
        return tr("p95 (min)");
    case Max:
        return tr("max (min)");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace greygate
