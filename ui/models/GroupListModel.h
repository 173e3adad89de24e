// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"
#include "client/ProxyRegistry.h"

#include <QJsonObject>
#include <QTimer>

namespace greygate {

struct GroupRow
{
    QJsonObject group; // group.list's entry: id, name, kind, version, memberCount...
    qint64 id() const { return group.value(QStringLiteral("id")).toInteger(); }
    QString key() const { return QString::number(id()); }
    bool operator==(const GroupRow &) const = default;
};

// One proxy's sender groups (Permitted, Blocked, custom) from `group.list`, without their
// members (GroupMembersModel has them). Reloaded without a reset on group events and after a
// reconnect; create and delete go to the proxy, a stale version is reported by conflict().
class GroupListModel : public KeyedTableModel<GroupRow>
{
    Q_OBJECT

public:
    enum Column
    {
        Name,
        Kind,
        Members,
        Version,
        UpdatedAt,
        UpdatedBy,
        Id,
        ColumnCount
    };
    enum Role
    {
        IdRole = Qt::UserRole + 1,
        VersionRole,
        KindRole, // "custom", "permitted", "blocked"
    };

    explicit GroupListModel(ProxyRegistry &registry, QObject *parent = nullptr);

    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }
    void reload();
    QString lastError() const { return m_lastError; }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    qint64 groupId(int row) const;
    int rowOfId(qint64 id) const { return rowOf(QString::number(id)); }

    // kind: "custom", "permitted", "blocked", or empty (the name decides, docs/policies.md).
    void create(const QString &name, const QString &kind = QString());
    void remove(qint64 id, qint64 version);

Q_SIGNALS:
    void loaded();
    void loadFailed(const QString &message);
    void changeDone(const QString &action, qint64 id, qint64 version);
    void changeFailed(const QString &action, qint64 id, const QString &message);
    void conflict(qint64 id, const QString &message);

private:
    void send(const QString &action, const QJsonObject &params, qint64 id);

    ProxyRegistry &m_registry;
    QString m_proxyId;
    QString m_lastError;
    quint64 m_generation = 0;
    QTimer m_reloadTimer;
};

} // namespace greygate
