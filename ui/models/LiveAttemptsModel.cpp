// SPDX-License-Identifier: GPL-3.0-or-later
#include "LiveAttemptsModel.h"

#include "ProxyCalls.h"

#include <QDateTime>
#include <QJsonObject>

namespace greygate {

namespace {

// Outcome codes: the wire names of docs/api.md, then the rows this model makes itself.
enum OutcomeCode : quint8
{
    Deferred,
    Passed,
    PassedKnown,
    Whitelisted,
    Bypassed,
    Outbound,
    Blocked,
    FailedToRetry,
    Other, // an outcome this console does not know (a newer proxy): shown as its name
    Gap,
    OutcomeCount
};
static_assert(Gap == LiveAttemptsModel::kGapOutcome);

// Text from the network is bounded before it is kept: 50,000 rows of it stay small.
constexpr qsizetype kMaxField = 512;

QString bounded(const QJsonValue &value)
{
    QString text = value.toString();
    if (text.size() > kMaxField)
        text.truncate(kMaxField);
    return text;
}

} // namespace

LiveAttemptsModel::LiveAttemptsModel(ProxyRegistry &registry, int capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
    , m_capacity(std::max(1, capacity))
{
    m_flushTimer.setInterval(kFlushIntervalMs);
    connect(&m_flushTimer, &QTimer::timeout, this, &LiveAttemptsModel::flush);
    connect(&registry, &ProxyRegistry::eventsReceived, this, &LiveAttemptsModel::addEvents);
    connect(&registry, &ProxyRegistry::resyncNeeded, this, &LiveAttemptsModel::addGap);
    connect(&registry, &ProxyRegistry::proxyAdded, this, &LiveAttemptsModel::follow);
    // A rebuilt connection starts without a cursor: give it the one this model has.
    connect(&registry, &ProxyRegistry::proxyUpdated, this, [this](const QString &id) {
        ProxyConnection *connection = m_registry.connection(id);
        const quint64 last = m_lastEventIds.value(id);
        if (connection)
            connection->subscribe(last > 0 ? std::optional<quint64>(last) : std::nullopt);
    });
    const QStringList ids = registry.ids();
    for (const QString &id : ids)
        follow(id);
}

void LiveAttemptsModel::follow(const QString &proxyId)
{
    ProxyCalls::followEvents(m_registry.connection(proxyId));
}

QStringList LiveAttemptsModel::outcomeNames()
{
    static const QStringList names = {
        QStringLiteral("deferred"),    QStringLiteral("passed"),
        QStringLiteral("passedKnown"), QStringLiteral("whitelisted"),
        QStringLiteral("bypassed"),    QStringLiteral("outbound"),
        QStringLiteral("blocked"),     QStringLiteral("failedToRetry"),
        QStringLiteral("other"),       QStringLiteral("gap")};
    return names;
}

QString LiveAttemptsModel::shadowName(quint8 shadow)
{
    return shadow == WouldGreylist ? QStringLiteral("greylist")
           : shadow == WouldBypass ? QStringLiteral("bypass")
                                   : QString();
}

QString LiveAttemptsModel::outcomeLabel(const QString &wireName)
{
    static const QHash<QString, QString> labels = {
        {QStringLiteral("deferred"), tr("Deferred")},
        {QStringLiteral("passed"), tr("Passed (retried)")},
        {QStringLiteral("passedKnown"), tr("Passed (known)")},
        {QStringLiteral("whitelisted"), tr("Passed (whitelisted client)")},
        {QStringLiteral("bypassed"), tr("Bypassed")},
        {QStringLiteral("outbound"), tr("Outbound")},
        {QStringLiteral("blocked"), tr("Blocked")},
        {QStringLiteral("failedToRetry"), tr("Failed to retry")},
        {QStringLiteral("gap"), tr("Events lost (resync)")},
    };
    return labels.value(wireName, wireName);
}

quint16 LiveAttemptsModel::proxyIndex(const QString &proxyId)
{
    const qsizetype i = m_proxyIds.indexOf(proxyId);
    if (i >= 0)
        return quint16(i);
    m_proxyIds.append(proxyId);
    return quint16(m_proxyIds.size() - 1);
}

void LiveAttemptsModel::enqueue(Row &&row)
{
    m_pending.push_back(std::move(row));
    // Bounded even while paused or in a burst: beyond the capacity the oldest would fall out
    // of the ring at the next flush anyway.
    while (m_pending.size() > size_t(m_capacity)) {
        m_pending.pop_front();
        ++m_droppedBeforeShown;
    }
    if (!m_paused && !m_flushTimer.isActive())
        m_flushTimer.start();
}

void LiveAttemptsModel::addEvents(const QString &proxyId, const QJsonArray &events)
{
    static const QStringList names = outcomeNames();
    quint64 &last = m_lastEventIds[proxyId];
    const quint16 proxy = proxyIndex(proxyId);
    for (const QJsonValue &value : events) {
        const QJsonObject e = value.toObject();
        const quint64 id = quint64(e.value(QStringLiteral("id")).toInteger(-1));
        if (id == quint64(-1) || id <= last)
            continue; // malformed, or seen already (a re-subscription replays from a cursor)
        last = id;
        const QString type = e.value(QStringLiteral("type")).toString();
        Row row;
        if (type == u"attempt") {
            const QString outcome = e.value(QStringLiteral("outcome")).toString();
            const qsizetype code = names.indexOf(outcome);
            row.outcome = quint8(code >= 0 && code < qsizetype(Other) ? code : qsizetype(Other));
            row.reason = row.outcome == Other
                             ? outcome.left(64) + u' ' + bounded(e.value(QStringLiteral("reason")))
                             : bounded(e.value(QStringLiteral("reason")));
            // A shadow policy's would-be effect rides on the attempt it did not decide.
            const QString effect = e.value(QStringLiteral("shadow"))
                                       .toObject()
                                       .value(QStringLiteral("effect"))
                                       .toString();
            row.shadow = effect == u"greylist" ? WouldGreylist
                         : effect == u"bypass" ? WouldBypass
                                               : NoShadow;
            row.key = bounded(e.value(QStringLiteral("key")));
            row.keyWhy = bounded(e.value(QStringLiteral("keyWhy")));
        } else if (type == u"failedToRetry") {
            row.outcome = FailedToRetry;
            row.reason = tr("Sender Failed to Retry");
        } else {
            continue; // queue, policy, group... changes: other models follow those
        }
        row.time = e.value(QStringLiteral("time")).toInteger();
        row.eventId = id;
        row.attempts = qint32(std::clamp<qint64>(e.value(QStringLiteral("attempts")).toInteger(), 0,
                                                 std::numeric_limits<qint32>::max()));
        row.proxy = proxy;
        row.client = bounded(e.value(QStringLiteral("client")));
        row.sender = bounded(e.value(QStringLiteral("sender")));
        row.recipient = bounded(e.value(QStringLiteral("recipient")));
        enqueue(std::move(row));
    }
}

void LiveAttemptsModel::addGap(const QString &proxyId)
{
    // The proxy could not replay what it sent while this console was not listening (or its
    // event ids started again after a restart): the row stands where the events are missing.
    m_lastEventIds[proxyId] = 0;
    Row row;
    row.time = QDateTime::currentSecsSinceEpoch();
    row.outcome = Gap;
    row.proxy = proxyIndex(proxyId);
    row.reason = tr("events were lost here: the proxy could not replay them; the queue and "
                    "the dashboard show the current state");
    enqueue(std::move(row));
}

void LiveAttemptsModel::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    if (paused)
        m_flushTimer.stop();
    else
        flush();
    Q_EMIT pausedChanged(paused);
}

void LiveAttemptsModel::flush()
{
    if (m_paused || m_pending.empty()) {
        m_flushTimer.stop();
        return;
    }
    if (m_ring.empty())
        m_ring.resize(size_t(m_capacity));
    const int n = int(m_pending.size()); // at most the capacity (enqueue bounds it)
    const int overflow = m_count + n - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, overflow - 1);
        m_head = (m_head + size_t(overflow)) % m_ring.size();
        m_count -= overflow;
        endRemoveRows();
    }
    beginInsertRows({}, m_count, m_count + n - 1);
    for (int i = 0; i < n; ++i) {
        m_ring[(m_head + size_t(m_count) + size_t(i)) % m_ring.size()] =
            std::move(m_pending.front());
        m_pending.pop_front();
    }
    m_count += n;
    endInsertRows();
    m_flushTimer.stop();
    Q_EMIT rowsFlushed(n, std::max(overflow, 0));
}

void LiveAttemptsModel::clear()
{
    m_pending.clear();
    if (m_count == 0)
        return;
    // An explicit clear by the admin: one removal of every row, not a reset, so a view's
    // header and filters stay as they are.
    beginRemoveRows({}, 0, m_count - 1);
    m_ring.clear();
    m_ring.shrink_to_fit();
    m_head = 0;
    m_count = 0;
    endRemoveRows();
}

int LiveAttemptsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_count;
}

int LiveAttemptsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const LiveAttemptsModel::Row &LiveAttemptsModel::row(int row) const
{
    Q_ASSERT(row >= 0 && row < m_count);
    return at(row);
}

QString LiveAttemptsModel::proxyIdOf(int row) const
{
    return row >= 0 && row < m_count ? m_proxyIds.value(at(row).proxy) : QString();
}

QJsonObject LiveAttemptsModel::rowJson(int r) const
{
    if (r < 0 || r >= m_count)
        return {};
    const Row &x = at(r);
    QJsonObject o{{QStringLiteral("id"), qint64(x.eventId)},
                  {QStringLiteral("time"), x.time},
                  {QStringLiteral("proxy"), m_proxyIds.value(x.proxy)},
                  {QStringLiteral("outcome"), outcomeNames().value(x.outcome)},
                  {QStringLiteral("client"), x.client},
                  {QStringLiteral("sender"), x.sender},
                  {QStringLiteral("recipient"), x.recipient},
                  {QStringLiteral("reason"), x.reason},
                  {QStringLiteral("attempts"), x.attempts}};
    if (x.shadow != NoShadow)
        o.insert(QStringLiteral("shadow"), shadowName(x.shadow));
    if (!x.key.isEmpty())
        o.insert(QStringLiteral("key"), x.key);
    if (!x.keyWhy.isEmpty())
        o.insert(QStringLiteral("keyWhy"), x.keyWhy);
    return o;
}

QVariant LiveAttemptsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &x = at(index.row());
    switch (role) {
    case ProxyIdRole:
        return m_proxyIds.value(x.proxy);
    case OutcomeRole:
        return outcomeNames().value(x.outcome);
    case EventIdRole:
        return qint64(x.eventId);
    case IsGapRole:
        return x.outcome == Gap;
    case ShadowRole:
        return shadowName(x.shadow);
    case Qt::UserRole: // the raw value, to sort on
        switch (Column(index.column())) {
        case Time:
            return x.time;
        case Attempts:
            return x.attempts;
        case Outcome:
            return int(x.outcome);
        default:
            break;
        }
        [[fallthrough]];
    case Qt::DisplayRole:
    case Qt::ToolTipRole:
        break;
    default:
        return {};
    }
    // Strings are made here, when a view asks for a visible cell, not for every event.
    switch (Column(index.column())) {
    case Time:
        return QDateTime::fromSecsSinceEpoch(x.time).toString(
            QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    case Proxy: {
        const ProxyEndpoint *endpoint = m_registry.endpoint(m_proxyIds.value(x.proxy));
        return endpoint ? (endpoint->name.isEmpty() ? endpoint->url.toString() : endpoint->name)
                        : m_proxyIds.value(x.proxy);
    }
    case Client:
        return x.client;
    case Sender:
        return x.sender.isEmpty() && x.outcome != Gap ? QStringLiteral("<>") : x.sender;
    case Recipient:
        return x.recipient;
    case Outcome:
        if (x.shadow == WouldGreylist)
            return tr("%1 (shadow: would have deferred)")
                .arg(outcomeLabel(outcomeNames().value(x.outcome)));
        if (x.shadow == WouldBypass)
            return tr("%1 (shadow: would have bypassed)")
                .arg(outcomeLabel(outcomeNames().value(x.outcome)));
        return outcomeLabel(outcomeNames().value(x.outcome));
    case Reason:
        return x.reason;
    case Attempts:
        return x.outcome == Gap ? QVariant() : QVariant(x.attempts);
    case TripletKey:
        // Which key, and why: the why in the tooltip, or beside a bypass that used no key.
        if (role == Qt::ToolTipRole)
            return x.keyWhy;
        return x.key.isEmpty() ? x.keyWhy : x.key;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant LiveAttemptsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Time:
        return tr("Time");
    case Proxy:
        return tr("Proxy");
    case Client:
        return tr("Client");
    case Sender:
        return tr("Sender");
    case Recipient:
        return tr("Recipient");
    case Outcome:
        return tr("Outcome");
    case Reason:
        return tr("Policy / reason");
    case Attempts:
        return tr("Attempts");
    case TripletKey:
        return tr("Triplet key");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace greygate
