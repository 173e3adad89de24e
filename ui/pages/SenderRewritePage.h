// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableView;
class QTableWidget;

namespace greygate {

class ProxyPicker;
class ProxyRegistry;
class SenderRewriteModel;

// Sender rewriting (docs/console.md, docs/rewriting.md): one proxy's table of rules (add,
// remove, reorder, enable, edit), sample addresses shown live as the edited table keys them
// and which rule fired, Save (disabled while the proxy refuses the table) and Revert.
class SenderRewritePage : public Page
{
    Q_OBJECT

public:
    explicit SenderRewritePage(ProxyRegistry &registry, QWidget *parent = nullptr);

    QString title() const override { return tr("Sender rewriting"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;

    SenderRewriteModel *model() const { return m_model; }
    QTableView *rulesView() const { return m_view; }
    QPlainTextEdit *samplesEdit() const { return m_samples; }
    QTableWidget *resultsTable() const { return m_results; }
    QPushButton *saveButton() const { return m_save; }
    QLabel *statusLabel() const { return m_status; }

private:
    void updateState();
    void showResults();
    int currentRow() const;

    ProxyPicker *m_picker;
    SenderRewriteModel *m_model;
    QTableView *m_view;
    QPlainTextEdit *m_samples;
    QTableWidget *m_results;
    QPushButton *m_remove;
    QPushButton *m_up;
    QPushButton *m_down;
    QPushButton *m_revert;
    QPushButton *m_save;
    QLabel *m_status;
};

} // namespace greygate
