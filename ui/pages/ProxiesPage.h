// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"
#include "client/ProxyRegistry.h"

class QLabel;
class QPushButton;

namespace greygate {

class DataTable;
class EngineControl;
class ProxyBook;
class ProxyListModel;
class ProxyRegistry;
class Settings;

// The proxies the console talks to: add, edit, remove, connect and disconnect each, with its
// state, address, store and engine version, the pinned certificate fingerprint and the last
// error; and the bundled local engine, started and stopped from here, listed like any other.
class ProxiesPage : public Page
{
    Q_OBJECT

public:
    // book: saves what is added (may be null in tests); engine: the bundled engine (may be
    // null: --no-local-engine).
    ProxiesPage(ProxyRegistry &registry, Settings &settings, ProxyBook *book, EngineControl *engine,
                QWidget *parent = nullptr);

    QString title() const override { return tr("Proxies"); }
    QIcon icon() const override { return QIcon(QStringLiteral(":/icons/proxies.png")); }

    ProxyListModel *model() const { return m_model; }
    DataTable *table() const { return m_table; }
    // Adds a proxy as the dialog would (tests, --proxy); returns its id.
    QString addProxy(const ProxyEndpoint &endpoint, const QString &tokenFile);

public Q_SLOTS:
    void addWithDialog();
    void editSelected();
    void removeSelected();
    void connectSelected();
    void disconnectSelected();
    void refresh();

private:
    QStringList selectedIds() const;
    void updateButtons();
    void updateEngine();
    void updateDetails();

    ProxyRegistry &m_registry;
    ProxyBook *m_book;
    EngineControl *m_engine;
    ProxyListModel *m_model;
    DataTable *m_table;
    QPushButton *m_edit;
    QPushButton *m_remove;
    QPushButton *m_connect;
    QPushButton *m_disconnect;
    QLabel *m_details;
    QLabel *m_engineState;
    QPushButton *m_engineStart;
    QPushButton *m_engineStop;
};

} // namespace greygate
