// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxyStatusBar.h"

#include "client/ProxyRegistry.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>

namespace greygate {

namespace {

bool certificateChanged(const QString &lastError)
{
    return lastError.contains(QLatin1String("certificate"), Qt::CaseInsensitive);
}

} // namespace

ProxyStatusBar::ProxyStatusBar(ProxyRegistry &registry, QWidget *parent)
    : QWidget(parent)
    , m_registry(registry)
    , m_layout(new QHBoxLayout(this))
{
    setObjectName(QStringLiteral("proxyStatus"));
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->setSpacing(12);
    m_layout->addStretch(1); // indicators are inserted before it, packed on the left
    for (const QString &id : m_registry.ids())
        addIndicator(id);
    connect(&m_registry, &ProxyRegistry::proxyAdded, this, &ProxyStatusBar::addIndicator);
    connect(&m_registry, &ProxyRegistry::proxyUpdated, this, &ProxyStatusBar::update);
    connect(&m_registry, &ProxyRegistry::stateChanged, this,
            [this](const QString &id) { update(id); });
    connect(&m_registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        if (QLabel *label = m_labels.take(id))
            label->deleteLater();
    });
}

QString ProxyStatusBar::stateText(ProxyConnection::State state, const QString &lastError)
{
    switch (state) {
    case ProxyConnection::State::Connected:
        return tr("connected");
    case ProxyConnection::State::Connecting:
    case ProxyConnection::State::Authenticating:
        return tr("connecting");
    case ProxyConnection::State::Reconnecting:
        return tr("reconnecting");
    case ProxyConnection::State::Refused:
        return certificateChanged(lastError) ? tr("certificate changed") : tr("refused");
    case ProxyConnection::State::Disconnected:
        return tr("disconnected");
    }
    return {};
}

QColor ProxyStatusBar::stateColor(ProxyConnection::State state, const QString &lastError)
{
    switch (state) {
    case ProxyConnection::State::Connected:
        return QColor(0x2e, 0x9d, 0x4f);
    case ProxyConnection::State::Connecting:
    case ProxyConnection::State::Authenticating:
    case ProxyConnection::State::Reconnecting:
        return QColor(0xe0, 0xa0, 0x10);
    case ProxyConnection::State::Refused:
        return certificateChanged(lastError) ? QColor(0xa0, 0x20, 0xc0) : QColor(0xc8, 0x2a, 0x2a);
    case ProxyConnection::State::Disconnected:
        return QColor(0x88, 0x88, 0x88);
    }
    return {};
}

void ProxyStatusBar::addIndicator(const QString &id)
{
    if (m_labels.contains(id))
        return;
    auto *label = new QLabel(this);
    label->setObjectName(QStringLiteral("indicator-") + id);
    label->setCursor(Qt::PointingHandCursor);
    label->setProperty("proxyId", id);
    label->installEventFilter(this);
    m_layout->insertWidget(m_layout->count() - 1, label);
    m_labels.insert(id, label);
    update(id);
}

void ProxyStatusBar::update(const QString &id)
{
    QLabel *label = m_labels.value(id);
    const ProxyEndpoint *e = m_registry.endpoint(id);
    ProxyConnection *c = m_registry.connection(id);
    if (!label || !e || !c)
        return;
    const QString name = e->name.isEmpty() ? e->url.toString() : e->name;
    // The connection knows when its pin was refused; the text is the fallback for proxies
    // that explain it only in words.
    const QString why =
        c->certificateMismatch() ? QStringLiteral("certificate changed") : c->lastError();
    const QString state = stateText(c->state(), why);
    const QColor color = stateColor(c->state(), why);
    label->setText(QStringLiteral("<span style=\"color:%1\">&#9679;</span> %2: %3")
                       .arg(color.name(), name.toHtmlEscaped(), state));
    label->setProperty("indicatorText", QString(name + QStringLiteral(": ") + state));
    label->setToolTip(c->lastError().isEmpty() ? e->url.toString()
                                               : e->url.toString() + u'\n' + c->lastError());
}

QString ProxyStatusBar::indicatorText(const QString &proxyId) const
{
    const QLabel *label = m_labels.value(proxyId);
    return label ? label->property("indicatorText").toString() : QString();
}

bool ProxyStatusBar::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::MouseButtonRelease)
        Q_EMIT proxyClicked(watched->property("proxyId").toString());
    return QWidget::eventFilter(watched, event);
}

} // namespace greygate
