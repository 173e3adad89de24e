// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxyListModel.h"

namespace greygate {

ProxyListModel::ProxyListModel(ProxyRegistry &registry, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
{
    m_elapsed.start();
    const QStringList ids = registry.ids();
    for (const QString &id : ids) {
        m_rows.append(Row{id});
        if (const ProxyConnection *c = registry.connection(id);
            c && c->state() == ProxyConnection::State::Connected) {
            m_rows.last().readyAtMs = nowMs();
            m_rows.last().uptimeAtReady = c->hello().uptimeSeconds;
        }
    }
    connect(&registry, &ProxyRegistry::proxyAdded, this, &ProxyListModel::onAdded);
    connect(&registry, &ProxyRegistry::proxyRemoved, this, &ProxyListModel::onRemoved);
    connect(&registry, &ProxyRegistry::proxyUpdated, this, [this](const QString &id) {
        const int row = rowOf(id);
        if (row >= 0)
            m_rows[row].readyAtMs = -1; // a new connection: connected again when ready
        onChanged(id);
    });
    connect(&registry, &ProxyRegistry::stateChanged, this,
            [this](const QString &id, ProxyConnection::State state) {
                if (state != ProxyConnection::State::Connected) {
                    const int row = rowOf(id);
                    if (row >= 0)
                        m_rows[row].readyAtMs = -1;
                }
                onChanged(id);
            });
    connect(&registry, &ProxyRegistry::ready, this, &ProxyListModel::onReady);
    m_ticker.setInterval(1000);
    connect(&m_ticker, &QTimer::timeout, this, &ProxyListModel::tick);
    m_ticker.start();
}

int ProxyListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ProxyListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

void ProxyListModel::setClock(std::function<qint64()> monotonicMs)
{
    m_clock = std::move(monotonicMs);
}

qint64 ProxyListModel::nowMs() const
{
    return m_clock ? m_clock() : m_elapsed.elapsed();
}

QString ProxyListModel::proxyId(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).id : QString();
}

int ProxyListModel::rowOf(const QString &proxyId) const
{
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).id == proxyId)
            return int(i);
    }
    return -1;
}

void ProxyListModel::onAdded(const QString &id)
{
    if (rowOf(id) >= 0)
        return;
    beginInsertRows({}, int(m_rows.size()), int(m_rows.size()));
    m_rows.append(Row{id});
    endInsertRows();
}

void ProxyListModel::onRemoved(const QString &id)
{
    const int row = rowOf(id);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    endRemoveRows();
}

void ProxyListModel::onChanged(const QString &id)
{
    const int row = rowOf(id);
    if (row >= 0)
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1),
                           {Qt::DisplayRole, Qt::UserRole, Qt::ToolTipRole, StateRole});
}

void ProxyListModel::onReady(const QString &id)
{
    const int row = rowOf(id);
    const ProxyConnection *c = m_registry.connection(id);
    if (row < 0 || !c)
        return;
    m_rows[row].readyAtMs = nowMs();
    m_rows[row].uptimeAtReady = c->hello().uptimeSeconds;
    onChanged(id);
}

void ProxyListModel::tick()
{
    // Only the rows of connected proxies count up; one span over the uptime column.
    int first = -1, last = -1;
    for (qsizetype i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).readyAtMs < 0)
            continue;
        if (first < 0)
            first = int(i);
        last = int(i);
    }
    if (first >= 0)
        Q_EMIT dataChanged(index(first, Uptime), index(last, Uptime),
                           {Qt::DisplayRole, Qt::UserRole});
}

QString ProxyListModel::formatDuration(qint64 seconds)
{
    if (seconds < 0)
        seconds = 0;
    const qint64 d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60,
                 s = seconds % 60;
    if (d > 0)
        return QStringLiteral("%1 d %2 h").arg(d).arg(h);
    if (h > 0)
        return QStringLiteral("%1 h %2 min").arg(h).arg(m);
    if (m > 0)
        return QStringLiteral("%1 min %2 s").arg(m).arg(s);
    return QStringLiteral("%1 s").arg(s);
}

QVariant ProxyListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    const ProxyEndpoint *endpoint = m_registry.endpoint(row.id);
    const ProxyConnection *connection = m_registry.connection(row.id);
    if (!endpoint || !connection)
        return {};
    if (role == ProxyIdRole)
        return row.id;
    if (role == StateRole)
        return int(connection->state());
    if (role == LocalRole)
        return endpoint->local;
    const bool certificateChanged =
        connection->state() == ProxyConnection::State::Refused && connection->certificateMismatch();
    if (role == CertificateChangedRole)
        return certificateChanged;
    const bool connected = row.readyAtMs >= 0;
    const qint64 uptime = connected ? row.uptimeAtReady + (nowMs() - row.readyAtMs) / 1000 : -1;
    if (role == Qt::UserRole) { // raw values, for sorting
        switch (Column(index.column())) {
        case State:
            return int(connection->state());
        case Uptime:
            return uptime;
        default:
            break;
        }
        role = Qt::DisplayRole;
    }
    if (role == Qt::ToolTipRole && (index.column() == LastError || index.column() == Certificate))
        role = Qt::DisplayRole;
    if (role != Qt::DisplayRole)
        return {};
    const protocol::Hello &hello = connection->hello();
    switch (Column(index.column())) {
    case Name:
        return endpoint->name.isEmpty() ? endpoint->url.toString() : endpoint->name;
    case Url:
        return endpoint->url.toString();
    case State:
        return certificateChanged ? tr("certificate changed")
                                  : ProxyConnection::stateName(connection->state());
    case StoreKind:
        return hello.storeKind;
    case EngineVersion:
        return hello.engineVersion;
    case Uptime:
        return connected ? formatDuration(uptime) : QString();
    case LastError:
        return connection->lastError();
    case Certificate:
        return connection->certificateSha256();
    case ColumnCount:
        break;
    }
    return {};
}

QVariant ProxyListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Name:
        return tr("Name");
    case Url:
        return tr("Address");
    case State:
        return tr("State");
    case StoreKind:
        return tr("Store");
    case EngineVersion:
        return tr("Version");
    case Uptime:
        return tr("Uptime");
    case LastError:
        return tr("Last error");
    case Certificate:
        return tr("Certificate (SHA-256)");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace greygate
