// SPDX-License-Identifier: GPL-3.0-or-later
#include "GroupsPage.h"

#include "dialogs/Confirmation.h"
#include "dialogs/MemberAddDialog.h"
#include "models/GroupListModel.h"
#include "models/GroupMembersModel.h"
#include "models/ProxyCalls.h"
#include "widgets/DataTable.h"
#include "widgets/ProxyPicker.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QVBoxLayout>
#include <utility>

namespace greygate {

namespace {

constexpr qint64 kMaxCsvBytes = 64 << 20; // docs/policies.md, "CSV for group members"

} // namespace

GroupsPage::GroupsPage(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_groups(new GroupListModel(registry, this))
    , m_members(new GroupMembersModel(registry, this))
    , m_groupTable(new DataTable(QStringLiteral("groups"), &settings, this))
    , m_memberTable(new DataTable(QStringLiteral("groupMembers"), &settings, this))
    , m_picker(new ProxyPicker(registry, this))
    , m_search(new QLineEdit(this))
    , m_groupTitle(new QLabel(this))
    , m_message(new QLabel(this))
    , m_addMembers(new QPushButton(QIcon(QStringLiteral(":/icons/add.png")), tr("Add…"), this))
    , m_removeMembers(new QPushButton(tr("Remove"), this))
    , m_import(new QPushButton(tr("Import CSV…"), this))
    , m_export(new QPushButton(tr("Export CSV…"), this))
{
    m_groupTable->setSourceModel(m_groups);
    m_groupTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_groupTable->sortByColumn(GroupListModel::Name, Qt::AscendingOrder);
    m_memberTable->setSourceModel(m_members);
    m_memberTable->sortByColumn(GroupMembersModel::Member, Qt::AscendingOrder);
    m_search->setObjectName(QStringLiteral("filter"));
    m_search->setPlaceholderText(tr("Search members (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, m_memberTable->proxy(),
            &QSortFilterProxyModel::setFilterFixedString);

    auto *newButton =
        new QPushButton(QIcon(QStringLiteral(":/icons/add.png")), tr("New group…"), this);
    newButton->setObjectName(QStringLiteral("newGroup"));
    auto *deleteButton = new QPushButton(tr("Delete group"), this);
    deleteButton->setObjectName(QStringLiteral("deleteGroup"));
    m_addMembers->setObjectName(QStringLiteral("addMembers"));
    m_removeMembers->setObjectName(QStringLiteral("removeMembers"));
    m_import->setObjectName(QStringLiteral("importCsv"));
    m_export->setObjectName(QStringLiteral("exportCsv"));
    connect(newButton, &QPushButton::clicked, this, &GroupsPage::newGroup);
    connect(deleteButton, &QPushButton::clicked, this, &GroupsPage::deleteGroup);
    connect(m_addMembers, &QPushButton::clicked, this, &GroupsPage::addMembers);
    connect(m_removeMembers, &QPushButton::clicked, this, &GroupsPage::removeMembers);
    connect(m_import, &QPushButton::clicked, this, &GroupsPage::importCsvFile);
    connect(m_export, &QPushButton::clicked, this, &GroupsPage::exportCsvFile);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    auto *leftBar = new QHBoxLayout;
    leftBar->addWidget(m_picker);
    leftBar->addStretch(1);
    leftBar->addWidget(newButton);
    leftBar->addWidget(deleteButton);
    leftLayout->addLayout(leftBar);
    leftLayout->addWidget(m_groupTable, 1);

    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    m_groupTitle->setObjectName(QStringLiteral("groupTitle"));
    rightLayout->addWidget(m_groupTitle);
    auto *rightBar = new QHBoxLayout;
    rightBar->addWidget(m_search, 1);
    for (QPushButton *b : {m_addMembers, m_removeMembers, m_import, m_export})
        rightBar->addWidget(b);
    rightLayout->addLayout(rightBar);
    rightLayout->addWidget(m_memberTable, 1);

    auto *split = new QSplitter(this);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    split->setSizes({520, 520});
    m_groupTable->setColumnWidth(GroupListModel::Name, 170);
    m_groupTable->setColumnWidth(GroupListModel::Kind, 130);
    m_memberTable->setColumnWidth(GroupMembersModel::Member, 300);
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split, 1);
    layout->addWidget(m_message);

    connect(m_picker, &ProxyPicker::proxyChanged, m_groups, &GroupListModel::setProxyId);
    connect(m_groupTable->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &GroupsPage::selectGroup);
    // The first group is chosen when the list arrives and nothing is chosen yet.
    connect(m_groups, &GroupListModel::loaded, this, [this] {
        if (m_groupTable->selectedSourceRows().isEmpty() && m_groupTable->model()->rowCount() > 0)
            m_groupTable->selectRow(0);
    });
    // A reload (after an import, or another console's change) must not wipe what the user
    // was just told, such as why an import was refused: only a load error goes with a load.
    connect(m_groups, &GroupListModel::loaded, this, [this] {
        if (std::exchange(m_loadErrorShown, false))
            m_message->clear();
    });
    connect(m_groups, &GroupListModel::loadFailed, this, [this](const QString &m) {
        showMessage(m, true);
        m_loadErrorShown = true;
    });
    connect(m_groups, &GroupListModel::changeFailed, this,
            [this](const QString &, qint64, const QString &m) { showMessage(m, true); });
    connect(m_groups, &GroupListModel::conflict, this,
            [this](qint64, const QString &m) { showMessage(m, true); });
    connect(m_members, &GroupMembersModel::loaded, this, [this] {
        m_groupTitle->setText(tr("<b>%1</b>: %2 members (version %3)")
                                  .arg(m_members->groupName().toHtmlEscaped())
                                  .arg(m_members->rowCount())
                                  .arg(m_members->version()));
    });
    connect(m_members, &GroupMembersModel::changeFailed, this,
            [this](const QString &, const QString &m) { showMessage(m, true); });
    connect(m_members, &GroupMembersModel::conflict, this, [this](const QString &m) {
        showMessage(tr("The group changed meanwhile and was reloaded; apply again. %1").arg(m),
                    true);
    });
    connect(m_members, &GroupMembersModel::changeDone, this,
            [this] { showMessage(tr("Saved."), false); });
    m_groups->setProxyId(m_picker->proxyId());
    m_groupTitle->setText(tr("Choose a group."));
}

void GroupsPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

void GroupsPage::showMessage(const QString &text, bool error)
{
    m_loadErrorShown = false;
    m_message->setText(
        error ? QStringLiteral("<span style=\"color:#b00020\">%1</span>").arg(text.toHtmlEscaped())
              : text.toHtmlEscaped());
}

qint64 GroupsPage::currentGroupId() const
{
    const QList<int> rows = m_groupTable->selectedSourceRows();
    return rows.isEmpty() ? 0 : m_groups->groupId(rows.first());
}

void GroupsPage::selectGroup()
{
    const qint64 id = currentGroupId();
    m_members->setGroup(m_picker->proxyId(), id);
    for (QPushButton *b : {m_addMembers, m_removeMembers, m_import, m_export})
        b->setEnabled(id != 0);
    if (id == 0)
        m_groupTitle->setText(tr("Choose a group."));
}

void GroupsPage::refresh()
{
    m_groups->reload();
    m_members->reload();
}

void GroupsPage::newGroup()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("New sender group"));
    auto *name = new QLineEdit(&dialog);
    auto *kind = new QComboBox(&dialog);
    kind->addItem(tr("Custom (usable in policies)"), QStringLiteral("custom"));
    kind->addItem(tr("Permitted Senders (never greylisted)"), QStringLiteral("permitted"));
    kind->addItem(tr("Blocked Senders (rejected)"), QStringLiteral("blocked"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    auto *form = new QFormLayout(&dialog);
    form->addRow(tr("Name"), name);
    form->addRow(tr("Kind"), kind);
    form->addRow(buttons);
    buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    connect(name, &QLineEdit::textChanged, &dialog, [buttons](const QString &t) {
        buttons->button(QDialogButtonBox::Ok)
            ->setEnabled(!t.trimmed().isEmpty() && t.size() <= 200);
    });
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() == QDialog::Accepted)
        m_groups->create(name->text().trimmed(), kind->currentData().toString());
}

void GroupsPage::deleteGroup()
{
    const QList<int> rows = m_groupTable->selectedSourceRows();
    if (rows.isEmpty())
        return;
    const QModelIndex index = m_groups->index(rows.first(), GroupListModel::Name);
    const qint64 id = index.data(GroupListModel::IdRole).toLongLong();
    const qint64 version = index.data(GroupListModel::VersionRole).toLongLong();
    if (!Confirmation::ask(this, tr("Delete"), tr("group"), tr("groups"), {index.data().toString()},
                           tr("Its members go with it. A group a policy uses cannot be "
                              "deleted: change the policy first.")))
        return;
    m_groups->remove(id, version);
}

void GroupsPage::addMembers()
{
    if (currentGroupId() == 0)
        return;
    MemberAddDialog dialog(m_members->groupName(), this);
    if (dialog.exec() == QDialog::Accepted)
        m_members->add(dialog.members());
}

void GroupsPage::removeMembers()
{
    QStringList members;
    const QList<int> rows = m_memberTable->selectedSourceRows();
    for (int row : rows)
        members.append(m_members->rows().at(row).member);
    if (!Confirmation::ask(this, tr("Remove"), tr("member"), tr("members"), members,
                           tr("They are matched by this group no longer.")))
        return;
    m_members->remove(members);
}

void GroupsPage::importCsv(const QByteArray &csv, bool replace)
{
    const qint64 id = currentGroupId();
    if (id == 0 || m_members->version() < 0)
        return;
    showMessage(tr("Importing…"), false);
    const QJsonObject params{{QStringLiteral("id"), id},
                             {QStringLiteral("version"), m_members->version()},
                             {QStringLiteral("csv"), QString::fromUtf8(csv)},
                             {QStringLiteral("replace"), replace}};
    ProxyCalls::call(m_registry, m_picker->proxyId(), QStringLiteral("group.import"), params, this,
                     [this](const ProxyConnection::Reply &reply) {
                         if (!reply.ok) {
                             showMessage(tr("Import refused, nothing changed: %1")
                                             .arg(ProxyCalls::describe(reply.error)),
                                         true);
                             return;
                         }
                         m_members->reload();
                         m_groups->reload();
                         showMessage(
                             tr("Imported (version %1).")
                                 .arg(reply.result.toObject().value(u"version").toInteger()),
                             false);
                     });
}

void GroupsPage::importCsvFile()
{
    if (currentGroupId() == 0)
        return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Import members"), QString(),
                                                      tr("CSV files (*.csv *.txt)"));
    if (path.isEmpty())
        return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() > kMaxCsvBytes) {
        showMessage(file.size() > kMaxCsvBytes
                        ? tr("%1 is larger than 64 MiB, the CSV limit.").arg(path)
                        : tr("Could not read %1: %2").arg(path, file.errorString()),
                    true);
        return;
    }
    QMessageBox ask(QMessageBox::Question, tr("Import members"),
                    tr("Add the file's members to \"%1\", or replace its whole membership with "
                       "them?")
                        .arg(m_members->groupName()),
                    QMessageBox::Cancel, this);
    QPushButton *add = ask.addButton(tr("Add"), QMessageBox::AcceptRole);
    QPushButton *replace = ask.addButton(tr("Replace"), QMessageBox::DestructiveRole);
    ask.exec();
    if (ask.clickedButton() != add && ask.clickedButton() != replace)
        return;
    importCsv(file.readAll(), ask.clickedButton() == replace);
}

void GroupsPage::exportCsvFile()
{
    const qint64 id = currentGroupId();
    if (id == 0)
        return;
    ProxyCalls::call(
        m_registry, m_picker->proxyId(), QStringLiteral("group.export"),
        QJsonObject{{QStringLiteral("id"), id}}, this, [this](const ProxyConnection::Reply &reply) {
            if (!reply.ok) {
                showMessage(ProxyCalls::describe(reply.error), true);
                return;
            }
            const QJsonObject r = reply.result.toObject();
            const QString path = QFileDialog::getSaveFileName(
                this, tr("Export members"), r.value(u"name").toString() + QStringLiteral(".csv"),
                tr("CSV files (*.csv)"));
            if (path.isEmpty())
                return;
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) ||
                file.write(r.value(u"csv").toString().toUtf8()) < 0 || !file.commit()) {
                showMessage(tr("Could not write %1: %2").arg(path, file.errorString()), true);
                return;
            }
            showMessage(
                tr("Exported %1 members to %2.").arg(r.value(u"members").toInteger()).arg(path),
                false);
        });
}

} // namespace greygate
