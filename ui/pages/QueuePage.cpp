// SPDX-License-Identifier: GPL-3.0-or-later
#include "QueuePage.h"

#include "dialogs/Confirmation.h"
#include "dialogs/ReleaseDialog.h"
#include "models/ProxyCalls.h"
#include "models/QueueModel.h"
#include "models/ReleaseRequest.h"
#include "settings/Settings.h"
#include "widgets/DataTable.h"
#include "widgets/ProxyPicker.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

namespace greygate {

namespace {

QLineEdit *filterEdit(QWidget *parent, const QString &name, const QString &placeholder)
{
    auto *edit = new QLineEdit(parent);
    edit->setObjectName(name);
    edit->setPlaceholderText(placeholder);
    edit->setClearButtonEnabled(true);
    return edit;
}

} // namespace

QueuePage::QueuePage(ProxyRegistry &registry, Settings &settings, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_model(new QueueModel(registry, this))
    , m_table(new DataTable(QStringLiteral("queue"), &settings, this))
    , m_picker(new ProxyPicker(registry, this))
    , m_state(new QComboBox(this))
    , m_sender(filterEdit(this, QStringLiteral("filter"), tr("Sender contains… (Ctrl+F)")))
    , m_recipient(filterEdit(this, QStringLiteral("recipient"), tr("Recipient contains…")))
    , m_client(filterEdit(this, QStringLiteral("client"), tr("Client IP")))
    , m_domain(filterEdit(this, QStringLiteral("domain"), tr("Domain (exact)")))
    , m_release(new QPushButton(tr("Release"), this))
    , m_releaseFor(new QPushButton(tr("Release for…"), this))
    , m_delete(new QPushButton(tr("Delete"), this))
    , m_permit(new QPushButton(tr("Add to Permitted Senders"), this))
    , m_status(new QLabel(this))
    , m_message(new QLabel(this))
{
    m_model->setPageSize(settings.value(Settings::Key::QueuePageSize).toInt());
    m_table->setSourceModel(m_model);
    // The proxy sorts (a million entries are never all here): the header asks the model,
    // the table's own proxy keeps the order it is given.
    m_table->setSortingEnabled(false);
    QHeaderView *header = m_table->horizontalHeader();
    header->setSortIndicatorShown(true);
    header->setSectionsClickable(true);
    header->setSortIndicator(QueueModel::LastSeen, Qt::DescendingOrder);
    header->setSectionResizeMode(QHeaderView::Interactive);
    connect(header, &QHeaderView::sortIndicatorChanged, m_model,
            [this](int column, Qt::SortOrder order) { m_model->sort(column, order); });
    m_table->setColumnWidth(QueueModel::Client, 130);
    m_table->setColumnWidth(QueueModel::Sender, 220);
    m_table->setColumnWidth(QueueModel::Recipient, 200);
    m_table->setColumnWidth(QueueModel::FirstSeen, 150);
    m_table->setColumnWidth(QueueModel::LastSeen, 150);

    m_state->setObjectName(QStringLiteral("state"));
    m_state->addItem(tr("Deferred and passed"), QStringLiteral("any"));
    m_state->addItem(tr("Deferred"), QStringLiteral("deferred"));
    m_state->addItem(tr("Passed"), QStringLiteral("passed"));
    m_state->setCurrentIndex(1);
    m_filterTimer.setSingleShot(true);
    m_filterTimer.setInterval(300); // one query when the admin stops typing
    connect(&m_filterTimer, &QTimer::timeout, this, &QueuePage::applyFilter);
    for (QLineEdit *edit : {m_sender, m_recipient, m_client, m_domain})
        connect(edit, &QLineEdit::textChanged, this, [this] { m_filterTimer.start(); });
    connect(m_state, &QComboBox::currentIndexChanged, this, &QueuePage::applyFilter);

    m_release->setObjectName(QStringLiteral("release"));
    m_release->setToolTip(tr("Accept the sender's next retry now, whatever the delay"));
    m_releaseFor->setObjectName(QStringLiteral("releaseFor"));
    m_releaseFor->setToolTip(tr("Let the message, its sender or its domain through for a "
                                "while, with a reason for the audit log"));
    connect(m_releaseFor, &QPushButton::clicked, this, &QueuePage::releaseForSelected);
    m_delete->setObjectName(QStringLiteral("delete"));
    m_delete->setToolTip(tr("Forget the triplet: its next attempt is greylisted afresh"));
    m_permit->setObjectName(QStringLiteral("permit"));
    m_permit->setToolTip(tr("Add the sender to Permitted Senders and remove the triplet"));
    connect(m_release, &QPushButton::clicked, this, &QueuePage::releaseSelected);
    connect(m_delete, &QPushButton::clicked, this, &QueuePage::deleteSelected);
    connect(m_permit, &QPushButton::clicked, this, &QueuePage::permitSelected);

    auto *filters = new QHBoxLayout;
    filters->addWidget(m_picker);
    filters->addWidget(m_state);
    filters->addWidget(m_sender, 2);
    filters->addWidget(m_recipient, 2);
    filters->addWidget(m_client, 1);
    filters->addWidget(m_domain, 1);
    auto *actions = new QHBoxLayout;
    actions->addWidget(m_release);
    actions->addWidget(m_releaseFor);
    actions->addWidget(m_delete);
    actions->addWidget(m_permit);
    actions->addStretch(1);
    actions->addWidget(m_status);
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);
    m_status->setObjectName(QStringLiteral("status"));

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addLayout(actions);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_message);

    connect(m_picker, &ProxyPicker::proxyChanged, this, [this](const QString &id) {
        m_model->setProxyId(id);
        updateStatus();
    });
    connect(m_model, &QueueModel::totalChanged, this, &QueuePage::updateStatus);
    connect(m_model, &QueueModel::pageLoaded, this, [this] {
        m_message->clear(); // what failed before (not connected yet) no longer holds
        updateStatus();
    });
    connect(m_model, &QueueModel::loadingChanged, this, &QueuePage::updateStatus);
    connect(m_model, &QueueModel::loadFailed, this, [this](const QString &message) {
        m_message->setText(
            tr("<span style=\"color:#b00020\">%1</span>").arg(message.toHtmlEscaped()));
    });
    connect(m_model, &QueueModel::actionDone, this, [this] {
        ++m_actionsDone;
        m_message->setText(tr("%1 done, %2 failed.").arg(m_actionsDone).arg(m_actionsFailed));
    });
    connect(m_model, &QueueModel::actionFailed, this,
            [this](const QString &action, const protocol::TripletRef &t, const QString &why) {
                ++m_actionsFailed;
                m_message->setText(
                    tr("<span style=\"color:#b00020\">%1 of %2 → %3 from %4 failed: %5</span>")
                        .arg(action, t.sender.toHtmlEscaped(), t.recipient.toHtmlEscaped(),
                             t.client.toHtmlEscaped(), why.toHtmlEscaped()));
            });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &QueuePage::updateButtons);
    connect(&m_registry, &ProxyRegistry::ready, this, [this](const QString &id) {
        if (id == m_model->proxyId())
            m_model->reload();
    });
    m_model->setProxyId(m_picker->proxyId());
    applyFilter();
    updateButtons();
}

void QueuePage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

void QueuePage::applyFilter()
{
    QueueModel::Filter f;
    f.state = m_state->currentData().toString();
    f.sender = m_sender->text().trimmed();
    f.recipient = m_recipient->text().trimmed();
    f.client = m_client->text().trimmed();
    f.domain = m_domain->text().trimmed();
    m_model->setFilter(f);
}

void QueuePage::refresh()
{
    m_model->reload();
}

void QueuePage::updateStatus()
{
    if (m_model->proxyId().isEmpty()) {
        m_status->setText(tr("No proxy: add one on the Proxies page."));
        return;
    }
    QString text = tr("%1 loaded of %2").arg(m_model->rowCount()).arg(m_model->total());
    if (m_model->isLoading())
        text += tr(" (loading…)");
    m_status->setText(text);
}

void QueuePage::updateButtons()
{
    const bool any = !m_table->selectedSourceRows().isEmpty();
    m_release->setEnabled(any);
    m_releaseFor->setEnabled(any);
    m_delete->setEnabled(any);
    m_permit->setEnabled(any);
}

void QueuePage::actOnSelection(const QString &action, const QString &consequence,
                               void (QueueModel::*act)(int))
{
    const QList<int> rows = m_table->selectedSourceRows();
    QStringList items;
    for (int row : rows) {
        const protocol::QueueEntry &e = m_model->entry(row);
        items.append(QStringLiteral("%1 → %2 from %3").arg(e.sender, e.recipient, e.client));
    }
    if (!Confirmation::ask(this, action, tr("triplet"), tr("triplets"), items, consequence))
        return;
    m_actionsDone = 0;
    m_actionsFailed = 0;
    // Each call captures its row's triplet at once: rows leaving the table while the
    // answers come in cannot shift the rest.
    for (int row : rows)
        (m_model->*act)(row);
}

void QueuePage::releaseSelected()
{
    actOnSelection(tr("Release"), tr("Each sender's next retry is accepted whatever the delay."),
                   &QueueModel::release);
}

void QueuePage::deleteSelected()
{
    actOnSelection(tr("Delete"),
                   tr("They are forgotten: no \"failed to retry\" is logged, and their next "
                      "attempt is greylisted afresh."),
                   &QueueModel::remove);
}

void QueuePage::permitSelected()
{
    actOnSelection(tr("Permit"),
                   tr("Their senders are added to Permitted Senders (never greylisted again) "
                      "and the triplets removed."),
                   &QueueModel::permit);
}

void QueuePage::releaseForSelected()
{
    const QList<int> rows = m_table->selectedSourceRows();
    if (rows.isEmpty())
        return;
    QList<protocol::QueueEntry> entries;
    for (int row : rows)
        entries.append(m_model->entry(row)); // captured now: rows may move meanwhile
    const protocol::QueueEntry &first = entries.first();
    auto *dialog = ReleaseDialog::forTriplet(first.client, first.sender, first.recipient,
                                             int(entries.size()), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this,
            [this, dialog, entries] { sendReleases(dialog->request(), entries); });
    dialog->open();
}

void QueuePage::sendReleases(const ReleaseRequest &asked,
                             const QList<protocol::QueueEntry> &entries)
{
    // Several rows of one sender (or domain) make one release.
    QList<ReleaseRequest> requests;
    QSet<QString> seen;
    for (const protocol::QueueEntry &e : entries) {
        ReleaseRequest r = asked;
        const bool triplet = r.kind == ReleaseRequest::Kind::Triplet;
        const bool domain = r.kind == ReleaseRequest::Kind::Domain;
        r.client = triplet ? e.client : QString();
        r.recipient = triplet ? e.recipient : QString();
        r.sender = domain ? QString() : e.sender;
        r.domain = domain ? e.sender.section(u'@', -1) : QString();
        const QString key =
            QString::fromUtf8(QJsonDocument(r.toParams()).toJson(QJsonDocument::Compact));
        if (!seen.contains(key)) {
            seen.insert(key);
            requests.append(r);
        }
    }
    struct Progress
    {
        qsizetype pending = 0;
        qsizetype total = 0;
        QStringList failures;
    };
    auto progress = std::make_shared<Progress>();
    progress->pending = progress->total = requests.size();
    // When every answer is in: one line for the whole selection, and the queue re-read (a
    // released triplet has left it).
    const auto finish = [this, progress] {
        const QString text =
            progress->failures.isEmpty()
                ? tr("%n release(s) made; they end by themselves and are in the audit log "
                     "(Releases page).",
                     nullptr, int(progress->total))
                : QStringLiteral("<span style=\"color:#b00020\">%1</span>")
                      .arg(tr("%n release(s) failed: %1", nullptr, int(progress->failures.size()))
                               .arg(progress->failures.join(QStringLiteral("; ")))
                               .toHtmlEscaped());
        // The reloaded page clears the message line (connected first): say it after that.
        connect(
            m_model, &QueueModel::pageLoaded, this, [this, text] { m_message->setText(text); },
            Qt::SingleShotConnection);
        m_model->reload();
    };
    for (const ReleaseRequest &r : requests) {
        if (const QString invalid = r.validate(); !invalid.isEmpty()) {
            progress->failures.append(r.describe() + QStringLiteral(": ") + invalid);
            --progress->pending;
            continue;
        }
        ProxyCalls::call(m_registry, m_model->proxyId(), QStringLiteral("release.create"),
                         r.toParams(), this,
                         [r, progress, finish](const ProxyConnection::Reply &reply) {
                             if (!reply.ok)
                                 progress->failures.append(r.describe() + QStringLiteral(": ") +
                                                           ProxyCalls::describe(reply.error));
                             if (--progress->pending == 0)
                                 finish();
                         });
    }
    if (progress->pending == 0)
        finish();
}

} // namespace greygate
