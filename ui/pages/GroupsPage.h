// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

class QLabel;
class QLineEdit;
class QPushButton;

namespace greygate {

class DataTable;
class GroupListModel;
class GroupMembersModel;
class ProxyPicker;
class ProxyRegistry;
class Settings;

// Sender groups of one proxy: Permitted Senders, Blocked Senders and custom groups (used by
// policies) on the left, the chosen group's members on the right with search, add (checked
// as typed), remove (confirmed, multi-select), and CSV import (add, or replace the whole
// membership) and export through the proxy's own CSV parser (group.import / group.export).
class GroupsPage : public Page
{
    Q_OBJECT

public:
    GroupsPage(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);

    QString title() const override { return tr("Sender groups"); }
    QIcon icon() const override { return QIcon(QStringLiteral(":/icons/groups.png")); }
    void setScope(const QString &proxyId) override;

    GroupListModel *groups() const { return m_groups; }
    GroupMembersModel *members() const { return m_members; }
    DataTable *groupTable() const { return m_groupTable; }
    DataTable *memberTable() const { return m_memberTable; }

    // The CSV import as the button does it, with the file's bytes.
    void importCsv(const QByteArray &csv, bool replace);

public Q_SLOTS:
    void refresh();
    void newGroup();
    void deleteGroup();
    void addMembers();
    void removeMembers();
    void importCsvFile();
    void exportCsvFile();

private:
    void selectGroup();
    void showMessage(const QString &text, bool error);
    qint64 currentGroupId() const;

    ProxyRegistry &m_registry;
    GroupListModel *m_groups;
    GroupMembersModel *m_members;
    DataTable *m_groupTable;
    DataTable *m_memberTable;
    ProxyPicker *m_picker;
    QLineEdit *m_search;
    QLabel *m_groupTitle;
    QLabel *m_message;
    bool m_loadErrorShown = false; // the message is a load error, cleared by the next load
    QPushButton *m_addMembers;
    QPushButton *m_removeMembers;
    QPushButton *m_import;
    QPushButton *m_export;
};

} // namespace greygate
