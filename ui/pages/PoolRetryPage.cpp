// SPDX-License-Identifier: GPL-3.0-or-later
#include "PoolRetryPage.h"

#include "widgets/PoolRetryPanel.h"
#include "widgets/ProxyPicker.h"

#include <QHBoxLayout>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace greygate {

PoolRetryPage::PoolRetryPage(ProxyRegistry &registry, QWidget *parent)
    : Page(parent)
    , m_picker(new ProxyPicker(registry, this))
    , m_panel(new PoolRetryPanel(registry, this))
{
    auto *refresh = new QPushButton(tr("Refresh"), this);
    connect(refresh, &QPushButton::clicked, m_panel, &PoolRetryPanel::reload);
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_picker);
    bar->addStretch(1);
    bar->addWidget(refresh);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_panel, 1);
    connect(m_picker, &ProxyPicker::proxyChanged, m_panel, &PoolRetryPanel::setProxyId);
    m_panel->setProxyId(m_picker->proxyId());
}

QIcon PoolRetryPage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("network-workgroup"),
                            style()->standardIcon(QStyle::SP_DriveNetIcon));
}

void PoolRetryPage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    m_picker->setScope(proxyId);
}

} // namespace greygate
