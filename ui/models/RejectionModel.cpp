// SPDX-License-Identifier: GPL-3.0-or-later
#include "RejectionModel.h"

#include "EventStreamFollow.h"
#include "client/ProxyRegistry.h"
#include "protocol/RejectionMessages.h"

#include <QDateTime>
#include <QPointer>

namespace greygate {

namespace {

constexpr int kFlushMs = 100;

QString eventText(const QJsonObject &event, const char *key)
{
    // Bounded: a field of the stream is shown in a table cell, not kept whole.
    return event.value(QLatin1String(key)).toString().left(1024);
}

} // namespace

RejectionModel::RejectionModel(ProxyRegistry &registry, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(kFlushMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &RejectionModel::flushLive);
    m_tailTimer.setSingleShot(true);
    m_tailTimer.setInterval(kTailFetchMs);
    connect(&m_tailTimer, &QTimer::timeout, this, [this] {
        const QSet<QString> proxies = std::exchange(m_tailProxies, {});
        for (const QString &id : proxies) {
            auto it = m_cursors.find(id);
            if (it != m_cursors.end() && !it->second.more && !it->second.inFlight)
                fetchPage(id);
        }
    });
    connect(&registry, &ProxyRegistry::eventsReceived, this, &RejectionModel::onEvents);
    connect(&registry, &ProxyRegistry::ready, this, [this](const QString &id) {
        if (!inScope(id))
            return;
        followEvents(m_registry.connection(id));
        auto it = m_cursors.find(id);
        if (it != m_cursors.end() && it->second.offset == 0 && !it->second.inFlight)
            fetchPage(id);
    });
    connect(&registry, &ProxyRegistry::resyncNeeded, this,
            [this](const QString &id) { m_lastEventIds.erase(id); });
    connect(&registry, &ProxyRegistry::proxyAdded, this, [this](const QString &) { reload(); });
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &) { reload(); });
    reload();
}

RejectionModel::~RejectionModel() = default;

void RejectionModel::setScope(const QString &proxyId)
{
    if (proxyId == m_scope)
        return;
    m_scope = proxyId;
    reload();
}

void RejectionModel::setFilter(const Filter &filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    reload();
}

void RejectionModel::setPageSize(int rows)
{
    m_pageSize = std::clamp(rows, 1, int(protocol::RejectionQuery::kMaxLimit));
}

QStringList RejectionModel::proxiesInScope() const
{
    if (m_scope.isEmpty())
        return m_registry.ids();
    return m_registry.connection(m_scope) ? QStringList{m_scope} : QStringList{};
}

bool RejectionModel::inScope(const QString &proxyId) const
{
    return m_cursors.count(proxyId) > 0;
}

// A new query (scope or filter): the rows of the old one mean nothing any more, so one reset.
void RejectionModel::reload()
{
    beginResetModel();
    ++m_generation;
    m_rows.clear();
    m_liveBuffer.clear();
    m_cursors.clear();
    for (const QString &id : proxiesInScope())
        m_cursors.emplace(id, Cursor{});
    endResetModel();
    setInFlight(0);
    for (const QString &id : proxiesInScope())
        fetchPage(id);
}

bool RejectionModel::canFetchMore(const QModelIndex &parent) const
{
    if (parent.isValid())
        return false;
    for (const auto &[id, cursor] : m_cursors) {
        if (cursor.more && !cursor.inFlight)
            return true;
    }
    return false;
}

void RejectionModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid())
        return;
    for (const auto &[id, cursor] : m_cursors) {
        if (cursor.more && !cursor.inFlight)
            fetchPage(id);
    }
}

void RejectionModel::fetchPage(const QString &proxyId)
{
    auto it = m_cursors.find(proxyId);
    ProxyConnection *connection = m_registry.connection(proxyId);
    if (it == m_cursors.end() || !connection ||
        connection->state() != ProxyConnection::State::Connected || it->second.inFlight)
        return;
    followEvents(connection);
    protocol::RejectionQuery query;
    query.from = m_filter.from;
    query.to = m_filter.to;
    query.client = m_filter.client;
    query.sender = m_filter.sender;
    query.recipient = m_filter.recipient;
    query.reason = m_filter.reason;
    query.offset = it->second.offset;
    query.limit = m_pageSize;
    it->second.inFlight = true;
    setInFlight(m_inFlight + 1);
    const quint64 generation = m_generation;
    connection->call(QStringLiteral("rejections.list"), query.toJson(),
                     [this, guard = QPointer<RejectionModel>(this), proxyId,
                      generation](const ProxyConnection::Reply &reply) {
                         if (!guard || generation != m_generation)
                             return;
                         setInFlight(m_inFlight - 1);
                         auto cursor = m_cursors.find(proxyId);
                         if (cursor == m_cursors.end())
                             return;
                         cursor->second.inFlight = false;
                         protocol::ProtocolError error = reply.error;
                         std::optional<protocol::RejectionPage> page;
                         if (reply.ok)
                             page =
                                 protocol::RejectionPage::fromJson(reply.result.toObject(), &error);
                         if (!page) {
                             // Not retried by itself: the view asks again when scrolled, the page
                             // on reload.
                             cursor->second.more = false;
                             m_lastError = error.message;
                             Q_EMIT errorOccurred(proxyId, error.message);
                             return;
                         }
                         cursor->second.offset += page->rows.size();
                         cursor->second.more = page->more && !page->rows.isEmpty();
                         if (!page->rows.isEmpty()) {
                             const int first = int(m_rows.size());
                             beginInsertRows({}, first, first + int(page->rows.size()) - 1);
                             for (const protocol::RejectionRow &r : std::as_const(page->rows)) {
                                 m_rows.append(Row{r.time, proxyId, r.reason, r.client, r.sender,
                                                   r.recipient, r.attempts, r.firstSeen});
                             }
                             endInsertRows();
                         }
                         Q_EMIT pageLoaded();
                     });
}

bool RejectionModel::matches(const Row &row) const
{
    const auto has = [](const QString &field, const QString &filter) {
        return filter.isEmpty() || field.contains(filter, Qt::CaseInsensitive);
    };
    return row.time >= m_filter.from && (m_filter.to == 0 || row.time < m_filter.to) &&
           has(row.client, m_filter.client) && has(row.sender, m_filter.sender) &&
           has(row.recipient, m_filter.recipient) && has(row.reason, m_filter.reason);
}

void RejectionModel::onEvents(const QString &proxyId, const QJsonArray &events)
{
    auto cursor = m_cursors.find(proxyId);
    if (cursor == m_cursors.end())
        return;
    qint64 &lastId = m_lastEventIds[proxyId];
    for (const QJsonValue &value : events) {
        const QJsonObject event = value.toObject();
        const qint64 id = event.value(QStringLiteral("id")).toInteger();
        if (id <= lastId)
            continue; // replayed by a re-subscription from the connection's cursor
        lastId = id;
        const QString type = event.value(QStringLiteral("type")).toString();
        Row row;
        row.time = event.value(QStringLiteral("time")).toInteger();
        row.proxyId = proxyId;
        row.client = eventText(event, "client");
        row.sender = eventText(event, "sender");
        row.recipient = eventText(event, "recipient");
        row.attempts = event.value(QStringLiteral("attempts")).toInteger();
        if (type == u"failedToRetry") {
            // While pages remain, this row comes with the last of them: do not show it twice.
            if (cursor->second.more || cursor->second.inFlight)
                continue;
            row.reason = QStringLiteral("Sender Failed to Retry");
            if (!matches(row))
                continue;
            ++cursor->second.offset; // the server's next page starts after it
        } else if (type == u"attempt" &&
                   event.value(QStringLiteral("outcome")).toString() == u"blocked") {
            // The proxy logs blocked attempts itself (at most one row per triplet and minute):
            // once every page is read, fetch its new rows instead of making one up, so a row
            // is never shown twice nor one shown that the log does not hold.
            row.reason = kBlockedReason;
            if (m_filter.liveBlocked && matches(row) && !cursor->second.more) {
                m_tailProxies.insert(proxyId);
                if (!m_tailTimer.isActive())
                    m_tailTimer.start();
            }
            continue;
        } else {
            continue;
        }
        m_liveBuffer.append(row);
    }
    if (!m_liveBuffer.isEmpty() && !m_flushTimer.isActive())
        m_flushTimer.start();
}

void RejectionModel::flushLive()
{
    if (m_liveBuffer.isEmpty())
        return;
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(m_liveBuffer.size()) - 1);
    m_rows.append(m_liveBuffer);
    endInsertRows();
    m_liveBuffer.clear();
}

void RejectionModel::setInFlight(int count)
{
    const bool was = m_inFlight > 0;
    m_inFlight = qMax(0, count);
    if (was != (m_inFlight > 0))
        Q_EMIT loadingChanged(m_inFlight > 0);
}

int RejectionModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int RejectionModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RejectionModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    if (role != Qt::DisplayRole && role != Qt::UserRole && role != Qt::ToolTipRole)
        return {};
    const Row &row = m_rows.at(index.row());
    const bool raw = role == Qt::UserRole;
    switch (index.column()) {
    case TimeColumn:
        return raw ? QVariant(row.time) : QVariant(QDateTime::fromSecsSinceEpoch(row.time));
    case ProxyColumn: {
        if (raw)
            return row.proxyId;
        const ProxyEndpoint *endpoint = m_registry.endpoint(row.proxyId);
        return endpoint && !endpoint->name.isEmpty() ? endpoint->name : row.proxyId;
    }
    case ReasonColumn:
        return row.reason;
    case ClientColumn:
        return row.client;
    case SenderColumn:
        return raw || !row.sender.isEmpty() ? row.sender : tr("<>");
    case RecipientColumn:
        return row.recipient;
    case AttemptsColumn:
        // A blocked attempt is not counted per triplet: nothing to show.
        return raw || row.attempts > 0 ? QVariant(row.attempts) : QVariant();
    case FirstSeenColumn:
        if (raw)
            return row.firstSeen;
        return row.firstSeen > 0 ? QVariant(QDateTime::fromSecsSinceEpoch(row.firstSeen))
                                 : QVariant();
    default:
        return {};
    }
}

QVariant RejectionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case ProxyColumn:
        return tr("Proxy");
    case ReasonColumn:
        return tr("Reason");
    case ClientColumn:
        return tr("Client");
    case SenderColumn:
        return tr("Sender");
    case RecipientColumn:
        return tr("Recipient");
    case AttemptsColumn:
        return tr("Attempts");
    case FirstSeenColumn:
        return tr("First seen");
    default:
        return {};
    }
}

} // namespace greygate
