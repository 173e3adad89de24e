// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>

namespace greygate {

// A policy.replay answer as a table: one row per sender domain and new verdict (the
// attempts that would now bypass, be greylisted or be blocked), with the count, what they
// were before and a sample. Replaced whole by each replay (not a live model).
class ReplayDiffModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Domain,
        Now,
        Attempts,
        Before,
        Sample,
        Policies,
        ColumnCount
    };

    explicit ReplayDiffModel(QObject *parent = nullptr);

    void setResult(const QJsonObject &result);
    const QJsonObject &result() const { return m_result; }
    // "214 of 5,030 attempts would change: 200 now bypass, 12 now greylisted, 2 now blocked"
    QString summary() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    static QString verdictText(const QString &verdict); // "bypass" -> "Bypass"...

private:
    QJsonObject m_result;
    QJsonArray m_groups;
};

} // namespace greygate
