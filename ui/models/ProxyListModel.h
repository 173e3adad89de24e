// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyRegistry.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QTimer>
#include <functional>

namespace greygate {

// Every proxy of the registry, one row each in the order added, live from the registry's
// signals: name, address, connection state, what its hello said (store, engine version,
// uptime), the connection's last error and, over wss, the certificate's fingerprint; a
// proxy refused because its certificate is not the pinned one reads "certificate changed". The
// uptime column ticks once a second (only that column is signalled), from the hello's figure plus
// the time since, on an injectable clock.
class ProxyListModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Name,
        Url,
        State,
        StoreKind,
        EngineVersion,
        Uptime,
        LastError,
        Certificate, // wss: the SHA-256 the proxy showed (pinned or not)
        ColumnCount
    };
    enum Role
    {
        ProxyIdRole = Qt::UserRole + 1, // the registry's id of the row's proxy
        StateRole,                      // ProxyConnection::State as an int
        LocalRole,                      // true for the bundled engine
        CertificateChangedRole,         // refused: the certificate is not the pinned one
    };

    explicit ProxyListModel(ProxyRegistry &registry, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    QString proxyId(int row) const;
    int rowOf(const QString &proxyId) const;
    // Milliseconds of a monotonic clock; tests inject a manual one.
    void setClock(std::function<qint64()> monotonicMs);
    // One tick of the uptime column (the timer calls it every second).
    void tick();

    static QString formatDuration(qint64 seconds);

private:
    struct Row
    {
        QString id;
        qint64 readyAtMs = -1; // when hello arrived, on the clock; -1: not connected
        qint64 uptimeAtReady = 0;
    };

    void onAdded(const QString &id);
    void onRemoved(const QString &id);
    void onChanged(const QString &id);
    void onReady(const QString &id);
    qint64 nowMs() const;

    ProxyRegistry &m_registry;
    QList<Row> m_rows;
    std::function<qint64()> m_clock;
    QElapsedTimer m_elapsed;
    QTimer m_ticker;
};

} // namespace greygate
