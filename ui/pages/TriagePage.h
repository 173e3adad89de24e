// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

class QLabel;
class QTableWidget;
class QPushButton;

namespace greygate {

class ProxyRegistry;

// Failed-to-retry triage (docs/console.md, "Triage"): the proxies' "Sender Failed to Retry"
// entries of the last week, likeliest legitimate first (triage.list), each factor shown;
// Allow and note releases the sender for a time with the admin's note as the reason
// (release.create, audited).
class TriagePage : public Page
{
    Q_OBJECT

public:
    explicit TriagePage(ProxyRegistry &registry, QWidget *parent = nullptr);

    QString title() const override { return tr("Triage"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;
    void refresh();
    QTableWidget *table() const { return m_table; }

private:
    void allowSelected();
    QStringList proxies() const;

    ProxyRegistry &m_registry;
    QTableWidget *m_table;
    QLabel *m_status;
    QPushButton *m_allow;
    int m_pending = 0;
};

} // namespace greygate
