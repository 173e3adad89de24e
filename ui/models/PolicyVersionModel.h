// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>

namespace greygate {

// The policy table's versions as policy.versions lists them, newest first: version, time,
// who, what, and the policies it changed. Replaced whole on each load.
class PolicyVersionModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Version,
        Time,
        Who,
        What,
        Policies,
        ColumnCount
    };
    enum Role
    {
        VersionRole = Qt::UserRole + 1,
    };

    explicit PolicyVersionModel(QObject *parent = nullptr);

    void setVersions(const QJsonArray &versions);
    qint64 versionAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    static QString whatText(const QString &what); // "policy.update" -> "Updated"

private:
    QJsonArray m_versions;
};

} // namespace greygate
