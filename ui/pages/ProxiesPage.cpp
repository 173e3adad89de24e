// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxiesPage.h"

#include "dialogs/Confirmation.h"
#include "dialogs/ProxyDialog.h"
#include "models/ProxyListModel.h"
#include "settings/ProxyBook.h"
#include "widgets/DataTable.h"
#include "widgets/EngineControl.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QVBoxLayout>

namespace greygate {

ProxiesPage::ProxiesPage(ProxyRegistry &registry, Settings &settings, ProxyBook *book,
                         EngineControl *engine, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_book(book)
    , m_engine(engine)
    , m_model(new ProxyListModel(registry, this))
    , m_table(new DataTable(QStringLiteral("proxies"), &settings, this))
    , m_edit(new QPushButton(tr("Edit…"), this))
    , m_remove(new QPushButton(tr("Remove"), this))
    , m_connect(new QPushButton(tr("Connect"), this))
    , m_disconnect(new QPushButton(tr("Disconnect"), this))
    , m_details(new QLabel(this))
    , m_engineState(new QLabel(this))
    , m_engineStart(new QPushButton(tr("Start"), this))
    , m_engineStop(new QPushButton(tr("Stop"), this))
{
    m_table->setSourceModel(m_model);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->setColumnWidth(ProxyListModel::Name, 180);
    m_table->setColumnWidth(ProxyListModel::Url, 200);
    m_table->setColumnWidth(ProxyListModel::State, 120);
    auto *add = new QPushButton(QIcon(QStringLiteral(":/icons/add.png")), tr("Add…"), this);
    add->setObjectName(QStringLiteral("addProxy"));
    m_edit->setObjectName(QStringLiteral("editProxy"));
    m_remove->setObjectName(QStringLiteral("removeProxy"));
    m_connect->setObjectName(QStringLiteral("connectProxy"));
    m_disconnect->setObjectName(QStringLiteral("disconnectProxy"));
    connect(add, &QPushButton::clicked, this, &ProxiesPage::addWithDialog);
    connect(m_edit, &QPushButton::clicked, this, &ProxiesPage::editSelected);
    connect(m_remove, &QPushButton::clicked, this, &ProxiesPage::removeSelected);
    connect(m_connect, &QPushButton::clicked, this, &ProxiesPage::connectSelected);
    connect(m_disconnect, &QPushButton::clicked, this, &ProxiesPage::disconnectSelected);
    connect(m_table, &QAbstractItemView::doubleClicked, this, &ProxiesPage::editSelected);

    auto *buttons = new QHBoxLayout;
    for (QPushButton *b : {add, m_edit, m_remove, m_connect, m_disconnect})
        buttons->addWidget(b);
    buttons->addStretch(1);

    m_details->setObjectName(QStringLiteral("details"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *engineBox = new QGroupBox(tr("Bundled engine (on this computer)"), this);
    m_engineState->setObjectName(QStringLiteral("engineState"));
    m_engineState->setWordWrap(true);
    m_engineState->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_engineStart->setObjectName(QStringLiteral("engineStart"));
    m_engineStop->setObjectName(QStringLiteral("engineStop"));
    auto *engineLayout = new QHBoxLayout(engineBox);
    engineLayout->addWidget(m_engineState, 1);
    engineLayout->addWidget(m_engineStart);
    engineLayout->addWidget(m_engineStop);
    if (m_engine) {
        connect(m_engineStart, &QPushButton::clicked, m_engine, &EngineControl::start);
        connect(m_engineStop, &QPushButton::clicked, m_engine, &EngineControl::stop);
        connect(m_engine, &EngineControl::stateChanged, this, &ProxiesPage::updateEngine);
    }

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_details);
    layout->addWidget(engineBox);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateButtons();
        updateDetails();
    });
    connect(&m_registry, &ProxyRegistry::stateChanged, this, [this] {
        updateButtons();
        updateDetails();
    });
    connect(&m_registry, &ProxyRegistry::proxyUpdated, this, &ProxiesPage::updateDetails);
    updateButtons();
    updateEngine();
    updateDetails();
}

QStringList ProxiesPage::selectedIds() const
{
    QStringList ids;
    const QList<int> rows = m_table->selectedSourceRows();
    for (int row : rows)
        ids.append(m_model->proxyId(row));
    return ids;
}

void ProxiesPage::updateButtons()
{
    const QStringList ids = selectedIds();
    bool anyOpen = false;
    bool anyClosed = false;
    bool anyRemote = false;
    for (const QString &id : ids) {
        const ProxyConnection *c = m_registry.connection(id);
        const ProxyEndpoint *e = m_registry.endpoint(id);
        if (!c || !e)
            continue;
        anyRemote |= !e->local;
        const bool closed = c->state() == ProxyConnection::State::Disconnected ||
                            c->state() == ProxyConnection::State::Refused;
        anyClosed |= closed;
        anyOpen |= !closed;
    }
    m_edit->setEnabled(ids.size() == 1 && anyRemote);
    m_remove->setEnabled(anyRemote);
    m_connect->setEnabled(anyClosed);
    m_disconnect->setEnabled(anyOpen);
}

void ProxiesPage::updateDetails()
{
    const QStringList ids = selectedIds();
    if (ids.size() != 1) {
        m_details->setText(tr("Select a proxy to see its certificate pin and last error."));
        return;
    }
    const ProxyEndpoint *e = m_registry.endpoint(ids.first());
    const ProxyConnection *c = m_registry.connection(ids.first());
    if (!e || !c)
        return;
    QString text = tr("<b>%1</b> — %2").arg(e->name.toHtmlEscaped(), e->url.toString());
    if (e->local)
        text += tr("<br>The bundled engine: loopback only, no certificate.");
    else if (e->url.scheme() == QLatin1String("wss"))
        text += e->pinnedSha256.isEmpty()
                    ? tr("<br>Certificate: not pinned yet (pinned on first contact).")
                    : tr("<br>Certificate SHA-256 (pinned): <tt>%1</tt>")
                          .arg(QString::fromLatin1(e->pinnedSha256));
    else
        text += tr("<br>Plain WebSocket on loopback: no certificate.");
    if (m_book && !m_book->tokenFile(e->id).isEmpty())
        text += tr("<br>Token read from %1").arg(m_book->tokenFile(e->id).toHtmlEscaped());
    if (!c->lastError().isEmpty())
        text +=
            tr("<br><span style=\"color:#b00020\">%1</span>").arg(c->lastError().toHtmlEscaped());
    m_details->setText(text);
}

void ProxiesPage::updateEngine()
{
    if (!m_engine) {
        m_engineState->setText(tr("Not bundled in this run (--no-local-engine)."));
        m_engineStart->setEnabled(false);
        m_engineStop->setEnabled(false);
        return;
    }
    const EngineControl::State s = m_engine->state();
    QString text = tr("State: <b>%1</b>. Database: %2.")
                       .arg(EngineControl::stateName(s), m_engine->dbDir().toHtmlEscaped());
    if (s == EngineControl::State::Running)
        text +=
            tr(" Postfix: <tt>check_policy_service inet:%1</tt>").arg(m_engine->policyAddress());
    if (!m_engine->error().isEmpty())
        text += tr("<br><span style=\"color:#b00020\">%1</span>")
                    .arg(m_engine->error().toHtmlEscaped().replace(u'\n', QStringLiteral("<br>")));
    m_engineState->setText(text);
    m_engineStart->setEnabled(s == EngineControl::State::Stopped ||
                              s == EngineControl::State::Failed);
    m_engineStop->setEnabled(s == EngineControl::State::Running);
}

QString ProxiesPage::addProxy(const ProxyEndpoint &endpoint, const QString &tokenFile)
{
    const QString id = m_registry.add(endpoint);
    if (m_book && !tokenFile.isEmpty())
        m_book->setTokenFile(id, tokenFile);
    return id;
}

void ProxiesPage::addWithDialog()
{
    ProxyDialog dialog(this);
    dialog.setWindowTitle(tr("Add a proxy"));
    if (dialog.exec() != QDialog::Accepted)
        return;
    const QString id = addProxy(dialog.endpoint(), dialog.tokenFile());
    const int row = m_model->rowOf(id);
    if (row >= 0)
        m_table->selectRow(m_table->proxy()->mapFromSource(m_model->index(row, 0)).row());
}

void ProxiesPage::editSelected()
{
    const QStringList ids = selectedIds();
    if (ids.size() != 1)
        return;
    const ProxyEndpoint *e = m_registry.endpoint(ids.first());
    if (!e || e->local)
        return;
    ProxyDialog dialog(this);
    dialog.setWindowTitle(tr("Edit proxy %1").arg(e->name));
    dialog.setEndpoint(*e, m_book ? m_book->tokenFile(e->id) : QString());
    if (dialog.exec() != QDialog::Accepted)
        return;
    const ProxyEndpoint edited = dialog.endpoint();
    if (m_book)
        m_book->setTokenFile(edited.id, dialog.tokenFile());
    m_registry.update(edited);
}

void ProxiesPage::removeSelected()
{
    QStringList ids;
    QStringList names;
    for (const QString &id : selectedIds()) {
        const ProxyEndpoint *e = m_registry.endpoint(id);
        if (e && !e->local) {
            ids.append(id);
            names.append(e->name + QStringLiteral(" (") + e->url.toString() + u')');
        }
    }
    if (!Confirmation::ask(this, tr("Remove"), tr("proxy"), tr("proxies"), names,
                           tr("The console forgets them and their tokens; the proxies "
                              "themselves keep running.")))
        return;
    for (const QString &id : ids)
        m_registry.remove(id);
}

void ProxiesPage::connectSelected()
{
    for (const QString &id : selectedIds()) {
        const ProxyEndpoint *e = m_registry.endpoint(id);
        if (e && e->local && m_engine && m_engine->state() != EngineControl::State::Running) {
            m_engine->start(); // it opens the connection once running
            continue;
        }
        if (ProxyConnection *c = m_registry.connection(id))
            c->open();
    }
}

void ProxiesPage::disconnectSelected()
{
    for (const QString &id : selectedIds()) {
        if (ProxyConnection *c = m_registry.connection(id))
            c->close();
    }
}

void ProxiesPage::refresh()
{
    updateButtons();
    updateDetails();
    updateEngine();
}

} // namespace greygate
