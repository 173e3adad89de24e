// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

class QLabel;
class QPushButton;

namespace greygate {

class DataTable;
class ProxyPicker;
class ProxyRegistry;
class ReleaseAuditModel;
class ReleaseDialog;
class ReleaseListModel;
class Settings;

// Timed releases of one proxy (docs/console.md, "Releases"): the active releases and
// expectations (what, who, when, why, until when, time left) with Revoke, new ones
// ("Release sender or domain...", "Expect mail..."), and below, the audit log of every
// release created, revoked or expired.
class ReleasesPage : public Page
{
    Q_OBJECT

public:
    ReleasesPage(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);

    QString title() const override { return tr("Releases"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;

    ReleaseListModel *model() const { return m_model; }
    ReleaseAuditModel *auditModel() const { return m_audit; }
    DataTable *table() const { return m_table; }
    DataTable *auditTable() const { return m_auditTable; }
    // The dialog of the last "Release..." or "Expect..." (tests fill it in); null when none.
    ReleaseDialog *openDialog() const { return m_dialog; }

public Q_SLOTS:
    void refresh();
    void newRelease();
    void expectMail();
    void revokeSelected();

private:
    void ask(ReleaseDialog *dialog);
    void showMessage(const QString &text, bool error);
    void updateStatus();

    ReleaseListModel *m_model;
    ReleaseAuditModel *m_audit;
    DataTable *m_table;
    DataTable *m_auditTable;
    ProxyPicker *m_picker;
    QPushButton *m_revoke;
    QLabel *m_status;
    QLabel *m_message;
    ReleaseDialog *m_dialog = nullptr;
};

} // namespace greygate
