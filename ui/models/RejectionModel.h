// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QSet>
#include <QTimer>
#include <map>

namespace greygate {

class ProxyRegistry;

// The Rejection Viewer: "Sender Failed to Retry" rows from `rejections.list` of one proxy or
// every proxy of the scope, page by page (fetchMore), oldest first per proxy, filtered by
// the server (time range, substrings). Kept live from the event stream: a `failedToRetry`
// event appends its row once every page is loaded (and moves that proxy's offset, so no row
// comes twice), buffered and inserted every 100 ms in one batch. Blocked Senders' attempts
// (outcome `blocked`) are logged by the proxies as "Blocked Sender" rows: one seen live makes
// the model fetch that proxy's next rows once every page is loaded.
class RejectionModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        TimeColumn,
        ProxyColumn,
        ReasonColumn,
        ClientColumn,
        SenderColumn,
        RecipientColumn,
        AttemptsColumn,
        FirstSeenColumn,
        ColumnCount
    };
    struct Filter
    {
        qint64 from = 0;
        qint64 to = 0; // exclusive; 0: open
        QString client;
        QString sender;
        QString recipient;
        QString reason;
        bool liveBlocked = true; // new "Blocked Sender" rows fetched as blocked attempts occur
        friend bool operator==(const Filter &, const Filter &) = default;
    };
    struct Row
    {
        qint64 time = 0;
        QString proxyId;
        QString reason;
        QString client;
        QString sender;
        QString recipient;
        qint64 attempts = 0;
        qint64 firstSeen = 0; // 0: unknown (a blocked attempt)
    };
    static inline const QString kBlockedReason = QStringLiteral("Blocked Sender");

    explicit RejectionModel(ProxyRegistry &registry, QObject *parent = nullptr);
    ~RejectionModel() override;

    void setScope(const QString &proxyId);
    void setFilter(const Filter &filter);
    Filter filter() const { return m_filter; }
    void setPageSize(int rows); // 1..1000
    void reload();

    bool isLoading() const { return m_inFlight > 0; }
    QString lastError() const { return m_lastError; }
    const Row &rowAt(int row) const { return m_rows.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

Q_SIGNALS:
    void loadingChanged(bool loading);
    void errorOccurred(const QString &proxyId, const QString &message);
    void pageLoaded();

private:
    struct Cursor
    {
        qint64 offset = 0;
        bool more = true;
        bool inFlight = false;
    };

    QStringList proxiesInScope() const;
    bool inScope(const QString &proxyId) const;
    void fetchPage(const QString &proxyId);
    void onEvents(const QString &proxyId, const QJsonArray &events);
    bool matches(const Row &row) const;
    void flushLive();
    void setInFlight(int count);

    ProxyRegistry &m_registry;
    QString m_scope;
    Filter m_filter;
    int m_pageSize = 200;
    quint64 m_generation = 0;
    std::map<QString, Cursor> m_cursors;
    std::map<QString, qint64> m_lastEventIds;
    QList<Row> m_rows;
    QList<Row> m_liveBuffer;
    int m_inFlight = 0;
    QString m_lastError;
    QTimer m_flushTimer;
    // Blocked attempts seen live: the proxies whose log gets its next rows fetched, coalesced.
    static constexpr int kTailFetchMs = 250;
    QTimer m_tailTimer;
    QSet<QString> m_tailProxies;
};

} // namespace greygate
