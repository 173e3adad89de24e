// SPDX-License-Identifier: GPL-3.0-or-later
#include "AlertFeed.h"

#include "client/ProxyRegistry.h"

#include <QJsonArray>
#include <QJsonObject>

namespace greygate {

AlertFeed::AlertFeed(ProxyRegistry &registry, QObject *parent)
    : AlertFeed(registry, Options{}, parent)
{}

AlertFeed::AlertFeed(ProxyRegistry &registry, Options options, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_options(options)
{
    connect(&registry, &ProxyRegistry::stateChanged, this, &AlertFeed::onState);
    connect(&registry, &ProxyRegistry::eventsReceived, this, &AlertFeed::onEvents);
    connect(&registry, &ProxyRegistry::proxyRemoved, this,
            [this](const QString &id) { m_proxies.remove(id); });
    connect(&m_timer, &QTimer::timeout, this, [this] { check(QDateTime::currentDateTimeUtc()); });
    m_timer.start(m_options.checkIntervalMs);
}

QString AlertFeed::nameOf(const QString &id) const
{
    const ProxyEndpoint *e = m_registry.endpoint(id);
    return e && !e->name.isEmpty() ? e->name : id;
}

void AlertFeed::onState(const QString &id, ProxyConnection::State state)
{
    Proxy &p = m_proxies[id];
    const QDateTime now = QDateTime::currentDateTimeUtc();
    p.state = state;
    if (state == ProxyConnection::State::Connected) {
        if (p.lostAlerted)
            Q_EMIT notify(nameOf(id) + u": connected again",
                          QStringLiteral("the proxy answers again"), true);
        p.wasConnected = true;
        p.lostAlerted = false;
        p.lostSince = QDateTime();
        p.lastEvent = now;
        return;
    }
    if (state == ProxyConnection::State::Refused) {
        Q_EMIT notify(nameOf(id) + u": refused",
                      QStringLiteral("the proxy refused the console (token or certificate): "
                                     "check it on the Proxies page"),
                      false);
        return;
    }
    if (p.wasConnected && !p.lostSince.isValid())
        p.lostSince = now;
}

void AlertFeed::onEvents(const QString &id, const QJsonArray &events)
{
    Proxy &p = m_proxies[id];
    p.lastEvent = QDateTime::currentDateTimeUtc();
    if (p.silentAlerted) {
        p.silentAlerted = false;
        Q_EMIT notify(nameOf(id) + u": traffic again", QStringLiteral("events arrive again"), true);
    }
    for (const QJsonValue &v : events) {
        const QJsonObject e = v.toObject();
        if (e.value(QStringLiteral("type")).toString() != u"alert")
            continue;
        const QString kind = e.value(QStringLiteral("kind")).toString();
        const QString what = kind == u"deferralSpike" ? QStringLiteral("deferral spike")
                             : kind == u"failedToRetrySpike"
                                 ? QStringLiteral("failed-to-retry spike")
                             : kind == u"storeTrouble" ? QStringLiteral("store trouble")
                                                       : kind;
        Q_EMIT notify(nameOf(id) + u": " + what, e.value(QStringLiteral("message")).toString(),
                      e.value(QStringLiteral("cleared")).toBool());
    }
}

void AlertFeed::check(const QDateTime &now)
{
    for (auto it = m_proxies.begin(); it != m_proxies.end(); ++it) {
        Proxy &p = *it;
        if (p.lostSince.isValid() && !p.lostAlerted &&
            p.lostSince.secsTo(now) >= m_options.lostGraceSeconds) {
            p.lostAlerted = true;
            Q_EMIT notify(nameOf(it.key()) + u": disconnected",
                          QStringLiteral("no answer since %1 UTC; the console keeps retrying")
                              .arg(p.lostSince.toString(QStringLiteral("HH:mm:ss"))),
                          false);
        }
        if (p.state == ProxyConnection::State::Connected && p.lastEvent.isValid() &&
            !p.silentAlerted && p.lastEvent.secsTo(now) >= qint64(m_options.silentMinutes) * 60) {
            p.silentAlerted = true;
            Q_EMIT notify(nameOf(it.key()) + u": silent",
                          QStringLiteral("no event for %1 minutes: is mail reaching it?")
                              .arg(m_options.silentMinutes),
                          false);
        }
    }
}

} // namespace greygate
