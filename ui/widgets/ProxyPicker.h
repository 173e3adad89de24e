// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QWidget>

class QComboBox;
class QLabel;

namespace greygate {

class ProxyRegistry;

// For pages that act on one proxy at a time (queue, policies, groups, auto allow): with the
// scope on one proxy it is that proxy; with all proxies the page shows this picker so the
// admin chooses which one (the first connected one at first). proxyChanged() tells the page.
class ProxyPicker : public QWidget
{
    Q_OBJECT

public:
    explicit ProxyPicker(ProxyRegistry &registry, QWidget *parent = nullptr);

    // The main window's scope: a proxy id fixes the choice (and hides the picker).
    void setScope(const QString &proxyId);
    QString proxyId() const { return m_current; }

Q_SIGNALS:
    void proxyChanged(const QString &proxyId);

private:
    void rebuild();
    void choose(const QString &proxyId);

    ProxyRegistry &m_registry;
    QComboBox *m_combo;
    QString m_scope;
    QString m_current;
    bool m_rebuilding = false;
};

} // namespace greygate
