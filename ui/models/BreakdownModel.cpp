// SPDX-License-Identifier: GPL-3.0-or-later
#include "BreakdownModel.h"

#include "client/ProxyRegistry.h"

#include <QDateTime>
#include <QJsonArray>
#include <QPointer>
#include <algorithm>

namespace greygate {

namespace {

constexpr int kDefaultRefetchMs = 30'000;
constexpr int kMaxRowsPerAnswer = 1000; // a hostile or broken proxy cannot flood the view
constexpr qsizetype kMaxName = 512;

const char *const kCountKeys[5] = {"attempts", "deferred", "passed", "bypassed", "blocked"};

qint64 systemNow()
{
    return QDateTime::currentSecsSinceEpoch();
}

} // namespace

BreakdownModel::BreakdownModel(ProxyRegistry &registry, Kind kind, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
    , m_kind(kind)
    , m_clock(systemNow)
{
    m_refetchTimer.setInterval(kDefaultRefetchMs);
    connect(&m_refetchTimer, &QTimer::timeout, this, &BreakdownModel::refresh);
    connect(&registry, &ProxyRegistry::ready, this, [this](const QString &id) {
        if (m_scope.isEmpty() || id == m_scope)
            fetch(id);
    });
    connect(&registry, &ProxyRegistry::proxyAdded, this, [this](const QString &) { reload(); });
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        m_unsupported.erase(id);
        if (m_perProxy.erase(id) > 0)
            publish();
    });
    reload();
    m_refetchTimer.start();
}

BreakdownModel::~BreakdownModel() = default;

void BreakdownModel::setClock(Clock clock)
{
    m_clock = clock ? std::move(clock) : Clock(systemNow);
    refresh();
}

void BreakdownModel::setScope(const QString &proxyId)
{
    if (proxyId == m_scope)
        return;
    m_scope = proxyId;
    reload();
}

void BreakdownModel::setWindow(const StatsWindow &window)
{
    if (window == m_window)
        return;
    m_window = window;
    reload();
}

void BreakdownModel::setLimit(int limit)
{
    m_limit = std::clamp(limit, 1, 100);
    refresh();
}

void BreakdownModel::setRefetchInterval(int ms)
{
    m_refetchTimer.setInterval(qMax(ms, 100));
}

QStringList BreakdownModel::proxiesInScope() const
{
    if (m_scope.isEmpty())
        return m_registry.ids();
    return m_registry.connection(m_scope) ? QStringList{m_scope} : QStringList{};
}

void BreakdownModel::reload()
{
    ++m_generation;
    m_perProxy.clear();
    m_unsupported.clear();
    publish();
    refresh();
}

void BreakdownModel::refresh()
{
    for (const QString &id : proxiesInScope())
        fetch(id);
}

void BreakdownModel::fetch(const QString &proxyId)
{
    ProxyConnection *connection = m_registry.connection(proxyId);
    if (!connection || connection->state() != ProxyConnection::State::Connected)
        return;
    const qint64 now = m_clock();
    const qint64 from = m_window.fromFor(now);
    const qint64 to = from + qint64(m_window.bucketCount()) * m_window.bucketSeconds();
    const QJsonObject params{{QStringLiteral("from"), from},
                             {QStringLiteral("to"), to},
                             {QStringLiteral("limit"), m_limit}};
    const quint64 generation = m_generation;
    connection->call(QStringLiteral("stats.breakdown"), params,
                     [this, guard = QPointer<BreakdownModel>(this), proxyId,
                      generation](const ProxyConnection::Reply &reply) {
                         if (!guard || generation != m_generation)
                             return;
                         if (!reply.ok) {
                             // An unknown method is bad_request naming "method" (docs/api.md).
                             const bool unknown =
                                 reply.error.code == protocol::ErrorCode::BadRequest &&
                                 reply.error.field == u"method";
                             setUnsupported(proxyId, unknown);
                             m_lastError = reply.error.message;
                             Q_EMIT errorOccurred(proxyId, reply.error.message);
                             return;
                         }
                         setUnsupported(proxyId, false);
                         QString error;
                         if (!applyResult(proxyId, reply.result.toObject(), &error))
                             Q_EMIT errorOccurred(proxyId, error);
                     });
}

void BreakdownModel::setUnsupported(const QString &proxyId, bool unsupported)
{
    const bool before = isSupported();
    m_unsupported[proxyId] = unsupported;
    if (before != isSupported())
        Q_EMIT supportChanged(isSupported());
}

bool BreakdownModel::isSupported() const
{
    if (m_unsupported.empty())
        return true;
    return std::any_of(m_unsupported.begin(), m_unsupported.end(),
                       [](const auto &entry) { return !entry.second; });
}

bool BreakdownModel::applyResult(const QString &proxyId, const QJsonObject &result, QString *error)
{
    const QString listKey = m_kind == Kind::Policies ? QStringLiteral("policies")
                                                     : QStringLiteral("deferredSenderDomains");
    const QJsonValue list = result.value(listKey);
    const auto fail = [&](const QString &why) {
        m_lastError = QStringLiteral("stats.breakdown: ") + why;
        if (error)
            *error = m_lastError;
        return false;
    };
    if (!list.isArray())
        return fail(listKey + QStringLiteral(" is not a list"));
    const QJsonArray array = list.toArray();
    if (array.size() > kMaxRowsPerAnswer)
        return fail(listKey + QStringLiteral(" has too many rows"));
    Rows rows;
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QJsonObject o = array.at(i).toObject();
        Row row;
        if (m_kind == Kind::Policies) {
            // A decision no policy made is greylisting by default (docs/policies.md).
            row.name = o.value(QStringLiteral("name")).toString();
            if (row.name.isEmpty())
                row.name = o.value(QStringLiteral("policy")).toString();
            if (row.name.isEmpty())
                row.name = tr("Default (no policy)");
        } else {
            row.name = o.value(QStringLiteral("domain")).toString();
            if (row.name.isEmpty())
                row.name = tr("(null sender)");
        }
        row.name.truncate(kMaxName);
        for (int c = 0; c < 5; ++c) {
            const QJsonValue v = o.value(QLatin1String(kCountKeys[c]));
            if (!v.isUndefined() && (!v.isDouble() || v.toDouble() < 0))
                return fail(QStringLiteral("%1[%2].%3 is not a count")
                                .arg(listKey)
                                .arg(i)
                                .arg(QLatin1String(kCountKeys[c])));
            row.counts[c] = v.toInteger();
        }
        rows.append(row);
    }
    m_perProxy[proxyId] = std::move(rows);
    publish();
    return true;
}

// Merges the proxies' rows by name, sorts by the shown figure and replaces the rows in place:
// rows removed or inserted at the end, the others changed, so a refetch is no reset.
void BreakdownModel::publish()
{
    std::map<QString, Row> merged;
    for (const auto &[id, rows] : m_perProxy) {
        for (const Row &row : rows) {
            Row &into = merged[row.name];
            into.name = row.name;
            for (int c = 0; c < 5; ++c)
                into.counts[c] += row.counts[c];
        }
    }
    Rows next;
    next.reserve(qsizetype(merged.size()));
    for (auto &[name, row] : merged)
        next.append(std::move(row));
    // Policies by attempts, domains by deferrals (counts: attempts, deferred, ...).
    const int key = m_kind == Kind::Policies ? 0 : 1;
    std::stable_sort(next.begin(), next.end(), [key](const Row &a, const Row &b) {
        return a.counts[key] != b.counts[key] ? a.counts[key] > b.counts[key] : a.name < b.name;
    });
    if (m_kind == Kind::SenderDomains && next.size() > m_limit)
        next.resize(m_limit);

    const int before = int(m_rows.size());
    const int after = int(next.size());
    if (after < before) {
        beginRemoveRows({}, after, before - 1);
        m_rows.resize(after);
        endRemoveRows();
    }
    const int common = qMin(before, after);
    for (int i = 0; i < common; ++i)
        m_rows[i] = next.at(i);
    if (common > 0)
        Q_EMIT dataChanged(index(0, 0), index(common - 1, columnCount() - 1),
                           {Qt::DisplayRole, Qt::UserRole});
    if (after > before) {
        beginInsertRows({}, before, after - 1);
        for (int i = before; i < after; ++i)
            m_rows.append(next.at(i));
        endInsertRows();
    }
    Q_EMIT refreshed();
}

int BreakdownModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int BreakdownModel::columnCount(const QModelIndex &parent) const
{
    if (parent.isValid())
        return 0;
    return m_kind == Kind::Policies ? BlockedColumn + 1 : 2;
}

QVariant BreakdownModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    if (index.column() == NameColumn) {
        // The tooltip: the whole name where the column is too narrow for it.
        const bool text =
            role == Qt::DisplayRole || role == Qt::UserRole || role == Qt::ToolTipRole;
        return text ? QVariant(row.name) : QVariant();
    }
    // The domains' second column is the deferred count.
    const int column = m_kind == Kind::Policies ? index.column() : DeferredColumn;
    if (role == Qt::DisplayRole || role == Qt::UserRole)
        return row.counts[column - AttemptsColumn];
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant BreakdownModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (m_kind == Kind::SenderDomains)
        return section == 0 ? tr("Sender domain") : tr("Deferred");
    switch (section) {
    case NameColumn:
        return tr("Policy");
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
    default:
        return {};
    }
}

} // namespace greygate
