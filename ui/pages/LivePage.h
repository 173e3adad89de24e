// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

#include <QTimer>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;

namespace greygate {

class DataTable;
class ExplanationView;
class LiveAttemptsFilter;
class LiveAttemptsModel;
class ProxyRegistry;
class Settings;

// Live attempts: the streaming table of every decision (LiveAttemptsModel, batched and
// bounded), filtered by text, outcome and the scope's proxy; pause; follow the tail only
// while the view is at the bottom (checked on a 100 ms timer, Wireshark's way: scrolling up
// to read a row stops the table from running away); a detail pane with the row and the
// proxy's policy explanation for its triplet (policy.explain).
class LivePage : public Page
{
    Q_OBJECT

public:
    LivePage(ProxyRegistry &registry, Settings &settings, QWidget *parent = nullptr);

    QString title() const override { return tr("Live attempts"); }
    QIcon icon() const override { return QIcon(QStringLiteral(":/icons/live.png")); }
    void setScope(const QString &proxyId) override;

    LiveAttemptsModel *model() const { return m_model; }
    LiveAttemptsFilter *filter() const { return m_filter; }
    DataTable *table() const { return m_table; }
    bool isFollowing() const { return m_following; }

public Q_SLOTS:
    void refresh();
    // Selects the newest row, so the detail pane shows an explanation (screenshots).
    void prepareScreenshot();

private:
    void followTail();
    void updateCounts();
    void showDetail();

    ProxyRegistry &m_registry;
    Settings &m_settings;
    LiveAttemptsModel *m_model;
    LiveAttemptsFilter *m_filter;
    DataTable *m_table;
    QLineEdit *m_text;
    QComboBox *m_outcome;
    QCheckBox *m_pause;
    QLabel *m_counts;
    ExplanationView *m_detail;
    QTimer m_followTimer;
    bool m_following = true; // the view was at the bottom at the last look
    bool m_newRows = false;  // rows came since the last look
    quint64 m_explainSerial = 0;
};

} // namespace greygate
