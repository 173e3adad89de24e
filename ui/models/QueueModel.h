// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyRegistry.h"
#include "protocol/QueueMessages.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>
#include <QTimer>
#include <functional>

namespace greygate {

// One proxy's greylist queue, from `queue.list`, page by page (canFetchMore/fetchMore, like
// Qt's fetchmore example): filters and sort are the server's, so a million entries never
// cross the wire at once. Two countdown columns (until a retry passes, until the window
// closes) tick once a second on an injectable clock, with one dataChanged over those two
// columns only. release/remove/permit call the API and update or remove the row when the
// proxy has done it; failures come back through actionFailed(). Queue events (someone else
// released a triplet, a window closed) and attempts on a loaded triplet refresh its row. A
// first deferral is read and inserted where the proxy's order puts it among the loaded rows
// (at the top in the default newest-first order); past the last loaded row it comes with
// the page it belongs to.
class QueueModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Client,
        Sender,
        Recipient,
        State,
        Attempts,
        FirstSeen,
        LastSeen,
        PassIn,    // countdown to passAt (deferred)
        ExpiresIn, // countdown to expiresAt
        ColumnCount
    };
    enum Role
    {
        KeyRole = Qt::UserRole + 1, // "client\nsender\nrecipient"
        StateRole,                  // "deferred" / "passed"
    };

    struct Filter
    {
        QString state = QStringLiteral("any"); // "any", "deferred", "passed"
        QString client;
        QString sender;
        QString recipient;
        QString domain;
        bool operator==(const Filter &) const = default;
    };

    static constexpr int kDefaultPageSize = 200;

    explicit QueueModel(ProxyRegistry &registry, QObject *parent = nullptr);

    // The proxy whose queue is shown (empty: none); reloads.
    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }
    void setFilter(const Filter &filter);
    Filter filter() const { return m_filter; }
    // Server-side sort: a column (Client..ExpiresIn) and an order. The view's header calls
    // sort(); this model re-asks the proxy from the first page.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    void setPageSize(int rows); // 1..1000
    int pageSize() const { return m_pageSize; }
    // Seconds since the epoch, for the countdowns; tests inject a manual clock.
    void setClock(std::function<qint64()> nowSeconds);
    qint64 now() const;

    // Starts again from the first page (keeps filter and sort).
    void reload();
    qint64 total() const { return m_total; } // entries matching the filter on the proxy
    bool isLoading() const { return m_fetching; }
    // More changed on the proxy than this model could follow row by row: reload() to see it.
    bool isOutdated() const { return m_outdated; }
    QString lastError() const { return m_lastError; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    const protocol::QueueEntry &entry(int row) const { return m_rows.at(row); }
    int rowOf(const protocol::TripletRef &key) const;

    // Admin actions on a row (the row's triplet is captured: rows may move meanwhile).
    void release(int row);
    void remove(int row); // queue.delete
    void permit(int row); // the sender to Permitted Senders, the triplet removed

    // Re-reads the countdown columns (the timer calls it every second).
    void tick();

    static QString formatCountdown(qint64 seconds);

Q_SIGNALS:
    void loadingChanged(bool loading);
    void totalChanged(qint64 total);
    void pageLoaded(qint64 offset, int rows);
    void loadFailed(const QString &message);
    void outdatedChanged(bool outdated);
    // action: "release", "delete", "permit"
    void actionDone(const QString &action, const greygate::protocol::TripletRef &triplet);
    void actionFailed(const QString &action, const greygate::protocol::TripletRef &triplet,
                      const QString &message);

private:
    static QString keyOf(const QString &client, const QString &sender, const QString &recipient);
    static QString keyOf(const protocol::QueueEntry &e);
    static QString pairOf(const QString &sender, const QString &recipient);
    void setOutdated(bool outdated);
    void requestPage(qint64 offset);
    void onPage(quint64 generation, qint64 offset, const protocol::QueuePage &page);
    void act(const QString &action, int row);
    void removeRow(const protocol::TripletRef &key);
    void onEvents(const QString &proxyId, const QJsonArray &events);
    struct Refresh
    {
        protocol::TripletRef key;
        bool mayInsert = false; // a first sight: shown when it matches and belongs in view
    };
    void refreshSoon(const protocol::TripletRef &key, bool mayInsert = false);
    void sendRefreshes();
    void applyRefresh(const Refresh &refresh, const QList<protocol::QueueEntry> &found);
    bool matchesFilter(const protocol::QueueEntry &e) const;
    bool sortsBefore(const protocol::QueueEntry &a, const protocol::QueueEntry &b) const;
    void insertNew(const protocol::QueueEntry &e);
    void setFetching(bool fetching);
    void setTotal(qint64 total);

    ProxyRegistry &m_registry;
    QString m_proxyId;
    Filter m_filter;
    QString m_sortKey = QStringLiteral("lastSeen");
    bool m_descending = true;
    int m_pageSize = kDefaultPageSize;
    QList<protocol::QueueEntry> m_rows;
    QSet<QString> m_keys;        // of the loaded rows: pages read while the queue moves may overlap
    QHash<QString, int> m_pairs; // sender+recipient of the loaded rows: attempts to follow
    bool m_outdated = false;
    qint64 m_total = 0;
    qint64 m_nextOffset = 0; // the server offset of the next page
    bool m_fetching = false;
    bool m_loaded = false;    // the first page came
    quint64 m_generation = 0; // answers to an older query are dropped
    QString m_lastError;
    std::function<qint64()> m_clock;
    QTimer m_ticker;
    QHash<QString, Refresh> m_refresh; // rows to read again, bounded
    QTimer m_refreshTimer;
    int m_refreshesInFlight = 0;
};

} // namespace greygate
