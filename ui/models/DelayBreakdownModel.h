// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DelaySummary.h"

#include <QAbstractTableModel>
#include <QJsonArray>

namespace greygate {

struct DelayBreakdownRow
{
    QString key;  // the domain, or the policy's key ("none", "other", an id)
    QString name; // what the table shows
    DelaySummary summary;
    bool operator==(const DelayBreakdownRow &) const = default;
};

// The delay per sender domain or per policy of one `delay.stats` answer: count, p50, p95,
// max and mean, each sortable on its raw value (seconds) while it reads "7 min 12 s". An
// answer asked for by the admin (a range chosen) lays the table out afresh: not a live update.
class DelayBreakdownModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum class By
    {
        Domain,
        Policy
    };
    enum Column
    {
        Name,
        Count,
        P50,
        P95,
        Max,
        Mean,
        ColumnCount
    };

    explicit DelayBreakdownModel(By by, QObject *parent = nullptr);

    // The answer's "domains" or "policies" array; replaces the rows.
    void setRows(const QJsonArray &rows);
    const QList<DelayBreakdownRow> &rows() const { return m_rows; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    By m_by;
    QList<DelayBreakdownRow> m_rows;
};

} // namespace greygate
