// SPDX-License-Identifier: GPL-3.0-or-later
#include "GroupMembersModel.h"

#include "ProxyCalls.h"

#include <QJsonArray>

namespace greygate {

GroupMembersModel::GroupMembersModel(ProxyRegistry &registry, QObject *parent)
    : KeyedTableModel<MemberRow>(parent)
    , m_registry(registry)
{
    m_reloadTimer.setSingleShot(true);
    m_reloadTimer.setInterval(100);
    connect(&m_reloadTimer, &QTimer::timeout, this, &GroupMembersModel::reload);
    connect(&registry, &ProxyRegistry::eventsReceived, this,
            [this](const QString &id, const QJsonArray &events) {
                if (id != m_proxyId || m_groupId <= 0)
                    return;
                const QString subject = QStringLiteral("group:%1").arg(m_groupId);
                for (const QJsonValue &e : events) {
                    const QJsonObject o = e.toObject();
                    if (o.value(QStringLiteral("type")).toString() == u"group" &&
                        o.value(QStringLiteral("subject")).toString() == subject) {
                        m_reloadTimer.start();
                        return;
                    }
                }
            });
    const auto again = [this](const QString &id) {
        if (id == m_proxyId && m_groupId > 0)
            m_reloadTimer.start();
    };
    connect(&registry, &ProxyRegistry::ready, this, again);
    connect(&registry, &ProxyRegistry::resyncNeeded, this, again);
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        if (id == m_proxyId)
            setGroup(QString(), 0);
    });
}

void GroupMembersModel::setGroup(const QString &proxyId, qint64 groupId)
{
    if (proxyId == m_proxyId && groupId == m_groupId)
        return;
    m_proxyId = proxyId;
    m_groupId = groupId;
    m_version = -1;
    m_name.clear();
    ++m_generation;
    beginResetModel(); // another group: another table
    m_rows.clear();
    endResetModel();
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    reload();
}

void GroupMembersModel::reload()
{
    if (m_proxyId.isEmpty() || m_groupId <= 0)
        return;
    const quint64 generation = m_generation;
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("group.get"),
                     QJsonObject{{QStringLiteral("id"), m_groupId}}, this,
                     [this, generation](const ProxyConnection::Reply &r) {
                         if (generation != m_generation)
                             return;
                         const QJsonObject o = r.result.toObject();
                         if (!r.ok || !o.value(QStringLiteral("members")).isArray()) {
                             m_lastError = tr("Cannot read the group: %1")
                                               .arg(r.ok ? tr("a malformed answer")
                                                         : ProxyCalls::describe(r.error));
                             if (r.error.code == protocol::ErrorCode::NotFound)
                                 replaceRows({}); // deleted meanwhile
                             Q_EMIT loadFailed(m_lastError);
                             return;
                         }
                         m_lastError.clear();
                         m_version = o.value(QStringLiteral("version")).toInteger();
                         m_name = o.value(QStringLiteral("name")).toString();
                         QList<MemberRow> rows;
                         const QJsonArray members = o.value(QStringLiteral("members")).toArray();
                         for (const QJsonValue &m : members)
                             rows.append(MemberRow{m.toString()});
                         replaceRows(rows);
                         Q_EMIT loaded();
                     });
}

int GroupMembersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QStringList GroupMembersModel::members() const
{
    QStringList list;
    list.reserve(m_rows.size());
    for (const MemberRow &row : m_rows)
        list.append(row.member);
    return list;
}

QString GroupMembersModel::kindOf(const QString &member)
{
    if (member.startsWith(u'@'))
        return tr("Domain");
    if (member.startsWith(QStringLiteral("*.")))
        return tr("Subdomains");
    if (member.contains(u'@'))
        return tr("Address");
    return tr("Network");
}

QVariant GroupMembersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    if (role != Qt::DisplayRole && role != Qt::UserRole && role != Qt::EditRole)
        return {};
    const QString &member = m_rows.at(index.row()).member;
    return index.column() == Member ? member : kindOf(member);
}

QVariant GroupMembersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    return section == Member ? tr("Member") : section == Kind ? tr("Kind") : QVariant();
}

void GroupMembersModel::add(const QStringList &members)
{
    change(QStringLiteral("add"), members);
}

void GroupMembersModel::remove(const QStringList &members)
{
    change(QStringLiteral("remove"), members);
}

void GroupMembersModel::importCsv(const QString &csv, bool replace)
{
    if (m_version < 0) {
        QTimer::singleShot(0, this, [this] {
            Q_EMIT changeFailed(QStringLiteral("import"),
                                tr("the group is not loaded yet: wait, then try again"));
        });
        return;
    }
    const QJsonObject params{{QStringLiteral("id"), m_groupId},
                             {QStringLiteral("version"), m_version},
                             {QStringLiteral("csv"), csv},
                             {QStringLiteral("replace"), replace}};
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("group.import"), params, this,
        [this](const ProxyConnection::Reply &r) {
            m_reloadTimer.start();
            if (!r.ok) {
                if (r.error.code == protocol::ErrorCode::StaleVersion)
                    Q_EMIT conflict(r.error.message);
                else
                    Q_EMIT changeFailed(QStringLiteral("import"), ProxyCalls::describe(r.error));
                return;
            }
            Q_EMIT changeDone(QStringLiteral("import"),
                              r.result.toObject().value(QStringLiteral("version")).toInteger());
        });
}

void GroupMembersModel::exportCsv()
{
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("group.export"),
                     QJsonObject{{QStringLiteral("id"), m_groupId}}, this,
                     [this](const ProxyConnection::Reply &r) {
                         const QJsonValue csv = r.result.toObject().value(QStringLiteral("csv"));
                         if (!r.ok || !csv.isString()) {
                             Q_EMIT changeFailed(QStringLiteral("export"),
                                                 r.ok ? tr("a malformed answer")
                                                      : ProxyCalls::describe(r.error));
                             return;
                         }
                         Q_EMIT csvExported(csv.toString());
                     });
}

void GroupMembersModel::change(const QString &action, const QStringList &members)
{
    if (m_version < 0) {
        QTimer::singleShot(0, this, [this, action] {
            Q_EMIT changeFailed(action, tr("the group is not loaded yet: wait, then try again"));
        });
        return;
    }
    const QJsonObject params{{QStringLiteral("id"), m_groupId},
                             {QStringLiteral("version"), m_version},
                             {QStringLiteral("members"), QJsonArray::fromStringList(members)}};
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("group.members.") + action, params, this,
                     [this, action](const ProxyConnection::Reply &r) {
                         m_reloadTimer.start();
                         if (!r.ok) {
                             if (r.error.code == protocol::ErrorCode::StaleVersion)
                                 Q_EMIT conflict(r.error.message);
                             else
                                 Q_EMIT changeFailed(action, ProxyCalls::describe(r.error));
                             return;
                         }
                         Q_EMIT changeDone(
                             action,
                             r.result.toObject().value(QStringLiteral("version")).toInteger());
                     });
}

} // namespace greygate
