// SPDX-License-Identifier: GPL-3.0-or-later
#include "AutoAllowPage.h"

#include "dialogs/Confirmation.h"
#include "dialogs/PolicyFieldValidator.h"
#include "models/AutoAllowModel.h"
#include "widgets/DataTable.h"
#include "widgets/ProxyPicker.h"

#include <QDateTimeEdit>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace greygate {

AutoAllowPage::AutoAllowPage(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : Page(parent)
    , m_model(new AutoAllowModel(registry, this))
    , m_table(new DataTable(QStringLiteral("autoAllow"), &settings, this))
    , m_picker(new ProxyPicker(registry, this))
    , m_search(new QLineEdit(this))
    , m_status(new QLabel(this))
    , m_message(new QLabel(this))
{
    m_table->setSourceModel(m_model);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->setColumnWidth(AutoAllowModel::External, 260);
    m_table->setColumnWidth(AutoAllowModel::Internal, 240);
    m_table->setColumnWidth(AutoAllowModel::CreatedAt, 180);
    m_search->setObjectName(QStringLiteral("filter"));
    m_search->setPlaceholderText(tr("Search either address (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    m_searchTimer.setSingleShot(true);
    m_searchTimer.setInterval(300);
    connect(m_search, &QLineEdit::textChanged, this, [this] { m_searchTimer.start(); });
    connect(&m_searchTimer, &QTimer::timeout, this,
            [this] { m_model->setFilter(m_search->text().trimmed()); });

    auto *add = new QPushButton(QIcon(QStringLiteral(":/icons/add.png")), tr("Add…"), this);
    add->setObjectName(QStringLiteral("addEntry"));
    auto *remove = new QPushButton(tr("Remove"), this);
    remove->setObjectName(QStringLiteral("removeEntries"));
    connect(add, &QPushButton::clicked, this, &AutoAllowPage::addEntry);
    connect(remove, &QPushButton::clicked, this, &AutoAllowPage::removeSelected);
    m_status->setObjectName(QStringLiteral("status"));
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_picker);
    bar->addWidget(m_search, 1);
    bar->addWidget(add);
    bar->addWidget(remove);
    bar->addWidget(m_status);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_message);

    connect(m_picker, &ProxyPicker::proxyChanged, m_model, &AutoAllowModel::setProxyId);
    connect(m_model, &AutoAllowModel::totalChanged, this, [this] {
        m_message->clear(); // an answer came: an earlier "not connected" no longer holds
        updateStatus();
    });
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &AutoAllowPage::updateStatus);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &AutoAllowPage::updateStatus);
    connect(m_model, &AutoAllowModel::loadFailed, this,
            [this](const QString &m) { showMessage(m, true); });
    connect(m_model, &AutoAllowModel::changeFailed, this,
            [this](const QString &action, const QString &external, const QString &internal,
                   const QString &why) {
                showMessage(tr("%1 %2 → %3 failed: %4").arg(action, external, internal, why), true);
            });
    connect(m_model, &AutoAllowModel::changeDone, this,
            [this] { showMessage(tr("Saved."), false); });
    m_model->setProxyId(m_picker->proxyId());
    updateStatus();
}

void AutoAllowPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

void AutoAllowPage::showMessage(const QString &text, bool error)
{
    m_message->setText(
        error ? QStringLiteral("<span style=\"color:#b00020\">%1</span>").arg(text.toHtmlEscaped())
              : text.toHtmlEscaped());
}

void AutoAllowPage::updateStatus()
{
    m_status->setText(tr("%1 loaded of %2").arg(m_model->rowCount()).arg(m_model->total()));
}

void AutoAllowPage::refresh()
{
    m_model->reload();
}

void AutoAllowPage::addEntry()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Add an Auto Allow pair"));
    auto *external = new QLineEdit(&dialog);
    external->setPlaceholderText(tr("correspondent@partner.example"));
    auto *internal = new QLineEdit(&dialog);
    internal->setPlaceholderText(tr("user@corp.example, or * for every internal user"));
    auto *expires = new QDateTimeEdit(QDateTime::currentDateTimeUtc().addDays(60), &dialog);
    expires->setTimeSpec(Qt::UTC);
    expires->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
    expires->setCalendarPopup(true);
    auto *error = new QLabel(&dialog);
    error->setStyleSheet(QStringLiteral("color: #b00020"));
    error->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    auto *form = new QFormLayout(&dialog);
    form->addRow(tr("Mail from"), external);
    form->addRow(tr("to"), internal);
    form->addRow(tr("expires"), expires);
    form->addRow(error);
    form->addRow(buttons);
    auto validate = [=] {
        QString e = PolicyFieldValidator::addressError(external->text().trimmed());
        if (e.isEmpty() && internal->text().trimmed() != u"*")
            e = PolicyFieldValidator::addressError(internal->text().trimmed());
        if (e.isEmpty() && expires->dateTime() <= QDateTime::currentDateTimeUtc())
            e = tr("the expiry must be in the future");
        error->setText(e);
        buttons->button(QDialogButtonBox::Ok)->setEnabled(e.isEmpty());
    };
    connect(external, &QLineEdit::textChanged, &dialog, validate);
    connect(internal, &QLineEdit::textChanged, &dialog, validate);
    connect(expires, &QDateTimeEdit::dateTimeChanged, &dialog, validate);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    validate();
    if (dialog.exec() == QDialog::Accepted)
        m_model->add(external->text().trimmed(), internal->text().trimmed(),
                     expires->dateTime().toSecsSinceEpoch());
}

void AutoAllowPage::removeSelected()
{
    const QList<int> rows = m_table->selectedSourceRows();
    QStringList items;
    for (int row : rows) {
        const AutoAllowRow &r = m_model->rows().at(row);
        items.append(QStringLiteral("%1 → %2").arg(r.external, r.internal));
    }
    if (!Confirmation::ask(this, tr("Remove"), tr("pair"), tr("pairs"), items,
                           tr("Their mail is greylisted again, until learned anew from "
                              "outbound mail.")))
        return;
    // Highest row first: each removal is applied at once and would shift the rows below.
    for (auto it = rows.crbegin(); it != rows.crend(); ++it)
        m_model->remove(*it);
}

} // namespace greygate
