// SPDX-License-Identifier: GPL-3.0-or-later
#include "ScopeSelector.h"

#include "client/ProxyRegistry.h"

namespace greygate {

ScopeSelector::ScopeSelector(ProxyRegistry &registry, QWidget *parent)
    : QComboBox(parent)
    , m_registry(registry)
{
    setObjectName(QStringLiteral("scope"));
    setSizeAdjustPolicy(QComboBox::AdjustToContents);
    setToolTip(tr("Which proxies the pages show: all of them together, or one"));
    connect(&m_registry, &ProxyRegistry::proxyAdded, this, &ScopeSelector::rebuild);
    connect(&m_registry, &ProxyRegistry::proxyUpdated, this, &ScopeSelector::rebuild);
    // proxyRemoved comes while the entry is still listed: rebuild once it is gone.
    connect(&m_registry, &ProxyRegistry::proxyRemoved, this, &ScopeSelector::rebuild,
            Qt::QueuedConnection);
    connect(this, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (m_rebuilding || index < 0)
            return;
        const QString id = itemData(index).toString();
        if (id == m_scope)
            return;
        m_scope = id;
        Q_EMIT scopeChanged(id);
    });
    rebuild();
}

QString ScopeSelector::scope() const
{
    return m_scope;
}

void ScopeSelector::setScope(const QString &proxyId)
{
    const int index = findData(proxyId);
    setCurrentIndex(index < 0 ? 0 : index);
}

void ScopeSelector::rebuild()
{
    m_rebuilding = true;
    clear();
    addItem(tr("All proxies"), QString());
    for (const QString &id : m_registry.ids()) {
        const ProxyEndpoint *e = m_registry.endpoint(id);
        addItem(e->name.isEmpty() ? e->url.toString() : e->name, id);
    }
    int index = findData(m_scope);
    m_rebuilding = false;
    if (index < 0) {
        index = 0; // the proxy went away: back to all
    }
    setCurrentIndex(index);
    const QString id = itemData(index).toString();
    if (id != m_scope) {
        m_scope = id;
        Q_EMIT scopeChanged(id);
    }
}

} // namespace greygate
