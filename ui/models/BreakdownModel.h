// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "StatsWindow.h"

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QTimer>
#include <functional>
#include <map>

namespace greygate {

class ProxyRegistry;

// The dashboard's breakdowns from `stats.breakdown` over a sliding window: decisions per
// policy (which policy decided, and how), or the sender domains deferred most. One proxy, or
// every proxy of the scope merged by policy name or domain. Refetched periodically: the
// event stream does not say which policy decided. A proxy without `stats.breakdown` (older
// than the API that added it) answers bad_request on the method: the model says so through
// isSupported() rather than showing an empty table as if nothing happened.
class BreakdownModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum class Kind
    {
        Policies,
        SenderDomains,
    };
    enum Column
    {
        NameColumn,
        AttemptsColumn, // Policies only, as the four below
        DeferredColumn, // SenderDomains: the only count
        PassedColumn,
        BypassedColumn,
        BlockedColumn,
    };
    using Clock = std::function<qint64()>;

    BreakdownModel(ProxyRegistry &registry, Kind kind, QObject *parent = nullptr);
    ~BreakdownModel() override;

    Kind kind() const { return m_kind; }
    void setClock(Clock clock);
    void setScope(const QString &proxyId);
    void setWindow(const StatsWindow &window);
    void setLimit(int limit); // top N rows (domains); 1..100
    void setRefetchInterval(int ms);
    void refresh();

    // Takes one proxy's `stats.breakdown` answer; false with *error when it is malformed.
    bool applyResult(const QString &proxyId, const QJsonObject &result, QString *error = nullptr);
    // False once every proxy in scope answered that it does not know `stats.breakdown`.
    bool isSupported() const;
    QString lastError() const { return m_lastError; }
    // The column holding the figure a chart shows (attempts per policy, deferred per domain).
    int valueColumn() const { return m_kind == Kind::Policies ? AttemptsColumn : 1; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void supportChanged(bool supported);
    void errorOccurred(const QString &proxyId, const QString &message);
    void refreshed();

private:
    struct Row
    {
        QString name;
        qint64 counts[5] = {}; // attempts, deferred, passed, bypassed, blocked
    };
    using Rows = QList<Row>;

    QStringList proxiesInScope() const;
    void reload();
    void fetch(const QString &proxyId);
    void publish();
    void setUnsupported(const QString &proxyId, bool unsupported);

    ProxyRegistry &m_registry;
    Kind m_kind;
    Clock m_clock;
    QString m_scope;
    StatsWindow m_window;
    int m_limit = 10;
    quint64 m_generation = 0;
    std::map<QString, Rows> m_perProxy;
    std::map<QString, bool> m_unsupported;
    Rows m_rows;
    QString m_lastError;
    QTimer m_refetchTimer;
};

} // namespace greygate
