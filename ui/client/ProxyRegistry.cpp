// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxyRegistry.h"

#include <QUuid>

namespace greygate {

ProxyRegistry::ProxyRegistry(QObject *parent)
    : QObject(parent)
{}

ProxyRegistry::~ProxyRegistry() = default;

std::unique_ptr<ProxyConnection> ProxyRegistry::makeConnection(const ProxyEndpoint &endpoint)
{
    ProxyConnection::Options options;
    options.url = endpoint.url;
    options.token = endpoint.token;
    options.pinnedSha256 = QString::fromLatin1(endpoint.pinnedSha256);
    auto connection = std::make_unique<ProxyConnection>(options);
    const QString id = endpoint.id;
    ProxyConnection *raw = connection.get();
    connect(raw, &ProxyConnection::stateChanged, this,
            [this, id](ProxyConnection::State state) { Q_EMIT stateChanged(id, state); });
    connect(raw, &ProxyConnection::ready, this, [this, id] { Q_EMIT ready(id); });
    connect(raw, &ProxyConnection::eventsReceived, this,
            [this, id](const QJsonArray &events) { Q_EMIT eventsReceived(id, events); });
    connect(raw, &ProxyConnection::resyncNeeded, this, [this, id] { Q_EMIT resyncNeeded(id); });
    return connection;
}

QString ProxyRegistry::add(ProxyEndpoint endpoint, bool open)
{
    if (endpoint.id.isEmpty() || find(endpoint.id))
        endpoint.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    Entry entry;
    entry.connection = makeConnection(endpoint);
    entry.endpoint = std::move(endpoint);
    const QString id = entry.endpoint.id;
    ProxyConnection *connection = entry.connection.get();
    m_entries.push_back(std::move(entry));
    Q_EMIT proxyAdded(id);
    if (open)
        connection->open();
    return id;
}

bool ProxyRegistry::update(const ProxyEndpoint &endpoint)
{
    for (Entry &entry : m_entries) {
        if (entry.endpoint.id != endpoint.id)
            continue;
        const bool wasOpen = entry.connection->state() != ProxyConnection::State::Disconnected;
        entry.connection->close();
        entry.connection.reset();
        entry.endpoint = endpoint;
        entry.connection = makeConnection(endpoint);
        Q_EMIT proxyUpdated(endpoint.id);
        if (wasOpen)
            entry.connection->open();
        return true;
    }
    return false;
}

bool ProxyRegistry::remove(const QString &id)
{
    for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
        if (it->endpoint.id != id)
            continue;
        // Tell the models first, while the connection still exists for them to disconnect.
        Q_EMIT proxyRemoved(id);
        it->connection->close();
        m_entries.erase(it);
        return true;
    }
    return false;
}

QStringList ProxyRegistry::ids() const
{
    QStringList result;
    result.reserve(qsizetype(m_entries.size()));
    for (const Entry &entry : m_entries)
        result.append(entry.endpoint.id);
    return result;
}

const ProxyRegistry::Entry *ProxyRegistry::find(const QString &id) const
{
    for (const Entry &entry : m_entries) {
        if (entry.endpoint.id == id)
            return &entry;
    }
    return nullptr;
}

const ProxyEndpoint *ProxyRegistry::endpoint(const QString &id) const
{
    const Entry *entry = find(id);
    return entry ? &entry->endpoint : nullptr;
}

ProxyConnection *ProxyRegistry::connection(const QString &id) const
{
    const Entry *entry = find(id);
    return entry ? entry->connection.get() : nullptr;
}

QString ProxyRegistry::idOf(const ProxyConnection *connection) const
{
    for (const Entry &entry : m_entries) {
        if (entry.connection.get() == connection)
            return entry.endpoint.id;
    }
    return {};
}

} // namespace greygate
