// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

#include <QJsonObject>
#include <QPointer>

class QLabel;
class QLineEdit;
class QPushButton;

namespace greygate {

class DataTable;
class ExplanationView;
class PolicyDialog;
class PolicyHistoryView;
class PolicyTableModel;
class ReplayDialog;
class ProxyPicker;
class ProxyRegistry;
class Settings;

// One proxy's policies (PolicyTableModel) in their effective order, added and edited through
// PolicyDialog (sent with the version the edit started from; a conflict shown in the dialog,
// never lost), deleted after a confirmation; the whole document exported to and imported
// from JSON; and "test a triplet": which policy wins for a client, sender and recipient, and
// why (policy.explain).
class PoliciesPage : public Page
{
    Q_OBJECT

public:
    PoliciesPage(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);

    QString title() const override { return tr("Policies"); }
    QIcon icon() const override { return QIcon(QStringLiteral(":/icons/policies.png")); }
    void setScope(const QString &proxyId) override;

    PolicyTableModel *model() const { return m_model; }
    DataTable *table() const { return m_table; }
    ExplanationView *explanation() const { return m_explanation; }
    // Opens the dialog on a policy (an empty object: a new one); returns it (not executed).
    PolicyDialog *openDialog(const QJsonObject &policy);
    // Sends the dialog's policy as the Save button does.
    void submit(PolicyDialog *dialog, const QJsonObject &policy);
    void explain(const QString &client, const QString &sender, const QString &recipient,
                 const QString &headerFrom = QString());
    // Import a policy document's bytes (what importJson reads from a file).
    void importDocument(const QByteArray &bytes);
    // "Replay changes" of a dialog's policy: the table with it, against the recorded
    // attempts (a ReplayDialog, already replaying; not executed).
    ReplayDialog *openReplay(const QJsonObject &policy);
    // The policy table's history, diff, rollback and proxy comparison, in a window.
    PolicyHistoryView *openHistory();

public Q_SLOTS:
    void refresh();
    // Explains an example triplet (screenshots): the newest deferred one in the queue when
    // there is one, else a made-up one.
    void prepareScreenshot();
    void addPolicy();
    void editSelected();
    void deleteSelected();
    void exportJson();
    void importJson();

private:
    QString proxyId() const;
    void showMessage(const QString &text, bool error);

    ProxyRegistry &m_registry;
    PolicyTableModel *m_model;
    DataTable *m_table;
    ProxyPicker *m_picker;
    QLineEdit *m_filter;
    QLabel *m_message;
    QLineEdit *m_client;
    QLineEdit *m_sender;
    QLineEdit *m_recipient;
    QLineEdit *m_headerFrom;
    ExplanationView *m_explanation;
    QPointer<PolicyDialog> m_dialog;
};

} // namespace greygate
