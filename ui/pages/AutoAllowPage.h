// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

#include <QTimer>

class QLabel;
class QLineEdit;

namespace greygate {

class AutoAllowModel;
class DataTable;
class ProxyPicker;
class ProxyRegistry;
class Settings;

// One proxy's Auto Allow table (AutoAllowModel, page by page: it may hold a million pairs):
// who may mail whom without greylisting, learned from outbound mail or added here; search
// (the proxy's filter), add a pair with an expiry, remove selected pairs after a
// confirmation, export what is shown.
class AutoAllowPage : public Page
{
    Q_OBJECT

public:
    AutoAllowPage(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);

    QString title() const override { return tr("Auto Allow"); }
    QIcon icon() const override { return QIcon(QStringLiteral(":/icons/autoallow.png")); }
    void setScope(const QString &proxyId) override;

    AutoAllowModel *model() const { return m_model; }
    DataTable *table() const { return m_table; }

public Q_SLOTS:
    void refresh();
    void addEntry();
    void removeSelected();

private:
    void updateStatus();
    void showMessage(const QString &text, bool error);

    AutoAllowModel *m_model;
    DataTable *m_table;
    ProxyPicker *m_picker;
    QLineEdit *m_search;
    QLabel *m_status;
    QLabel *m_message;
    QTimer m_searchTimer;
};

} // namespace greygate
