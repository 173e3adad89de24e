// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QComboBox>

namespace greygate {

class ProxyRegistry;

// The scope at the top of the main window: every proxy together, or one of the registry's
// (by id). Follows the registry: a proxy added appears, a removed one goes (the scope falls
// back to all), a renamed one is relabelled.
class ScopeSelector : public QComboBox
{
    Q_OBJECT

public:
    explicit ScopeSelector(ProxyRegistry &registry, QWidget *parent = nullptr);

    QString scope() const; // empty: all proxies
    void setScope(const QString &proxyId);

Q_SIGNALS:
    void scopeChanged(const QString &proxyId);

private:
    void rebuild();

    ProxyRegistry &m_registry;
    QString m_scope;
    bool m_rebuilding = false;
};

} // namespace greygate
