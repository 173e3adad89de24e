// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxyPicker.h"

#include "client/ProxyRegistry.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>

namespace greygate {

ProxyPicker::ProxyPicker(ProxyRegistry &registry, QWidget *parent)
    : QWidget(parent)
    , m_registry(registry)
    , m_combo(new QComboBox(this))
{
    m_combo->setObjectName(QStringLiteral("proxyPicker"));
    m_combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Proxy:"), this));
    layout->addWidget(m_combo);
    connect(m_combo, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (!m_rebuilding && index >= 0)
            choose(m_combo->itemData(index).toString());
    });
    connect(&m_registry, &ProxyRegistry::proxyAdded, this, &ProxyPicker::rebuild);
    connect(&m_registry, &ProxyRegistry::proxyUpdated, this, &ProxyPicker::rebuild);
    connect(&m_registry, &ProxyRegistry::proxyRemoved, this, &ProxyPicker::rebuild,
            Qt::QueuedConnection);
    // The first proxy to connect becomes the choice when none was made yet.
    connect(&m_registry, &ProxyRegistry::ready, this, [this](const QString &id) {
        if (m_current.isEmpty())
            choose(id);
    });
    rebuild();
}

void ProxyPicker::setScope(const QString &proxyId)
{
    m_scope = proxyId;
    setVisible(proxyId.isEmpty());
    rebuild();
}

void ProxyPicker::choose(const QString &proxyId)
{
    if (proxyId == m_current)
        return;
    m_current = proxyId;
    m_rebuilding = true;
    const int index = m_combo->findData(proxyId);
    if (index >= 0)
        m_combo->setCurrentIndex(index);
    m_rebuilding = false;
    Q_EMIT proxyChanged(proxyId);
}

void ProxyPicker::rebuild()
{
    m_rebuilding = true;
    m_combo->clear();
    const QStringList ids = m_registry.ids();
    for (const QString &id : ids) {
        const ProxyEndpoint *e = m_registry.endpoint(id);
        m_combo->addItem(e->name.isEmpty() ? e->url.toString() : e->name, id);
    }
    m_rebuilding = false;
    QString wanted = m_scope.isEmpty() ? m_current : m_scope;
    if (!ids.contains(wanted)) {
        wanted.clear();
        for (const QString &id : ids) {
            if (m_registry.connection(id)->state() == ProxyConnection::State::Connected) {
                wanted = id;
                break;
            }
        }
        if (wanted.isEmpty() && !ids.isEmpty())
            wanted = ids.first();
    }
    // Sets the combo again (it was rebuilt); tells the page only of a real change.
    const QString before = std::exchange(m_current, QString());
    m_rebuilding = true;
    m_combo->setCurrentIndex(m_combo->findData(wanted));
    m_rebuilding = false;
    m_current = wanted;
    if (wanted != before)
        Q_EMIT proxyChanged(wanted);
}

} // namespace greygate
