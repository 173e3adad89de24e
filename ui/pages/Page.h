// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QIcon>
#include <QWidget>

namespace greygate {

// One page of the console's navigation list (DESIGN.md §6). The main window owns the pages
// and tells each the scope chosen at the top: every proxy, or one (by its registry id).
class Page : public QWidget
{
    Q_OBJECT

public:
    using QWidget::QWidget;

    virtual QString title() const = 0;
    virtual QIcon icon() const { return {}; }
    // proxyId empty: all proxies together.
    virtual void setScope(const QString &proxyId) { m_scope = proxyId; }
    QString scope() const { return m_scope; }

Q_SIGNALS:
    // Asks the main window to show another page (by its key: "triage"...): a page links to
    // another without knowing the window.
    void openPageRequested(const QString &key);

private:
    QString m_scope;
};

} // namespace greygate
