// SPDX-License-Identifier: GPL-3.0-or-later
#include "QueueModel.h"

#include "ProxyCalls.h"

#include <QDateTime>
#include <QJsonArray>

namespace greygate {

using protocol::QueueEntry;
using protocol::TripletRef;

namespace {

// Rows read again after an event. Each read walks the proxy's whole queue (tens of ms for a
// million), and the connection allows 100 requests a second for every page of the console:
// at most one read per tick, four a second, however busy the proxy is. Beyond the bounded
// backlog the model says it is outdated (the page offers a reload) instead of hammering it.
constexpr int kMaxQueuedRefreshes = 64;
constexpr int kMaxRefreshesInFlight = 2;
constexpr int kRefreshIntervalMs = 250;

QString sortKeyOf(int column)
{
    switch (column) {
    case QueueModel::Client:
        return QStringLiteral("client");
    case QueueModel::Sender:
        return QStringLiteral("sender");
    case QueueModel::Recipient:
        return QStringLiteral("recipient");
    case QueueModel::Attempts:
        return QStringLiteral("attempts");
    case QueueModel::FirstSeen:
        return QStringLiteral("firstSeen");
    case QueueModel::LastSeen:
        return QStringLiteral("lastSeen");
    case QueueModel::PassIn:
        return QStringLiteral("passAt");
    case QueueModel::ExpiresIn:
        return QStringLiteral("expiresAt");
    default:
        return QString(); // the proxy cannot sort on it
    }
}

QString formatTime(qint64 t)
{
    return QDateTime::fromSecsSinceEpoch(t).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

} // namespace

QueueModel::QueueModel(ProxyRegistry &registry, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
{
    m_ticker.setInterval(1000);
    connect(&m_ticker, &QTimer::timeout, this, &QueueModel::tick);
    m_ticker.start();
    m_refreshTimer.setInterval(kRefreshIntervalMs);
    connect(&m_refreshTimer, &QTimer::timeout, this, &QueueModel::sendRefreshes);
    connect(&registry, &ProxyRegistry::eventsReceived, this, &QueueModel::onEvents);
    // Back after a loss, or told that events were lost: what is loaded may be out of date.
    connect(&registry, &ProxyRegistry::ready, this, [this](const QString &id) {
        if (id == m_proxyId)
            reload();
    });
    connect(&registry, &ProxyRegistry::resyncNeeded, this, [this](const QString &id) {
        if (id == m_proxyId)
            reload();
    });
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        if (id == m_proxyId)
            setProxyId(QString());
    });
}

void QueueModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId && m_loaded)
        return;
    m_proxyId = proxyId;
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    reload();
}

void QueueModel::setFilter(const Filter &filter)
{
    if (filter == m_filter)
        return;
    m_filter = filter;
    reload();
}

void QueueModel::sort(int column, Qt::SortOrder order)
{
    const QString key = sortKeyOf(column);
    if (key.isEmpty())
        return;
    const bool descending = order == Qt::DescendingOrder;
    if (key == m_sortKey && descending == m_descending)
        return;
    m_sortKey = key;
    m_descending = descending;
    reload();
}

void QueueModel::setPageSize(int rows)
{
    m_pageSize = std::clamp(rows, 1, int(protocol::QueueQuery::kMaxLimit));
}

void QueueModel::setClock(std::function<qint64()> nowSeconds)
{
    m_clock = std::move(nowSeconds);
}

qint64 QueueModel::now() const
{
    return m_clock ? m_clock() : QDateTime::currentSecsSinceEpoch();
}

void QueueModel::setFetching(bool fetching)
{
    if (fetching == m_fetching)
        return;
    m_fetching = fetching;
    Q_EMIT loadingChanged(fetching);
}

void QueueModel::setTotal(qint64 total)
{
    if (total == m_total)
        return;
    m_total = total;
    Q_EMIT totalChanged(total);
}

void QueueModel::reload()
{
    // A new query (another proxy, filter or sort) is a new table: a reset is right here,
    // unlike for the live updates below, which change rows in place.
    ++m_generation;
    beginResetModel();
    m_rows.clear();
    m_keys.clear();
    m_pairs.clear();
    m_refresh.clear();
    setOutdated(false);
    m_nextOffset = 0;
    m_loaded = false;
    endResetModel();
    setTotal(0);
    setFetching(false);
    if (m_proxyId.isEmpty())
        return;
    requestPage(0);
}

void QueueModel::requestPage(qint64 offset)
{
    protocol::QueueQuery q;
    q.state = m_filter.state;
    q.client = m_filter.client;
    q.sender = m_filter.sender;
    q.recipient = m_filter.recipient;
    q.domain = m_filter.domain;
    q.sort = m_sortKey;
    q.descending = m_descending;
    q.offset = offset;
    q.limit = m_pageSize;
    setFetching(true);
    const quint64 generation = m_generation;
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("queue.list"), q.toJson(), this,
                     [this, generation, offset](const ProxyConnection::Reply &r) {
                         if (generation != m_generation)
                             return; // an answer to a query the admin has replaced
                         protocol::ProtocolError error;
                         std::optional<protocol::QueuePage> page;
                         if (r.ok)
                             page = protocol::QueuePage::fromJson(r.result.toObject(), &error);
                         else
                             error = r.error;
                         if (!page) {
                             setFetching(false);
                             m_lastError =
                                 tr("Cannot read the queue: %1").arg(ProxyCalls::describe(error));
                             Q_EMIT loadFailed(m_lastError);
                             return;
                         }
                         onPage(generation, offset, *page);
                     });
}

void QueueModel::onPage(quint64, qint64 offset, const protocol::QueuePage &page)
{
    m_lastError.clear();
    m_loaded = true;
    m_nextOffset = offset + page.entries.size();
    // The queue moves between pages (offsets shift as entries come and go): an entry seen
    // on an earlier page is not shown twice.
    QList<QueueEntry> fresh;
    fresh.reserve(page.entries.size());
    for (const QueueEntry &e : page.entries) {
        const QString key = keyOf(e);
        if (m_keys.contains(key))
            continue;
        m_keys.insert(key);
        ++m_pairs[pairOf(e.sender, e.recipient)];
        fresh.append(e);
    }
    setFetching(false);
    // A short page means the end, whatever total said when the query began.
    setTotal(page.entries.size() < m_pageSize ? qint64(m_rows.size() + fresh.size())
                                              : std::max(page.total, qint64(m_rows.size())));
    if (!fresh.isEmpty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(fresh.size()) - 1); // last = first + n - 1
        m_rows.append(fresh);
        endInsertRows();
    }
    Q_EMIT pageLoaded(offset, int(fresh.size()));
    // A page of rows seen already (the queue moved) inserts nothing, so no view would ask
    // again: go on to the next one (each step moves the offset on by a page).
    if (fresh.isEmpty() && canFetchMore({}))
        fetchMore({});
}

bool QueueModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_loaded && !m_fetching && m_nextOffset < m_total;
}

void QueueModel::fetchMore(const QModelIndex &parent)
{
    if (canFetchMore(parent))
        requestPage(m_nextOffset);
}

int QueueModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int QueueModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString QueueModel::keyOf(const QString &client, const QString &sender, const QString &recipient)
{
    return client + u'\n' + sender + u'\n' + recipient;
}

QString QueueModel::keyOf(const QueueEntry &e)
{
    return keyOf(e.client, e.sender, e.recipient);
}

QString QueueModel::pairOf(const QString &sender, const QString &recipient)
{
    return sender + u'\n' + recipient;
}

void QueueModel::setOutdated(bool outdated)
{
    if (outdated == m_outdated)
        return;
    m_outdated = outdated;
    Q_EMIT outdatedChanged(outdated);
}

int QueueModel::rowOf(const TripletRef &key) const
{
    if (!m_keys.contains(keyOf(key.client, key.sender, key.recipient)))
        return -1;
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        const QueueEntry &e = m_rows.at(i);
        if (e.client == key.client && e.sender == key.sender && e.recipient == key.recipient)
            return int(i);
    }
    return -1;
}

QString QueueModel::formatCountdown(qint64 seconds)
{
    if (seconds <= 0)
        return tr("now");
    const qint64 d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
                 s = seconds % 60;
    if (d > 0)
        return tr("%1 d %2 h").arg(d).arg(h);
    if (h > 0)
        return tr("%1 h %2 min").arg(h).arg(m);
    if (m > 0)
        return tr("%1 min %2 s").arg(m).arg(s, 2, 10, QLatin1Char('0'));
    return tr("%1 s").arg(s);
}

void QueueModel::tick()
{
    if (m_rows.isEmpty())
        return;
    // The countdowns only: one span over the two adjacent columns.
    Q_EMIT dataChanged(index(0, PassIn), index(int(m_rows.size()) - 1, ExpiresIn),
                       {Qt::DisplayRole, Qt::UserRole});
}

QVariant QueueModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QueueEntry &e = m_rows.at(index.row());
    const bool deferred = e.state == u"deferred";
    if (role == KeyRole)
        return keyOf(e);
    if (role == StateRole)
        return e.state;
    if (role == Qt::UserRole) { // raw values to sort on
        switch (Column(index.column())) {
        case Attempts:
            return e.attempts;
        case FirstSeen:
            return e.firstSeen;
        case LastSeen:
            return e.lastSeen;
        case PassIn:
            return deferred ? e.passAt - now() : qint64(0);
        case ExpiresIn:
            return e.expiresAt - now();
        default:
            role = Qt::DisplayRole;
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == PassIn && deferred)
            return tr("A retry from %1 passes").arg(formatTime(e.passAt));
        if (index.column() == ExpiresIn)
            return deferred
                       ? tr("Without a retry by %1 the sender failed to retry")
                             .arg(formatTime(e.expiresAt))
                       : tr("Greylisted again after %1 without mail").arg(formatTime(e.expiresAt));
        role = Qt::DisplayRole;
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(index.column())) {
    case Client:
        return e.client;
    case Sender:
        return e.sender.isEmpty() ? QStringLiteral("<>") : e.sender;
    case Recipient:
        return e.recipient;
    case State:
        return deferred ? tr("Deferred") : tr("Passed");
    case Attempts:
        return e.attempts;
    case FirstSeen:
        return formatTime(e.firstSeen);
    case LastSeen:
        return formatTime(e.lastSeen);
    case PassIn:
        return deferred ? formatCountdown(e.passAt - now()) : QString();
    case ExpiresIn:
        return e.expiresAt - now() > 0 ? formatCountdown(e.expiresAt - now()) : tr("expired");
    case ColumnCount:
        break;
    }
    return {};
}

QVariant QueueModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Client:
        return tr("Client");
    case Sender:
        return tr("Sender");
    case Recipient:
        return tr("Recipient");
    case State:
        return tr("State");
    case Attempts:
        return tr("Attempts");
    case FirstSeen:
        return tr("First seen");
    case LastSeen:
        return tr("Last seen");
    case PassIn:
        return tr("Retry passes in");
    case ExpiresIn:
        return tr("Expires in");
    case ColumnCount:
        break;
    }
    return {};
}

void QueueModel::release(int row)
{
    act(QStringLiteral("release"), row);
}

void QueueModel::remove(int row)
{
    act(QStringLiteral("delete"), row);
}

void QueueModel::permit(int row)
{
    act(QStringLiteral("permit"), row);
}

void QueueModel::act(const QString &action, int row)
{
    if (row < 0 || row >= m_rows.size())
        return;
    const QueueEntry &e = m_rows.at(row);
    const TripletRef key{e.client, e.sender, e.recipient};
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("queue.") + action, key.toJson(), this,
                     [this, action, key](const ProxyConnection::Reply &r) {
                         if (!r.ok) {
                             // Already gone on the proxy: the row was out of date; drop it too.
                             if (r.error.code == protocol::ErrorCode::NotFound)
                                 removeRow(key);
                             Q_EMIT actionFailed(action, key, ProxyCalls::describe(r.error));
                             return;
                         }
                         if (action == u"release") {
                             const int at = rowOf(key);
                             if (at >= 0) {
                                 m_rows[at].state = QStringLiteral("passed");
                                 Q_EMIT dataChanged(
                                     index(at, 0), index(at, ColumnCount - 1),
                                     {Qt::DisplayRole, Qt::UserRole, Qt::ToolTipRole, StateRole});
                             }
                             refreshSoon(key); // the new expiry is the proxy's to tell
                         } else {
                             removeRow(key);
                         }
                         Q_EMIT actionDone(action, key);
                     });
}

void QueueModel::removeRow(const TripletRef &key)
{
    const int row = rowOf(key);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    m_keys.remove(keyOf(key.client, key.sender, key.recipient));
    const QString pair = pairOf(key.sender, key.recipient);
    if (--m_pairs[pair] <= 0)
        m_pairs.remove(pair);
    endRemoveRows();
    // It was before the next page's offset: the next page starts one earlier.
    m_nextOffset = std::max<qint64>(0, m_nextOffset - 1);
    setTotal(std::max<qint64>(0, m_total - 1));
}

void QueueModel::onEvents(const QString &proxyId, const QJsonArray &events)
{
    if (proxyId != m_proxyId || !m_loaded)
        return;
    for (const QJsonValue &value : events) {
        const QJsonObject e = value.toObject();
        const QString type = e.value(QStringLiteral("type")).toString();
        const TripletRef key{e.value(QStringLiteral("client")).toString(),
                             e.value(QStringLiteral("sender")).toString(),
                             e.value(QStringLiteral("recipient")).toString()};
        if (type == u"queue" || type == u"failedToRetry") {
            // Normalised keys, as listed.
            const QString action = e.value(QStringLiteral("action")).toString();
            if (type == u"failedToRetry" || action == u"queue.delete" || action == u"queue.permit")
                removeRow(key);
            else if (rowOf(key) >= 0)
                refreshSoon(key);
        } else if (type == u"attempt") {
            // The address as the MTA sent it; the proxy's client filter takes an address and
            // finds its network's entry. Only rows loaded here are read again, and first
            // sights where they would be in view.
            const TripletRef lower{key.client, key.sender.toLower(), key.recipient.toLower()};
            const bool loaded = m_pairs.contains(pairOf(lower.sender, lower.recipient));
            const bool firstSight = e.value(QStringLiteral("outcome")).toString() == u"deferred" &&
                                    e.value(QStringLiteral("attempts")).toInteger() == 1;
            if (loaded)
                refreshSoon(lower);
            else if (firstSight)
                refreshSoon(lower, true);
        }
    }
}

void QueueModel::refreshSoon(const TripletRef &key, bool mayInsert)
{
    if (m_refresh.size() >= kMaxQueuedRefreshes) {
        setOutdated(true); // bounded: the admin's reload reads everything again
        return;
    }
    m_refresh.insert(keyOf(key.client, key.sender, key.recipient), Refresh{key, mayInsert});
    if (!m_refreshTimer.isActive())
        m_refreshTimer.start();
}

void QueueModel::sendRefreshes()
{
    if (!m_refresh.isEmpty() && m_refreshesInFlight < kMaxRefreshesInFlight) {
        const auto it = m_refresh.begin();
        const Refresh refresh = it.value();
        const TripletRef &key = refresh.key;
        m_refresh.erase(it);
        protocol::QueueQuery q;
        q.client = key.client;
        q.sender = key.sender;
        q.recipient = key.recipient;
        q.limit = 50;
        ++m_refreshesInFlight;
        const quint64 generation = m_generation;
        ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("queue.list"), q.toJson(), this,
                         [this, refresh, generation](const ProxyConnection::Reply &r) {
                             --m_refreshesInFlight;
                             if (generation != m_generation || !r.ok)
                                 return;
                             protocol::ProtocolError error;
                             const std::optional<protocol::QueuePage> page =
                                 protocol::QueuePage::fromJson(r.result.toObject(), &error);
                             if (page)
                                 applyRefresh(refresh, page->entries);
                         });
    }
    if (m_refresh.isEmpty())
        m_refreshTimer.stop();
}

void QueueModel::applyRefresh(const Refresh &refresh, const QList<QueueEntry> &found)
{
    const TripletRef &key = refresh.key;
    bool sawKey = false;
    for (const QueueEntry &e : found) {
        // Substring filters: keep exact matches only.
        if (e.sender != key.sender || e.recipient != key.recipient)
            continue;
        if (e.client == key.client)
            sawKey = true;
        const int row = rowOf(TripletRef{e.client, e.sender, e.recipient});
        if (row < 0) {
            if (refresh.mayInsert && matchesFilter(e))
                insertNew(e);
            continue;
        }
        m_rows[row] = e;
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1),
                           {Qt::DisplayRole, Qt::UserRole, Qt::ToolTipRole, StateRole});
    }
    // Asked by its exact key and not there any more: expired or deleted meanwhile.
    if (!sawKey && !refresh.mayInsert && rowOf(key) >= 0)
        removeRow(key);
}

bool QueueModel::matchesFilter(const QueueEntry &e) const
{
    // The proxy's rules (docs/api.md, queue.list), for one entry it just gave us. A client
    // filter names a network the console cannot evaluate here: such a view waits for reload.
    if (!m_filter.client.isEmpty())
        return false;
    if (m_filter.state != u"any" && m_filter.state != e.state)
        return false;
    if (!e.sender.contains(m_filter.sender.toLower()) ||
        !e.recipient.contains(m_filter.recipient.toLower()))
        return false;
    if (!m_filter.domain.isEmpty()) {
        const QString domain = m_filter.domain.toLower();
        const auto domainOf = [](const QString &address) {
            return address.mid(address.lastIndexOf(u'@') + 1);
        };
        if (domainOf(e.sender) != domain && domainOf(e.recipient) != domain)
            return false;
    }
    return true;
}

bool QueueModel::sortsBefore(const QueueEntry &a, const QueueEntry &b) const
{
    // The proxy's order (queue.list): the sort key, then the whole key to break ties.
    const auto number = [this](const QueueEntry &e) -> qint64 {
        if (m_sortKey == u"attempts")
            return e.attempts;
        if (m_sortKey == u"firstSeen")
            return e.firstSeen;
        if (m_sortKey == u"passAt")
            return e.passAt;
        if (m_sortKey == u"expiresAt")
            return e.expiresAt;
        return e.lastSeen;
    };
    int c = 0;
    if (m_sortKey == u"client")
        c = a.client.compare(b.client);
    else if (m_sortKey == u"sender")
        c = a.sender.compare(b.sender);
    else if (m_sortKey == u"recipient")
        c = a.recipient.compare(b.recipient);
    else
        c = number(a) < number(b) ? -1 : number(a) > number(b) ? 1 : 0;
    if (c == 0)
        c = keyOf(a).compare(keyOf(b));
    return m_descending ? c > 0 : c < 0;
}

void QueueModel::insertNew(const QueueEntry &e)
{
    int row = 0;
    while (row < m_rows.size() && !sortsBefore(e, m_rows.at(row)))
        ++row;
    // After the last loaded row while more pages wait on the proxy: it belongs to one of
    // them, and will come with it.
    if (row == m_rows.size() && m_nextOffset < m_total)
        return;
    beginInsertRows({}, row, row);
    m_rows.insert(row, e);
    m_keys.insert(keyOf(e));
    ++m_pairs[pairOf(e.sender, e.recipient)];
    endInsertRows();
    ++m_nextOffset; // it is now before the next page's offset on the proxy
    setTotal(m_total + 1);
}

} // namespace greygate
