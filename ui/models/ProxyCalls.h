// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyRegistry.h"

#include <QPointer>
#include <QTimer>

namespace greygate::ProxyCalls {

// A request to one proxy of the registry whose answer reaches `context` only while it lives:
// ProxyConnection keeps callbacks without a context object, and a model may be destroyed (a
// page closed) before the proxy answers. An unknown proxy is answered with an error, from the
// event loop, like a call on a disconnected connection.
inline void call(const ProxyRegistry &registry, const QString &proxyId, const QString &method,
                 const QJsonObject &params, QObject *context, ProxyConnection::Callback callback)
{
    ProxyConnection *connection = registry.connection(proxyId);
    if (!connection) {
        QTimer::singleShot(0, context, [callback = std::move(callback), proxyId] {
            ProxyConnection::Reply r;
            r.error = protocol::ProtocolError{
                protocol::ErrorCode::Internal,
                QStringLiteral("no proxy %1: choose a proxy on the Proxies page").arg(proxyId),
                QString()};
            callback(r);
        });
        return;
    }
    connection->call(method, params,
                     [guard = QPointer<QObject>(context),
                      callback = std::move(callback)](const ProxyConnection::Reply &r) {
                         if (guard)
                             callback(r);
                     });
}

// Makes sure the connection follows the event stream, from its own cursor when it has one:
// several models share one connection, and re-subscribing from the last id seen loses
// nothing (a model drops the few events it may then see twice, by id).
inline void followEvents(ProxyConnection *connection)
{
    if (!connection)
        return;
    const quint64 last = connection->lastEventId();
    connection->subscribe(last > 0 ? std::optional<quint64>(last) : std::nullopt);
}

// A readable message for an error answer: the server's message, and the code.
inline QString describe(const protocol::ProtocolError &error)
{
    QString text = error.message;
    if (!error.field.isEmpty())
        text += QStringLiteral(" (%1)").arg(error.field);
    return text;
}

} // namespace greygate::ProxyCalls
