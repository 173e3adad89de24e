// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyConnection.h"

#include <QHash>
#include <QWidget>

class QHBoxLayout;
class QLabel;

namespace greygate {

class ProxyRegistry;

// One indicator per proxy in the status bar: a coloured dot and the proxy's name, with the
// state in words (connected, connecting, reconnecting, refused, certificate changed,
// disconnected) and the last error in its tooltip. Clicking one asks for the Proxies page.
class ProxyStatusBar : public QWidget
{
    Q_OBJECT

public:
    explicit ProxyStatusBar(ProxyRegistry &registry, QWidget *parent = nullptr);

    // The indicator's text for a proxy ("name: connected"); empty when unknown. For tests.
    QString indicatorText(const QString &proxyId) const;
    static QString stateText(ProxyConnection::State state, const QString &lastError);
    static QColor stateColor(ProxyConnection::State state, const QString &lastError);

Q_SIGNALS:
    void proxyClicked(const QString &proxyId);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void addIndicator(const QString &id);
    void update(const QString &id);

    ProxyRegistry &m_registry;
    QHBoxLayout *m_layout;
    QHash<QString, QLabel *> m_labels;
};

} // namespace greygate
