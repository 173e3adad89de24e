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

private:
    QString m_scope;
};

} // namespace greygate
