// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"
#include "client/ProxyRegistry.h"

#include <QTimer>

namespace greygate {

struct MemberRow
{
    QString member; // "a@b.example", "@domain", "*.domain", "192.0.2.0/24"
    QString key() const { return member; }
    bool operator==(const MemberRow &) const = default;
};

// The members of one sender group (`group.get`), with what each kind of member matches.
// Reloaded without a reset when the proxy reports a change to this group. Adding and
// removing name the version this model read; a stale one comes back through conflict().
class GroupMembersModel : public KeyedTableModel<MemberRow>
{
    Q_OBJECT

public:
    enum Column
    {
        Member,
        Kind,
        ColumnCount
    };

    explicit GroupMembersModel(ProxyRegistry &registry, QObject *parent = nullptr);

    void setGroup(const QString &proxyId, qint64 groupId);
    QString proxyId() const { return m_proxyId; }
    qint64 groupId() const { return m_groupId; }
    QString groupName() const { return m_name; }
    qint64 version() const { return m_version; } // -1 until loaded
    void reload();
    QString lastError() const { return m_lastError; }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    QStringList members() const;

    void add(const QStringList &members);
    void remove(const QStringList &members);
    // CSV of docs/policies.md ("CSV for group members"), parsed whole by the proxy (a bad
    // line comes back through changeFailed() with its number, nothing imported): the members
    // are added, or with `replace` become the whole membership. Action "import".
    void importCsv(const QString &csv, bool replace = false);
    // The members as that CSV, from the proxy: csvExported() or changeFailed("export", ...).
    void exportCsv();

    static QString kindOf(const QString &member);

Q_SIGNALS:
    void loaded();
    void loadFailed(const QString &message);
    void changeDone(const QString &action, qint64 version);
    void changeFailed(const QString &action, const QString &message);
    void conflict(const QString &message);
    void csvExported(const QString &csv);

private:
    void change(const QString &action, const QStringList &members);

    ProxyRegistry &m_registry;
    QString m_proxyId;
    qint64 m_groupId = 0;
    qint64 m_version = -1;
    QString m_name;
    QString m_lastError;
    quint64 m_generation = 0;
    QTimer m_reloadTimer;
};

} // namespace greygate
