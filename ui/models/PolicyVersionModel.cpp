// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyVersionModel.h"

#include <QDateTime>
#include <QJsonObject>

namespace greygate {

PolicyVersionModel::PolicyVersionModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void PolicyVersionModel::setVersions(const QJsonArray &versions)
{
    beginResetModel();
    m_versions = versions;
    endResetModel();
}

qint64 PolicyVersionModel::versionAt(int row) const
{
    return row >= 0 && row < m_versions.size()
               ? m_versions.at(row).toObject().value(QStringLiteral("version")).toInteger()
               : -1;
}

QString PolicyVersionModel::whatText(const QString &what)
{
    if (what == u"policy.create")
        return tr("Created");
    if (what == u"policy.update")
        return tr("Updated");
    if (what == u"policy.delete")
        return tr("Deleted");
    if (what == u"policy.import")
        return tr("Imported");
    if (what == u"policy.rollback")
        return tr("Rolled back");
    return what;
}

int PolicyVersionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_versions.size());
}

int PolicyVersionModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PolicyVersionModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QJsonObject v = m_versions.at(index.row()).toObject();
    if (role == VersionRole)
        return v.value(QStringLiteral("version")).toInteger();
    if (role == Qt::UserRole) {
        if (index.column() == Version)
            return v.value(QStringLiteral("version")).toInteger();
        if (index.column() == Time)
            return v.value(QStringLiteral("time")).toInteger();
        role = Qt::DisplayRole;
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(index.column())) {
    case Version:
        return v.value(QStringLiteral("version")).toInteger();
    case Time:
        return QDateTime::fromSecsSinceEpoch(v.value(QStringLiteral("time")).toInteger(), Qt::UTC)
            .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
    case Who:
        return v.value(QStringLiteral("who")).toString();
    case What:
        return whatText(v.value(QStringLiteral("what")).toString());
    case Policies: {
        QStringList ids;
        for (const QJsonValue &id : v.value(QStringLiteral("policies")).toArray())
            ids.append(QString::number(id.toInteger()));
        return ids.join(QStringLiteral(", "));
    }
    case ColumnCount:
        break;
    }
    return {};
}

QVariant PolicyVersionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const QStringList headers = {tr("Version"), tr("Time"), tr("Who"), tr("What"),
                                        tr("Policies")};
    return headers.value(section);
}

} // namespace greygate
