// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ProxyConnection.h"

#include <QObject>
#include <QUrl>
#include <memory>
#include <vector>

namespace greygate {

// What the console knows of a proxy: how to reach it and what to expect of its certificate.
struct ProxyEndpoint
{
    QString id;   // stable key (settings, models' proxy column); generated when empty
    QString name; // shown to the admin
    QUrl url;     // ws://127.0.0.1:PORT or wss://host:PORT
    QByteArray token;
    QByteArray pinnedSha256; // hex SHA-256 of the certificate, pinned on first contact
    bool local = false;      // the console's bundled engine
};

// Every proxy the console talks to, the bundled one included, each behind one
// ProxyConnection (DESIGN.md §2: one code path for local and remote). Models and pages
// take a registry and follow proxyAdded/proxyRemoved; nothing else owns connections.
class ProxyRegistry : public QObject
{
    Q_OBJECT

public:
    explicit ProxyRegistry(QObject *parent = nullptr);
    ~ProxyRegistry() override;

    // Adds and opens a connection; returns its id (endpoint.id, or a new one when empty).
    QString add(ProxyEndpoint endpoint, bool open = true);
    // Changes address/token/pin: the connection is rebuilt and reopened.
    bool update(const ProxyEndpoint &endpoint);
    bool remove(const QString &id);

    QStringList ids() const; // in the order added
    int count() const { return int(m_entries.size()); }
    const ProxyEndpoint *endpoint(const QString &id) const;
    ProxyConnection *connection(const QString &id) const;
    QString idOf(const ProxyConnection *connection) const;

Q_SIGNALS:
    void proxyAdded(const QString &id);
    void proxyRemoved(const QString &id);
    void proxyUpdated(const QString &id);
    // Forwarded from every connection, with the proxy's id.
    void stateChanged(const QString &id, greygate::ProxyConnection::State state);
    void ready(const QString &id);
    void eventsReceived(const QString &id, const QJsonArray &events);
    void resyncNeeded(const QString &id);

private:
    struct Entry
    {
        ProxyEndpoint endpoint;
        std::unique_ptr<ProxyConnection> connection;
    };

    std::unique_ptr<ProxyConnection> makeConnection(const ProxyEndpoint &endpoint);
    const Entry *find(const QString &id) const;

    std::vector<Entry> m_entries;
};

} // namespace greygate
