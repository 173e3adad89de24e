// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "StatsWindow.h"
#include "protocol/Counters.h"

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QTimer>
#include <functional>
#include <map>

namespace greygate {

class ProxyRegistry;

// The dashboard's time series: one row per bucket of a sliding window ("the last hour" in
// minutes, "the last week" in hours), the six counters of docs/api.md as columns, for one
// proxy or summed over every proxy of the scope. Filled by `stats`, kept live by the event
// stream (each attempt and failedToRetry event counts in its bucket, flushed every 100 ms
// as one dataChanged per span), corrected by a periodic refetch of the last buckets, and
// slid forward as time passes with a row removed at the top and one inserted at the bottom:
// never a reset for a live update. The table and the chart (QVXYModelMapper) are two views
// of this one model, so the time column's display value is a QDateTime the mapper and the
// table both understand; Qt::UserRole holds the raw seconds and counts for sorting.
class StatsSeriesModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        TimeColumn,
        AttemptsColumn,
        DeferredColumn,
        PassedColumn,
        BypassedColumn,
        BlockedColumn,
        FailedToRetryColumn,
        ColumnCount
    };
    using Clock = std::function<qint64()>; // seconds since the epoch

    explicit StatsSeriesModel(ProxyRegistry &registry, QObject *parent = nullptr);
    ~StatsSeriesModel() override;

    // Tests drive time; the default is the system clock.
    void setClock(Clock clock);
    // Empty: every proxy of the registry, summed.
    void setScope(const QString &proxyId);
    QString scope() const { return m_scope; }
    void setWindow(const StatsWindow &window);
    StatsWindow window() const { return m_window; }
    // How often the last buckets are fetched again, to correct what events cannot tell
    // (a proxy's own restart, events lost to a resync).
    void setRefetchInterval(int ms);
    // Fetches the whole window again from every proxy in scope.
    void refresh();

    qint64 firstBucketTime() const { return m_from; }
    protocol::Counters total() const { return m_total; }
    bool isLoading() const { return m_pending > 0; }
    QString lastError() const { return m_lastError; }

    static QString columnTitle(int column);
    static quint64 counterOf(const protocol::Counters &counters, int column);
    // What one event of the stream adds to the counters (docs/api.md, "Events").
    static protocol::Counters countersOfEvent(const QJsonObject &event);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void totalChanged();
    void loadingChanged(bool loading);
    void errorOccurred(const QString &proxyId, const QString &message);

private:
    using Series = QList<protocol::Counters>;

    QStringList proxiesInScope() const;
    bool inScope(const QString &proxyId) const;
    void rebuild();
    void fetch(const QString &proxyId, qint64 from, qint64 to);
    void applyBuckets(const QString &proxyId, qint64 from, qint64 to, const QJsonObject &result);
    void onEvents(const QString &proxyId, const QJsonArray &events);
    void slide();
    void refetchTail();
    void markDirty(int first, int last);
    void flush();
    void recomputeRow(int row);
    void recomputeTotal();
    void setPending(int pending);

    ProxyRegistry &m_registry;
    Clock m_clock;
    QString m_scope;
    StatsWindow m_window;
    qint64 m_from = 0;
    int m_rows = 0;
    std::map<QString, Series> m_series; // per proxy in scope, m_rows each
    std::map<QString, qint64> m_lastEventIds;
    Series m_sum;
    protocol::Counters m_total;
    quint64 m_generation = 0; // answers to an older layout are dropped
    int m_pending = 0;
    QString m_lastError;
    int m_dirtyFirst = -1;
    int m_dirtyLast = -1;
    QTimer m_flushTimer;
    QTimer m_slideTimer;
    QTimer m_refetchTimer;
};

} // namespace greygate
