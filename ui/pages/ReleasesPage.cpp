// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReleasesPage.h"

#include "dialogs/Confirmation.h"
#include "dialogs/ReleaseDialog.h"
#include "models/ReleaseAuditModel.h"
#include "models/ReleaseListModel.h"
#include "widgets/DataTable.h"
#include "widgets/ProxyPicker.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>

namespace greygate {

ReleasesPage::ReleasesPage(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : Page(parent)
    , m_model(new ReleaseListModel(registry, this))
    , m_audit(new ReleaseAuditModel(registry, this))
    , m_table(new DataTable(QStringLiteral("releases"), &settings, this))
    , m_auditTable(new DataTable(QStringLiteral("releaseAudit"), &settings, this))
    , m_picker(new ProxyPicker(registry, this))
    , m_revoke(new QPushButton(tr("Revoke"), this))
    , m_status(new QLabel(this))
    , m_message(new QLabel(this))
{
    m_table->setObjectName(QStringLiteral("releasesTable"));
    m_auditTable->setObjectName(QStringLiteral("releaseAuditTable"));
    m_table->setSourceModel(m_model);
    m_auditTable->setSourceModel(m_audit);
    m_table->sortByColumn(ReleaseListModel::Remaining, Qt::AscendingOrder);
    m_auditTable->sortByColumn(ReleaseAuditModel::Time, Qt::DescendingOrder);
    for (DataTable *t : {m_table, m_auditTable}) {
        t->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
        t->horizontalHeader()->setStretchLastSection(true);
    }
    m_table->setColumnWidth(ReleaseListModel::Kind, 120);
    m_table->setColumnWidth(ReleaseListModel::Subject, 300);
    m_table->setColumnWidth(ReleaseListModel::Reason, 240);
    m_auditTable->setColumnWidth(ReleaseAuditModel::Time, 150);
    m_auditTable->setColumnWidth(ReleaseAuditModel::Subject, 260);
    m_auditTable->setColumnWidth(ReleaseAuditModel::Reason, 240);

    auto *release = new QPushButton(tr("Release sender or domain..."), this);
    release->setObjectName(QStringLiteral("newRelease"));
    auto *expect = new QPushButton(tr("Expect mail..."), this);
    expect->setObjectName(QStringLiteral("expectMail"));
    expect->setToolTip(tr("Let mail from someone to one recipient through for a while (a "
                          "password reset, a one-time code)"));
    m_revoke->setObjectName(QStringLiteral("revoke"));
    m_revoke->setToolTip(tr("End the selected releases now: their mail is greylisted again"));
    m_revoke->setEnabled(false);
    connect(release, &QPushButton::clicked, this, &ReleasesPage::newRelease);
    connect(expect, &QPushButton::clicked, this, &ReleasesPage::expectMail);
    connect(m_revoke, &QPushButton::clicked, this, &ReleasesPage::revokeSelected);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { m_revoke->setEnabled(!m_table->selectedSourceRows().isEmpty()); });
    m_status->setObjectName(QStringLiteral("status"));
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_picker);
    bar->addWidget(release);
    bar->addWidget(expect);
    bar->addWidget(m_revoke);
    bar->addStretch(1);
    bar->addWidget(m_status);
    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(new QLabel(tr("Active releases and expected mail, soonest end first. "
                                       "Each ends by itself."),
                                    top));
    topLayout->addWidget(m_table, 1);
    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addWidget(
        new QLabel(tr("Audit log: every release created, revoked or expired (30 days)"), bottom));
    bottomLayout->addWidget(m_auditTable, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(split, 1);
    layout->addWidget(m_message);

    connect(m_picker, &ProxyPicker::proxyChanged, this, [this](const QString &id) {
        m_model->setProxyId(id);
        m_audit->setProxyId(id);
    });
    connect(m_model, &ReleaseListModel::loaded, this, [this] {
        m_message->clear(); // an answer came: an earlier error no longer holds
        updateStatus();
    });
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &ReleasesPage::updateStatus);
    connect(m_model, &ReleaseListModel::loadFailed, this,
            [this](const QString &m) { showMessage(m, true); });
    connect(m_audit, &ReleaseAuditModel::loadFailed, this,
            [this](const QString &m) { showMessage(tr("audit log: %1").arg(m), true); });
    connect(m_model, &ReleaseListModel::changeDone, this,
            [this](const QString &m) { showMessage(m, false); });
    connect(m_model, &ReleaseListModel::changeFailed, this,
            [this](const QString &m) { showMessage(m, true); });
    m_model->setProxyId(m_picker->proxyId());
    m_audit->setProxyId(m_picker->proxyId());
    updateStatus();
}

QIcon ReleasesPage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("appointment-soon"),
                            style()->standardIcon(QStyle::SP_BrowserReload));
}

void ReleasesPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

void ReleasesPage::refresh()
{
    m_model->reload();
    m_audit->reload();
}

void ReleasesPage::newRelease()
{
    ask(new ReleaseDialog(false, this));
}

void ReleasesPage::expectMail()
{
    ask(new ReleaseDialog(true, this));
}

void ReleasesPage::ask(ReleaseDialog *dialog)
{
    if (m_dialog)
        m_dialog->deleteLater();
    m_dialog = dialog;
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this,
            [this, dialog] { m_model->create(dialog->request()); });
    connect(dialog, &QObject::destroyed, this, [this, dialog] {
        if (m_dialog == dialog)
            m_dialog = nullptr;
    });
    dialog->open();
}

void ReleasesPage::revokeSelected()
{
    const QList<int> rows = m_table->selectedSourceRows();
    if (rows.isEmpty())
        return;
    QStringList items;
    for (const int row : rows)
        items.append(m_model->rows().at(row).subject());
    if (!Confirmation::ask(this, tr("Revoke"), tr("release"), tr("releases"), items,
                           tr("Their mail is greylisted again from now on.")))
        return;
    // Highest row first: a revoked row leaves the model, the others keep their index.
    QList<int> order = rows;
    std::sort(order.begin(), order.end(), std::greater<>());
    for (const int row : order)
        m_model->revoke(row);
}

void ReleasesPage::showMessage(const QString &text, bool error)
{
    m_message->setText(
        error ? QStringLiteral("<span style=\"color:#b00020\">%1</span>").arg(text.toHtmlEscaped())
              : text.toHtmlEscaped());
}

void ReleasesPage::updateStatus()
{
    m_status->setText(tr("%n active", nullptr, m_model->rowCount()));
}

} // namespace greygate
