// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyRegistry.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QJsonArray>
#include <QTimer>
#include <deque>
#include <vector>

namespace greygate {

// The live attempts table: one row per `attempt` event of every proxy in the registry (and
// one per `failedToRetry`), newest last. Fed by ProxyRegistry::eventsReceived, so the bundled
// engine and remote proxies take one path.
//
// Rows are buffered and flushed every 100 ms with one beginInsertRows per batch (STYLE.md);
// the table is a bounded ring (capacity rows, 50,000 by default): when a batch would exceed
// it, the oldest rows go first with one beginRemoveRows. Paused, the model keeps buffering,
// bounded by the capacity too (what is buffered beyond it would fall out of the ring at once
// anyway); droppedBeforeShown() counts what went that way, and resuming flushes the rest.
//
// Each proxy is subscribed with its connection's cursor, so a reconnect replays what was
// missed and events seen twice are dropped by id. When a proxy says events were lost
// (resyncNeeded: it could not replay them), a gap row is inserted in their place, so the
// table never hides a hole: it reads "events lost (resync)" with the proxy and the time.
class LiveAttemptsModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        Time,
        Proxy,
        Client,
        Sender,
        Recipient,
        Outcome,
        Reason,
        Attempts,
        TripletKey, // the triplet's client part, "why" in its tooltip (docs/spf.md)
        ColumnCount
    };
    enum Role
    {
        ProxyIdRole = Qt::UserRole + 1,
        OutcomeRole, // the outcome's wire name ("deferred", ...; "gap" for a gap row)
        EventIdRole,
        IsGapRole,
        // What a shadow (log-only) policy would have done instead: "greylist", "bypass", or
        // empty when no shadow policy would have decided the attempt.
        ShadowRole,
    };
    enum Shadow : quint8
    {
        NoShadow,
        WouldGreylist,
        WouldBypass,
    };

    static constexpr quint8 kGapOutcome = 9; // the outcome code of a gap row

    struct Row
    {
        qint64 time = 0;
        quint64 eventId = 0;
        qint32 attempts = 0;
        quint16 proxy = 0; // index into m_proxyIds
        quint8 outcome = 0;
        quint8 shadow = NoShadow; // fits beside outcome: rows stay the same size
        QString client;
        QString sender;
        QString recipient;
        QString reason;
        QString key;    // "192.0.2.0/24", "spf:example.com"; empty: no triplet used
        QString keyWhy; // why that key ("SPF pass for example.com via ...")
        bool isGap() const { return outcome == kGapOutcome; }
    };

    static constexpr int kDefaultCapacity = 50'000;
    static constexpr int kFlushIntervalMs = 100;

    explicit LiveAttemptsModel(ProxyRegistry &registry, int capacity = kDefaultCapacity,
                               QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    int capacity() const { return m_capacity; }
    const Row &row(int row) const;
    QString proxyIdOf(int row) const;
    // The row as JSON (the detail pane, an export).
    QJsonObject rowJson(int row) const;

    bool isPaused() const { return m_paused; }
    void setPaused(bool paused);
    int pendingCount() const { return int(m_pending.size()); }
    qint64 droppedBeforeShown() const { return m_droppedBeforeShown; }
    // Removes every row (and what is buffered): the admin's explicit "clear".
    void clear();

    // The event path itself, public so a bench or a test can feed it like the registry does.
    void addEvents(const QString &proxyId, const QJsonArray &events);
    void addGap(const QString &proxyId);
    // Inserts what is buffered now (the timer does it every 100 ms).
    void flush();

    static QStringList outcomeNames(); // wire names, in the order of the outcome codes
    static QString outcomeLabel(const QString &wireName);
    static QString shadowName(quint8 shadow); // "greylist", "bypass" or empty

Q_SIGNALS:
    // After each batch insert: what a view needs to follow the tail.
    void rowsFlushed(int inserted, int removed);
    void pausedChanged(bool paused);

private:
    void follow(const QString &proxyId);
    quint16 proxyIndex(const QString &proxyId);
    const Row &at(int row) const { return m_ring[(m_head + size_t(row)) % m_ring.size()]; }
    void enqueue(Row &&row);

    ProxyRegistry &m_registry;
    int m_capacity;
    std::vector<Row> m_ring; // capacity slots, allocated with the first row
    size_t m_head = 0;       // slot of row 0
    int m_count = 0;
    std::deque<Row> m_pending;
    QTimer m_flushTimer;
    bool m_paused = false;
    qint64 m_droppedBeforeShown = 0;
    QStringList m_proxyIds;                 // index -> registry id (interned per row)
    QHash<QString, quint64> m_lastEventIds; // per proxy: drop what was seen already
};

} // namespace greygate
