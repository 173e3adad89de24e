// SPDX-License-Identifier: GPL-3.0-or-later
#include "StatsSeriesModel.h"

#include "EventStreamFollow.h"
#include "client/ProxyRegistry.h"
#include "protocol/StatsRange.h"

#include <QDateTime>
#include <QJsonObject>
#include <QPointer>

namespace greygate {

using protocol::Counters;

namespace {

constexpr int kFlushMs = 100;
constexpr int kSlideMs = 1000;
constexpr int kDefaultRefetchMs = 15'000;

qint64 systemNow()
{
    return QDateTime::currentSecsSinceEpoch();
}

} // namespace

StatsSeriesModel::StatsSeriesModel(ProxyRegistry &registry, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
    , m_clock(systemNow)
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(kFlushMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &StatsSeriesModel::flush);
    m_slideTimer.setInterval(kSlideMs);
    connect(&m_slideTimer, &QTimer::timeout, this, &StatsSeriesModel::slide);
    m_refetchTimer.setInterval(kDefaultRefetchMs);
    connect(&m_refetchTimer, &QTimer::timeout, this, &StatsSeriesModel::refetchTail);

    connect(&registry, &ProxyRegistry::eventsReceived, this, &StatsSeriesModel::onEvents);
    connect(&registry, &ProxyRegistry::ready, this, [this](const QString &id) {
        if (!inScope(id))
            return;
        followEvents(m_registry.connection(id));
        fetch(id, m_from, m_from + qint64(m_rows) * m_window.bucketSeconds());
    });
    // Events were lost: what the server counted is the truth again.
    connect(&registry, &ProxyRegistry::resyncNeeded, this, [this](const QString &id) {
        m_lastEventIds.erase(id); // ids may start again at 1 (a restarted proxy)
        if (inScope(id))
            fetch(id, m_from, m_from + qint64(m_rows) * m_window.bucketSeconds());
    });
    connect(&registry, &ProxyRegistry::proxyAdded, this, [this](const QString &) { rebuild(); });
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        if (m_series.erase(id) == 0)
            return;
        for (int row = 0; row < m_rows; ++row)
            recomputeRow(row);
        markDirty(0, m_rows - 1);
    });
    rebuild();
    m_slideTimer.start();
    m_refetchTimer.start();
}

StatsSeriesModel::~StatsSeriesModel() = default;

void StatsSeriesModel::setClock(Clock clock)
{
    m_clock = clock ? std::move(clock) : Clock(systemNow);
    rebuild();
}

void StatsSeriesModel::setScope(const QString &proxyId)
{
    if (proxyId == m_scope)
        return;
    m_scope = proxyId;
    rebuild();
}

void StatsSeriesModel::setWindow(const StatsWindow &window)
{
    if (window == m_window || window.stepMinutes <= 0 || window.spanSeconds <= 0)
        return;
    m_window = window;
    rebuild();
}

void StatsSeriesModel::setRefetchInterval(int ms)
{
    m_refetchTimer.setInterval(qMax(ms, 100));
}

void StatsSeriesModel::refresh()
{
    const qint64 to = m_from + qint64(m_rows) * m_window.bucketSeconds();
    for (const QString &id : proxiesInScope())
        fetch(id, m_from, to);
}

QStringList StatsSeriesModel::proxiesInScope() const
{
    if (m_scope.isEmpty())
        return m_registry.ids();
    return m_registry.connection(m_scope) ? QStringList{m_scope} : QStringList{};
}

bool StatsSeriesModel::inScope(const QString &proxyId) const
{
    return m_scope.isEmpty() ? m_registry.connection(proxyId) != nullptr : proxyId == m_scope;
}

// A new layout (scope, window, clock): this is not a live update, so one reset.
void StatsSeriesModel::rebuild()
{
    beginResetModel();
    ++m_generation;
    m_rows = m_window.bucketCount();
    m_from = m_window.fromFor(m_clock());
    m_series.clear();
    for (const QString &id : proxiesInScope())
        m_series.emplace(id, Series(m_rows));
    m_sum = Series(m_rows);
    m_total = Counters{};
    m_dirtyFirst = m_dirtyLast = -1;
    endResetModel();
    Q_EMIT totalChanged();
    setPending(0);
    refresh();
}

void StatsSeriesModel::fetch(const QString &proxyId, qint64 from, qint64 to)
{
    ProxyConnection *connection = m_registry.connection(proxyId);
    if (!connection || connection->state() != ProxyConnection::State::Connected || from >= to)
        return; // fetched when it says ready()
    followEvents(connection);
    protocol::StatsQuery query;
    query.from = from;
    query.to = to;
    query.stepMinutes = m_window.stepMinutes;
    const quint64 generation = m_generation;
    setPending(m_pending + 1);
    connection->call(QStringLiteral("stats"), query.toJson(),
                     [this, guard = QPointer<StatsSeriesModel>(this), proxyId, from, to,
                      generation](const ProxyConnection::Reply &reply) {
                         if (!guard || generation != m_generation)
                             return;
                         setPending(m_pending - 1);
                         if (!reply.ok) {
                             m_lastError = reply.error.message;
                             Q_EMIT errorOccurred(proxyId, reply.error.message);
                             return;
                         }
                         applyBuckets(proxyId, from, to, reply.result.toObject());
                     });
}

// The server lists only the buckets with something in them: every bucket of [from, to) is
// replaced, the missing ones by zero.
void StatsSeriesModel::applyBuckets(const QString &proxyId, qint64 from, qint64 to,
                                    const QJsonObject &result)
{
    auto it = m_series.find(proxyId);
    if (it == m_series.end())
        return;
    protocol::ProtocolError error;
    const std::optional<protocol::StatsRange> range =
        protocol::StatsRange::fromJson(result, &error);
    if (!range) {
        m_lastError = QStringLiteral("unreadable stats answer: ") + error.message;
        Q_EMIT errorOccurred(proxyId, m_lastError);
        return;
    }
    const qint64 bucket = m_window.bucketSeconds();
    const int first = int(qMax<qint64>(0, (from - m_from) / bucket));
    const int last = int(qMin<qint64>(m_rows, (to - m_from + bucket - 1) / bucket)) - 1;
    if (first > last)
        return;
    Series &series = it->second;
    for (int row = first; row <= last; ++row)
        series[row] = Counters{};
    for (const protocol::StatsBucket &b : range->buckets) {
        const qint64 offset = b.time - m_from;
        if (offset < 0)
            continue;
        const qint64 row = offset / bucket;
        if (row >= first && row <= last)
            series[int(row)] += b.counters;
    }
    for (int row = first; row <= last; ++row)
        recomputeRow(row);
    markDirty(first, last);
}

Counters StatsSeriesModel::countersOfEvent(const QJsonObject &event)
{
    Counters c;
    const QString type = event.value(QStringLiteral("type")).toString();
    if (type == u"failedToRetry") {
        c.failedToRetry = 1;
        return c;
    }
    if (type != u"attempt")
        return c;
    c.attempts = 1;
    const QString outcome = event.value(QStringLiteral("outcome")).toString();
    if (outcome == u"deferred")
        c.deferred = 1;
    else if (outcome == u"passed" || outcome == u"passedKnown" || outcome == u"whitelisted")
        c.passed = 1;
    else if (outcome == u"bypassed" || outcome == u"outbound")
        c.bypassed = 1;
    else if (outcome == u"blocked")
        c.blocked = 1;
    return c;
}

void StatsSeriesModel::onEvents(const QString &proxyId, const QJsonArray &events)
{
    auto it = m_series.find(proxyId);
    if (it == m_series.end())
        return;
    slide();
    const qint64 bucket = m_window.bucketSeconds();
    qint64 &lastId = m_lastEventIds[proxyId];
    for (const QJsonValue &value : events) {
        const QJsonObject event = value.toObject();
        // Several models share a connection; a re-subscription from its cursor may replay
        // a few events: each is counted once.
        const qint64 id = event.value(QStringLiteral("id")).toInteger();
        if (id <= lastId)
            continue;
        lastId = id;
        const Counters add = countersOfEvent(event);
        if (add.isZero())
            continue;
        const qint64 offset = event.value(QStringLiteral("time")).toInteger(-1) - m_from;
        if (offset < 0 || offset >= qint64(m_rows) * bucket)
            continue; // outside the window (a replay of old events, or a skewed clock)
        const int row = int(offset / bucket);
        it->second[row] += add;
        m_sum[row] += add;
        markDirty(row, row);
    }
}

// Time passed the last bucket: the oldest rows leave at the top, new empty ones come at the
// bottom, each as one remove and one insert.
void StatsSeriesModel::slide()
{
    const qint64 wanted = m_window.fromFor(m_clock());
    if (wanted <= m_from || m_rows == 0)
        return;
    flush();
    const qint64 bucket = m_window.bucketSeconds();
    const int shift = int(qMin<qint64>((wanted - m_from) / bucket, m_rows));
    beginRemoveRows({}, 0, shift - 1);
    for (auto &[id, series] : m_series)
        series.remove(0, shift);
    m_sum.remove(0, shift);
    m_rows -= shift;
    m_from += qint64(shift) * bucket;
    endRemoveRows();
    const int target = m_window.bucketCount();
    beginInsertRows({}, m_rows, target - 1);
    for (auto &[id, series] : m_series)
        series.resize(target);
    m_sum.resize(target);
    m_rows = target;
    m_from = wanted;
    endInsertRows();
    recomputeTotal();
}

void StatsSeriesModel::refetchTail()
{
    slide();
    if (m_rows == 0)
        return;
    const qint64 bucket = m_window.bucketSeconds();
    const qint64 to = m_from + qint64(m_rows) * bucket;
    // Two buckets: events at a bucket's edge may have been counted on the other side.
    const qint64 from = qMax(m_from, to - 2 * bucket);
    for (const QString &id : proxiesInScope())
        fetch(id, from, to);
}

void StatsSeriesModel::recomputeRow(int row)
{
    Counters sum;
    for (const auto &[id, series] : m_series)
        sum += series.at(row);
    m_sum[row] = sum;
}

void StatsSeriesModel::recomputeTotal()
{
    Counters total;
    for (const Counters &c : std::as_const(m_sum))
        total += c;
    if (total != m_total) {
        m_total = total;
        Q_EMIT totalChanged();
    }
}

void StatsSeriesModel::markDirty(int first, int last)
{
    if (first > last)
        return;
    m_dirtyFirst = m_dirtyFirst < 0 ? first : qMin(m_dirtyFirst, first);
    m_dirtyLast = qMax(m_dirtyLast, last);
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void StatsSeriesModel::flush()
{
    m_flushTimer.stop();
    if (m_dirtyFirst < 0)
        return;
    const int first = qMin(m_dirtyFirst, m_rows - 1);
    const int last = qMin(m_dirtyLast, m_rows - 1);
    m_dirtyFirst = m_dirtyLast = -1;
    if (first >= 0 && first <= last) {
        Q_EMIT dataChanged(index(first, AttemptsColumn), index(last, FailedToRetryColumn),
                           {Qt::DisplayRole, Qt::UserRole});
    }
    recomputeTotal();
}

void StatsSeriesModel::setPending(int pending)
{
    const bool was = m_pending > 0;
    m_pending = qMax(0, pending);
    if (was != (m_pending > 0))
        Q_EMIT loadingChanged(m_pending > 0);
}

int StatsSeriesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_rows;
}

int StatsSeriesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

quint64 StatsSeriesModel::counterOf(const Counters &c, int column)
{
    switch (column) {
    case AttemptsColumn:
        return c.attempts;
    case DeferredColumn:
        return c.deferred;
    case PassedColumn:
        return c.passed;
    case BypassedColumn:
        return c.bypassed;
    case BlockedColumn:
        return c.blocked;
    case FailedToRetryColumn:
        return c.failedToRetry;
    default:
        return 0;
    }
}

QVariant StatsSeriesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int row = index.row();
    const qint64 time = m_from + qint64(row) * m_window.bucketSeconds();
    if (index.column() == TimeColumn) {
        if (role == Qt::DisplayRole)
            return QDateTime::fromSecsSinceEpoch(time);
        if (role == Qt::UserRole)
            return time;
        return {};
    }
    if (role == Qt::DisplayRole || role == Qt::UserRole)
        return qint64(counterOf(m_sum.at(row), index.column()));
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QString StatsSeriesModel::columnTitle(int column)
{
    switch (column) {
    case TimeColumn:
        return tr("Time");
    case AttemptsColumn:
        return tr("Attempts");
    case DeferredColumn:
        return tr("Deferred");
    case PassedColumn:
        return tr("Passed");
    case BypassedColumn:
        return tr("Bypassed");
    case BlockedColumn:
        return tr("Blocked");
    case FailedToRetryColumn:
        return tr("Failed to retry");
    default:
        return {};
    }
}

QVariant StatsSeriesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    return columnTitle(section);
}

} // namespace greygate
