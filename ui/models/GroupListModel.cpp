// SPDX-License-Identifier: GPL-3.0-or-later
#include "GroupListModel.h"

#include "ProxyCalls.h"
#include "ProxyFollow.h"

#include <QJsonArray>

namespace greygate {

GroupListModel::GroupListModel(ProxyRegistry &registry, QObject *parent)
    : KeyedTableModel<GroupRow>(parent)
    , m_registry(registry)
{
    m_reloadTimer.setSingleShot(true);
    m_reloadTimer.setInterval(100); // a burst of changes (an import) reloads once
    connect(&m_reloadTimer, &QTimer::timeout, this, &GroupListModel::reload);
    ProxyFollow::keepCurrent(registry, this, m_reloadTimer, [](const QJsonObject &e) {
        return e.value(QStringLiteral("type")).toString() == u"group";
    });
}

void GroupListModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    ++m_generation;
    beginResetModel(); // another proxy's groups: another table
    m_rows.clear();
    endResetModel();
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    if (!proxyId.isEmpty())
        reload();
}

void GroupListModel::reload()
{
    if (m_proxyId.isEmpty())
        return;
    const quint64 generation = m_generation;
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("group.list"), {}, this,
                     [this, generation](const ProxyConnection::Reply &r) {
                         if (generation != m_generation)
                             return;
                         const QJsonObject o = r.result.toObject();
                         if (!r.ok || !o.value(QStringLiteral("groups")).isArray()) {
                             m_lastError = tr("Cannot read the sender groups: %1")
                                               .arg(r.ok ? tr("a malformed answer")
                                                         : ProxyCalls::describe(r.error));
                             Q_EMIT loadFailed(m_lastError);
                             return;
                         }
                         m_lastError.clear();
                         QList<GroupRow> rows;
                         const QJsonArray groups = o.value(QStringLiteral("groups")).toArray();
                         for (const QJsonValue &g : groups) {
                             GroupRow row{g.toObject()};
                             if (row.id() > 0)
                                 rows.append(row);
                         }
                         replaceRows(rows);
                         Q_EMIT loaded();
                     });
}

int GroupListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

qint64 GroupListModel::groupId(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).id() : 0;
}

QVariant GroupListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QJsonObject &g = m_rows.at(index.row()).group;
    const QString kind = g.value(QStringLiteral("kind")).toString();
    switch (role) {
    case IdRole:
        return g.value(QStringLiteral("id")).toInteger();
    case VersionRole:
        return g.value(QStringLiteral("version")).toInteger();
    case KindRole:
        return kind;
    case Qt::UserRole:
        switch (Column(index.column())) {
        case Members:
            return g.value(QStringLiteral("memberCount")).toInteger();
        case Version:
            return g.value(QStringLiteral("version")).toInteger();
        case Id:
            return g.value(QStringLiteral("id")).toInteger();
        default:
            break;
        }
        [[fallthrough]];
    case Qt::DisplayRole:
        break;
    default:
        return {};
    }
    switch (Column(index.column())) {
    case Name:
        return g.value(QStringLiteral("name")).toString();
    case Kind:
        return kind == u"permitted" ? tr("Permitted Senders")
               : kind == u"blocked" ? tr("Blocked Senders")
                                    : tr("Custom");
    case Members:
        return g.value(QStringLiteral("memberCount")).toInteger();
    case Version:
        return g.value(QStringLiteral("version")).toInteger();
    case UpdatedAt:
        return g.value(QStringLiteral("updatedAt")).toString();
    case UpdatedBy:
        return g.value(QStringLiteral("updatedBy")).toString();
    case Id:
        return g.value(QStringLiteral("id")).toInteger();
    case ColumnCount:
        break;
    }
    return {};
}

QVariant GroupListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const QStringList headers = {tr("Name"),    tr("Kind"),    tr("Members"),
                                        tr("Version"), tr("Updated"), tr("Updated by"),
                                        tr("Id")};
    return headers.value(section);
}

void GroupListModel::create(const QString &name, const QString &kind)
{
    QJsonObject group{{QStringLiteral("name"), name}};
    if (!kind.isEmpty())
        group.insert(QStringLiteral("kind"), kind);
    send(QStringLiteral("create"), QJsonObject{{QStringLiteral("group"), group}}, 0);
}

void GroupListModel::remove(qint64 id, qint64 version)
{
    send(QStringLiteral("delete"),
         QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("version"), version}}, id);
}

void GroupListModel::send(const QString &action, const QJsonObject &params, qint64 id)
{
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("group.") + action, params, this,
                     [this, action, id](const ProxyConnection::Reply &r) {
                         m_reloadTimer.start();
                         if (!r.ok) {
                             if (r.error.code == protocol::ErrorCode::StaleVersion)
                                 Q_EMIT conflict(id, r.error.message);
                             else
                                 Q_EMIT changeFailed(action, id, ProxyCalls::describe(r.error));
                             return;
                         }
                         const QJsonObject o = r.result.toObject();
                         Q_EMIT changeDone(action, o.value(QStringLiteral("id")).toInteger(id),
                                           o.value(QStringLiteral("version")).toInteger());
                     });
}

} // namespace greygate
