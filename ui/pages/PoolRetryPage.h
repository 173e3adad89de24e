// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Page.h"

namespace greygate {

class PoolRetryPanel;
class ProxyPicker;
class ProxyRegistry;

// Pool retries and pool bypasses of one proxy (docs/console.md, docs/spf.md): the proxy
// picker over a PoolRetryPanel.
class PoolRetryPage : public Page
{
    Q_OBJECT

public:
    explicit PoolRetryPage(ProxyRegistry &registry, QWidget *parent = nullptr);

    QString title() const override { return tr("Pool retries"); }
    QIcon icon() const override;
    void setScope(const QString &proxyId) override;

    PoolRetryPanel *panel() const { return m_panel; }

private:
    ProxyPicker *m_picker;
    PoolRetryPanel *m_panel;
};

} // namespace greygate
