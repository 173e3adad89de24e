// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyRegistry.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>
#include <functional>

namespace greygate::ProxyFollow {

// Keeps a one-proxy model current: `reload` (a single-shot timer, so a burst is one re-read)
// starts when the model's proxy reports an event `wanted` accepts, comes back, or says events
// were lost; a proxy removed from the registry leaves the model on none. Model needs
// proxyId() and setProxyId(QString).
template <typename Model>
void keepCurrent(ProxyRegistry &registry, Model *model, QTimer &reload,
                 std::function<bool(const QJsonObject &)> wanted)
{
    QObject::connect(
        &registry, &ProxyRegistry::eventsReceived, model,
        [model, &reload, wanted = std::move(wanted)](const QString &id, const QJsonArray &events) {
            if (id != model->proxyId())
                return;
            for (const QJsonValue &value : events) {
                if (wanted(value.toObject())) {
                    reload.start();
                    return;
                }
            }
        });
    const auto again = [model, &reload](const QString &id) {
        if (id == model->proxyId())
            reload.start();
    };
    QObject::connect(&registry, &ProxyRegistry::ready, model, again);
    QObject::connect(&registry, &ProxyRegistry::resyncNeeded, model, again);
    QObject::connect(&registry, &ProxyRegistry::proxyRemoved, model, [model](const QString &id) {
        if (id == model->proxyId())
            model->setProxyId(QString());
    });
}

// A string from the proxy, bounded before it is kept: the server is not trusted to.
inline QString bounded(const QJsonValue &value, qsizetype max = 512)
{
    return value.toString().left(max);
}

} // namespace greygate::ProxyFollow
