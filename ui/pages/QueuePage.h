// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

#include <QTimer>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace greygate {

namespace protocol {
struct QueueEntry;
}
struct ReleaseRequest;
class DataTable;
class ProxyPicker;
class ProxyRegistry;
class QueueModel;
class Settings;

// The greylist queue of one proxy (QueueModel): page by page from the proxy as the view
// scrolls, filtered and sorted by the proxy (state, client, sender, recipient, domain), with
// live countdowns to when a retry passes and when the window closes. Release, delete and
// add-to-Permitted-Senders act on every selected row after one confirmation.
class QueuePage : public Page
{
    Q_OBJECT

public:
    QueuePage(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);

    QString title() const override { return tr("Greylist queue"); }
    QIcon icon() const override { return QIcon(QStringLiteral(":/icons/queue.png")); }
    void setScope(const QString &proxyId) override;

    QueueModel *model() const { return m_model; }
    DataTable *table() const { return m_table; }

public Q_SLOTS:
    void refresh();
    void releaseSelected();
    void deleteSelected();
    void permitSelected();
    // "Release for...": the selected triplets (or their senders or domains) for a while,
    // with a reason (ReleaseDialog, release.create; audited, ending by itself).
    void releaseForSelected();

private:
    void applyFilter();
    void sendReleases(const ReleaseRequest &asked, const QList<protocol::QueueEntry> &entries);
    void updateStatus();
    void updateButtons();
    // Asks once, then runs `act` on every selected row.
    void actOnSelection(const QString &action, const QString &consequence,
                        void (QueueModel::*act)(int));

    ProxyRegistry &m_registry;
    QueueModel *m_model;
    DataTable *m_table;
    ProxyPicker *m_picker;
    QComboBox *m_state;
    QLineEdit *m_sender;
    QLineEdit *m_recipient;
    QLineEdit *m_client;
    QLineEdit *m_domain;
    QPushButton *m_release;
    QPushButton *m_releaseFor;
    QPushButton *m_delete;
    QPushButton *m_permit;
    QLabel *m_status;
    QLabel *m_message;
    QTimer m_filterTimer;
    int m_actionsDone = 0;
    int m_actionsFailed = 0;
};

} // namespace greygate
