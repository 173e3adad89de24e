// SPDX-License-Identifier: GPL-3.0-or-later
#include "PoliciesPage.h"

#include "PolicyHistoryView.h"
#include "dialogs/Confirmation.h"
#include "dialogs/PolicyDialog.h"
#include "dialogs/ReplayDialog.h"
#include "models/PolicyTableModel.h"
#include "models/ProxyCalls.h"
#include "widgets/DataTable.h"
#include "widgets/ExplanationView.h"
#include "widgets/ProxyPicker.h"

#include <QDialog>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QVBoxLayout>

namespace greygate {

namespace {

constexpr qint64 kMaxDocumentBytes = 64 << 20; // docs/policies.md's limit

} // namespace

PoliciesPage::PoliciesPage(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_model(new PolicyTableModel(registry, this))
    , m_table(new DataTable(QStringLiteral("policies"), &settings, this))
    , m_picker(new ProxyPicker(registry, this))
    , m_filter(new QLineEdit(this))
    , m_message(new QLabel(this))
    , m_client(new QLineEdit(this))
    , m_sender(new QLineEdit(this))
    , m_recipient(new QLineEdit(this))
    , m_headerFrom(new QLineEdit(this))
    , m_explanation(new ExplanationView(this))
{
    m_table->setSourceModel(m_model);
    m_table->sortByColumn(PolicyTableModel::Order, Qt::AscendingOrder);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->setColumnWidth(PolicyTableModel::Narrative, 200);
    m_table->setColumnWidth(PolicyTableModel::From, 180);
    m_table->setColumnWidth(PolicyTableModel::To, 160);
    m_filter->setObjectName(QStringLiteral("filter"));
    m_filter->setPlaceholderText(tr("Filter policies (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_table->proxy(),
            &QSortFilterProxyModel::setFilterFixedString);

    auto *add = new QPushButton(QIcon(QStringLiteral(":/icons/add.png")), tr("Add…"), this);
    add->setObjectName(QStringLiteral("addPolicy"));
    auto *edit = new QPushButton(tr("Edit…"), this);
    edit->setObjectName(QStringLiteral("editPolicy"));
    auto *remove = new QPushButton(tr("Delete"), this);
    remove->setObjectName(QStringLiteral("deletePolicy"));
    auto *exportButton = new QPushButton(tr("Export JSON…"), this);
    auto *importButton = new QPushButton(tr("Import JSON…"), this);
    auto *history = new QPushButton(tr("History…"), this);
    history->setObjectName(QStringLiteral("history"));
    history->setToolTip(tr("Every version of the policy table: diff, rollback, other proxies"));
    connect(history, &QPushButton::clicked, this, [this] { openHistory()->window()->show(); });
    connect(add, &QPushButton::clicked, this, &PoliciesPage::addPolicy);
    connect(edit, &QPushButton::clicked, this, &PoliciesPage::editSelected);
    connect(remove, &QPushButton::clicked, this, &PoliciesPage::deleteSelected);
    connect(exportButton, &QPushButton::clicked, this, &PoliciesPage::exportJson);
    connect(importButton, &QPushButton::clicked, this, &PoliciesPage::importJson);
    connect(m_table, &QAbstractItemView::doubleClicked, this, &PoliciesPage::editSelected);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_picker);
    bar->addWidget(m_filter, 1);
    for (QPushButton *b : {add, edit, remove, exportButton, importButton, history})
        bar->addWidget(b);

    // Test a triplet.
    auto *test = new QGroupBox(tr("Test a triplet: which policy wins, and why"), this);
    m_client->setObjectName(QStringLiteral("testClient"));
    m_client->setPlaceholderText(tr("192.0.2.7"));
    m_sender->setObjectName(QStringLiteral("testSender"));
    m_sender->setPlaceholderText(tr("sender@partner.example"));
    m_recipient->setObjectName(QStringLiteral("testRecipient"));
    m_recipient->setPlaceholderText(tr("user@corp.example"));
    m_headerFrom->setObjectName(QStringLiteral("testHeaderFrom"));
    m_headerFrom->setPlaceholderText(tr("optional: the From: header"));
    auto *explainButton = new QPushButton(tr("Explain"), test);
    explainButton->setObjectName(QStringLiteral("explain"));
    auto run = [this] {
        explain(m_client->text().trimmed(), m_sender->text().trimmed(),
                m_recipient->text().trimmed(), m_headerFrom->text().trimmed());
    };
    connect(explainButton, &QPushButton::clicked, this, run);
    for (QLineEdit *e : {m_client, m_sender, m_recipient, m_headerFrom})
        connect(e, &QLineEdit::returnPressed, this, run);
    auto *form = new QFormLayout;
    form->addRow(tr("Client IP"), m_client);
    form->addRow(tr("Sender"), m_sender);
    form->addRow(tr("Recipient"), m_recipient);
    form->addRow(tr("Header From"), m_headerFrom);
    form->addRow(QString(), explainButton);
    auto *testLayout = new QHBoxLayout(test);
    testLayout->addLayout(form);
    testLayout->addWidget(m_explanation, 1);
    m_explanation->setMessage(tr("Enter a client, a sender and a recipient, then Explain."));

    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(test);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_message);
    layout->addWidget(split, 1);

    connect(m_picker, &ProxyPicker::proxyChanged, m_model, &PolicyTableModel::setProxyId);
    connect(m_model, &PolicyTableModel::loadFailed, this,
            [this](const QString &message) { showMessage(message, true); });
    connect(m_model, &PolicyTableModel::loaded, this, [this] { m_message->clear(); });
    connect(m_model, &PolicyTableModel::changeFailed, this,
            [this](const QString &, qint64 id, const QString &message) {
                showMessage(tr("Policy %1: %2").arg(id).arg(message), true);
            });
    connect(m_model, &PolicyTableModel::conflict, this, [this](qint64 id, const QString &message) {
        showMessage(
            tr("Policy %1 changed meanwhile; the table shows it now. %2").arg(id).arg(message),
            true);
    });
    m_model->setProxyId(m_picker->proxyId());
}

void PoliciesPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

QString PoliciesPage::proxyId() const
{
    return m_picker->proxyId();
}

void PoliciesPage::showMessage(const QString &text, bool error)
{
    m_message->setText(
        error ? QStringLiteral("<span style=\"color:#b00020\">%1</span>").arg(text.toHtmlEscaped())
              : text.toHtmlEscaped());
}

void PoliciesPage::prepareScreenshot()
{
    const QJsonObject params{{QStringLiteral("state"), QStringLiteral("deferred")},
                             {QStringLiteral("limit"), 1}};
    ProxyCalls::call(m_registry, proxyId(), QStringLiteral("queue.list"), params, this,
                     [this](const ProxyConnection::Reply &reply) {
                         const QJsonObject e =
                             reply.result.toObject().value(u"entries").toArray().first().toObject();
                         QString client = e.value(u"client").toString().section(u'/', 0, 0);
                         if (client.isEmpty())
                             client = QStringLiteral("192.0.2.7");
                         m_client->setText(client);
                         m_sender->setText(
                             e.value(u"sender").toString(QStringLiteral("news@partner.example")));
                         m_recipient->setText(
                             e.value(u"recipient").toString(QStringLiteral("alice@corp.example")));
                         explain(m_client->text(), m_sender->text(), m_recipient->text());
                     });
}

void PoliciesPage::refresh()
{
    m_model->reload();
}

PolicyDialog *PoliciesPage::openDialog(const QJsonObject &policy)
{
    auto *dialog = new PolicyDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!policy.isEmpty())
        dialog->setPolicy(policy);
    connect(dialog, &PolicyDialog::submitRequested, this,
            [this, dialog](const QJsonObject &p) { submit(dialog, p); });
    connect(dialog, &PolicyDialog::replayRequested, this,
            [this](const QJsonObject &p) { openReplay(p)->show(); });
    // The groups a "group" specifier may name, from the same proxy.
    QPointer<PolicyDialog> guard(dialog);
    ProxyCalls::call(m_registry, proxyId(), QStringLiteral("group.list"), {}, dialog,
                     [guard](const ProxyConnection::Reply &reply) {
                         if (!guard || !reply.ok)
                             return;
                         QStringList names;
                         const QJsonArray groups =
                             reply.result.toObject().value(u"groups").toArray();
                         for (const QJsonValue &g : groups)
                             names.append(g.toObject().value(u"name").toString());
                         guard->setGroupNames(names);
                     });
    m_dialog = dialog;
    return dialog;
}

ReplayDialog *PoliciesPage::openReplay(const QJsonObject &policy)
{
    QJsonArray policies;
    for (int row = 0; row < m_model->rowCount(); ++row)
        policies.append(m_model->policyJson(row));
    auto *dialog = new ReplayDialog(m_registry, proxyId(),
                                    ReplayDialog::candidateWith(policies, policy), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->replay();
    return dialog;
}

PolicyHistoryView *PoliciesPage::openHistory()
{
    auto *window = new QDialog(this);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->setWindowTitle(tr("Policy history"));
    auto *view = new PolicyHistoryView(m_registry, window);
    auto *layout = new QVBoxLayout(window);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(view);
    window->resize(1000, 600);
    view->setProxyId(proxyId());
    return view;
}

void PoliciesPage::submit(PolicyDialog *dialog, const QJsonObject &policy)
{
    const bool create = !policy.contains(u"id");
    const QString method =
        create ? QStringLiteral("policy.create") : QStringLiteral("policy.update");
    QPointer<PolicyDialog> guard(dialog);
    const qint64 id = policy.value(u"id").toInteger();
    ProxyCalls::call(
        m_registry, proxyId(), method, QJsonObject{{QStringLiteral("policy"), policy}}, this,
        [this, guard, id](const ProxyConnection::Reply &reply) {
            if (reply.ok) {
                m_model->reload();
                showMessage(tr("Policy %1 saved (version %2).")
                                .arg(reply.result.toObject().value(u"id").toInteger())
                                .arg(reply.result.toObject().value(u"version").toInteger()),
                            false);
                if (guard)
                    guard->submitSucceeded();
                return;
            }
            if (!guard)
                return;
            if (reply.error.code == protocol::ErrorCode::StaleVersion) {
                // Fetch what is there now; the dialog keeps the admin's edits and shows both.
                ProxyCalls::call(
                    m_registry, proxyId(), QStringLiteral("policy.get"),
                    QJsonObject{{QStringLiteral("id"), id}}, guard,
                    [guard, error = reply.error](const ProxyConnection::Reply &latest) {
                        if (!guard)
                            return;
                        if (latest.ok)
                            guard->showConflict(latest.result.toObject());
                        else
                            guard->showServerError(error);
                    });
                m_model->reload();
                return;
            }
            guard->showServerError(reply.error);
        });
}

void PoliciesPage::addPolicy()
{
    if (proxyId().isEmpty()) {
        showMessage(tr("No proxy to add a policy to: add one on the Proxies page."), true);
        return;
    }
    openDialog({})->open();
}

void PoliciesPage::editSelected()
{
    const QList<int> rows = m_table->selectedSourceRows();
    if (rows.size() != 1)
        return;
    openDialog(m_model->policyJson(rows.first()))->open();
}

void PoliciesPage::deleteSelected()
{
    const QList<int> rows = m_table->selectedSourceRows();
    QStringList items;
    QList<std::pair<qint64, qint64>> targets;
    for (int row : rows) {
        const QJsonObject p = m_model->policyJson(row);
        const qint64 id = p.value(u"id").toInteger();
        targets.append({id, p.value(u"version").toInteger()});
        items.append(tr("policy %1 \"%2\"").arg(id).arg(p.value(u"narrative").toString()));
    }
    if (!Confirmation::ask(this, tr("Delete"), tr("policy"), tr("policies"), items,
                           tr("Mail they matched falls to the next policy or the default. A "
                              "deleted policy can be restored from the audit log.")))
        return;
    for (const auto &[id, version] : targets)
        m_model->remove(id, version);
}

void PoliciesPage::explain(const QString &client, const QString &sender, const QString &recipient,
                           const QString &headerFrom)
{
    if (client.isEmpty() || recipient.isEmpty()) {
        m_explanation->setMessage(tr("Enter at least the client IP and the recipient (the "
                                     "sender may be empty: the null sender <>)."),
                                  true);
        return;
    }
    QJsonObject params{{QStringLiteral("client"), client},
                       {QStringLiteral("sender"), sender},
                       {QStringLiteral("recipient"), recipient}};
    if (!headerFrom.isEmpty())
        params.insert(QStringLiteral("headerFrom"), headerFrom);
    m_explanation->setMessage(tr("Asking the proxy…"));
    ProxyCalls::call(m_registry, proxyId(), QStringLiteral("policy.explain"), params, this,
                     [this](const ProxyConnection::Reply &reply) {
                         if (reply.ok)
                             m_explanation->setExplanation(reply.result.toObject());
                         else
                             m_explanation->setMessage(ProxyCalls::describe(reply.error), true);
                     });
}

void PoliciesPage::exportJson()
{
    ProxyCalls::call(
        m_registry, proxyId(), QStringLiteral("policy.export"), {}, this,
        [this](const ProxyConnection::Reply &reply) {
            if (!reply.ok) {
                showMessage(ProxyCalls::describe(reply.error), true);
                return;
            }
            const QString path = QFileDialog::getSaveFileName(
                this, tr("Export policies"), QStringLiteral("greygate-policies.json"),
                tr("JSON documents (*.json)"));
            if (path.isEmpty())
                return;
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) ||
                file.write(QJsonDocument(reply.result.toObject()).toJson()) < 0 || !file.commit()) {
                showMessage(tr("Could not write %1: %2").arg(path, file.errorString()), true);
                return;
            }
            showMessage(tr("Exported to %1.").arg(path), false);
        });
}

void PoliciesPage::importJson()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Import policies"), QString(),
                                                      tr("JSON documents (*.json)"));
    if (path.isEmpty())
        return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        showMessage(tr("Could not read %1: %2").arg(path, file.errorString()), true);
        return;
    }
    if (file.size() > kMaxDocumentBytes) {
        showMessage(tr("%1 is larger than 64 MiB, the limit of a policy document.").arg(path),
                    true);
        return;
    }
    if (!Confirmation::ask(this, tr("Import"), tr("document"), tr("documents"), {path},
                           tr("Policies and groups missing from the document are deleted on "
                              "the proxy; the document is applied whole or not at all.")))
        return;
    importDocument(file.readAll());
}

void PoliciesPage::importDocument(const QByteArray &bytes)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &error);
    if (!doc.isObject()) {
        showMessage(
            tr("Not a policy document: %1 at byte %2.").arg(error.errorString()).arg(error.offset),
            true);
        return;
    }
    ProxyCalls::call(m_registry, proxyId(), QStringLiteral("policy.import"),
                     QJsonObject{{QStringLiteral("document"), doc.object()}}, this,
                     [this](const ProxyConnection::Reply &reply) {
                         if (!reply.ok) {
                             showMessage(tr("Import refused, nothing changed: %1")
                                             .arg(ProxyCalls::describe(reply.error)),
                                         true);
                             return;
                         }
                         m_model->reload();
                         showMessage(
                             tr("Imported: %1 objects changed.")
                                 .arg(reply.result.toObject().value(u"changes").toInteger()),
                             false);
                     });
}

} // namespace greygate
