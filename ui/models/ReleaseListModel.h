// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"
#include "ReleaseRequest.h"

#include <QTimer>
#include <functional>

namespace greygate {

class ProxyRegistry;

struct ReleaseRow
{
    qint64 id = 0; // the release's policy id
    QString kind;  // "triplet", "sender", "domain", "expect"
    QString client;
    QString sender;
    QString domain;
    QString recipient;
    QString reason;
    QString who;
    qint64 createdAt = 0;
    qint64 until = 0;
    QString key() const { return QString::number(id); }
    // "a@b.example -> c@corp.example", what the release lets through
    QString subject() const;
    bool operator==(const ReleaseRow &) const = default;
};

// One proxy's active timed releases and expectations (`release.list`), soonest end first:
// who let what through, when, why, until when, and the time left (a countdown on an
// injectable clock; only that column is signalled each second). Any policy change the proxy
// reports re-reads the list (a release created, revoked or expired by greygated, on this
// console or another), applied without a reset. create() and revoke() go through the API.
class ReleaseListModel : public KeyedTableModel<ReleaseRow>
{
    Q_OBJECT

public:
    enum Column
    {
        Kind,
        Subject,
        Reason,
        Who,
        Created,
        Until,
        Remaining,
        ColumnCount
    };

    explicit ReleaseListModel(ProxyRegistry &registry, QObject *parent = nullptr);

    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }
    void reload();
    bool isLoading() const { return m_loading; }
    QString lastError() const { return m_lastError; }
    // Seconds since the epoch, for the countdowns; tests inject a manual clock.
    void setClock(std::function<qint64()> nowSeconds);
    qint64 now() const;
    // Re-reads the Remaining column (the timer calls it every second).
    void tick();

    void create(const ReleaseRequest &request);
    void revoke(int row);

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    static QString formatRemaining(qint64 seconds);
    static QString kindLabel(const QString &kind);

Q_SIGNALS:
    void loaded();
    void loadFailed(const QString &message);
    void changeDone(const QString &message);
    void changeFailed(const QString &message);

private:
    ProxyRegistry &m_registry;
    QString m_proxyId;
    std::function<qint64()> m_now;
    QTimer m_reloadTimer;
    QTimer m_tickTimer;
    quint64 m_generation = 0;
    bool m_loading = false;
    QString m_lastError;
};

} // namespace greygate
