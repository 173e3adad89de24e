// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QTimer;

namespace greygate {

class ProxyRegistry;
class RejectionModel;

// The Rejection Viewer (DESIGN.md §6): senders that failed to retry and Blocked Senders'
// attempts, for the scope, over a time range, filtered by client, sender, recipient and
// reason (the proxy filters, so the whole log is searched, not only the rows loaded), page
// by page as the table scrolls, sortable, and exported as CSV as shown.
class RejectionsPage : public Page
{
    Q_OBJECT

public:
    explicit RejectionsPage(ProxyRegistry &registry, QWidget *parent = nullptr);
    ~RejectionsPage() override;

    QString title() const override { return tr("Rejections"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;

    RejectionModel *model() const { return m_model; }
    QSortFilterProxyModel *shown() const { return m_proxy; }
    // Filters as the fields say (the page applies them shortly after each keystroke).
    void applyFilters();
    // Writes the rows shown, sorted and filtered, as CSV; false with *error.
    bool exportCsv(const QString &path, QString *error);

public Q_SLOTS:
    // Reads the log again from the first page (the main window's Refresh).
    void refresh();

private:
    void askExport();
    void updateStatus();

    ProxyRegistry &m_registry;
    RejectionModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QComboBox *m_range = nullptr;
    QComboBox *m_reason = nullptr;
    QLineEdit *m_client = nullptr;
    QLineEdit *m_sender = nullptr;
    QLineEdit *m_recipient = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_status = nullptr;
    QTimer *m_debounce = nullptr;
    bool m_fitted = false;
};

} // namespace greygate
