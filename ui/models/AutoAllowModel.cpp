// SPDX-License-Identifier: GPL-3.0-or-later
#include "AutoAllowModel.h"

#include "ProxyCalls.h"

#include <QDateTime>
#include <QJsonArray>

namespace greygate {

AutoAllowModel::AutoAllowModel(ProxyRegistry &registry, QObject *parent)
    : KeyedTableModel<AutoAllowRow>(parent)
    , m_registry(registry)
{
    m_refreshTimer.setSingleShot(true);
    m_refreshTimer.setInterval(200); // learning comes in bursts: re-read once
    connect(&m_refreshTimer, &QTimer::timeout, this, &AutoAllowModel::refreshLoaded);
    connect(&registry, &ProxyRegistry::eventsReceived, this,
            [this](const QString &id, const QJsonArray &events) {
                if (id != m_proxyId)
                    return;
                for (const QJsonValue &value : events) {
                    const QJsonObject e = value.toObject();
                    if (e.value(QStringLiteral("type")).toString() != u"autoallow")
                        continue;
                    // subject "autoAllow:<external> <internal>"
                    const QString subject = e.value(QStringLiteral("subject")).toString();
                    const QString action = e.value(QStringLiteral("action")).toString();
                    const qsizetype space = subject.indexOf(u' ');
                    if (action.contains(QStringLiteral("remove")) && space > 10) {
                        const QString key =
                            subject.mid(10, space - 10) + u'\n' + subject.mid(space + 1);
                        if (rowOf(key) >= 0) {
                            m_nextOffset = std::max<qint64>(0, m_nextOffset - 1);
                            removeKey(key);
                            setTotal(std::max<qint64>(0, m_total - 1));
                        }
                    } else {
                        m_refreshTimer.start();
                    }
                }
            });
    const auto again = [this](const QString &id) {
        if (id == m_proxyId)
            m_refreshTimer.start();
    };
    connect(&registry, &ProxyRegistry::ready, this, again);
    connect(&registry, &ProxyRegistry::resyncNeeded, this, again);
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        if (id == m_proxyId)
            setProxyId(QString());
    });
}

void AutoAllowModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    reload();
}

void AutoAllowModel::setFilter(const QString &text)
{
    if (text == m_filter)
        return;
    m_filter = text;
    reload();
}

void AutoAllowModel::setPageSize(int rows)
{
    m_pageSize = std::clamp(rows, 1, 1000);
}

void AutoAllowModel::setTotal(qint64 total)
{
    if (total == m_total)
        return;
    m_total = total;
    Q_EMIT totalChanged(total);
}

void AutoAllowModel::reload()
{
    ++m_generation;
    beginResetModel(); // a new query (proxy or filter): a new table
    m_rows.clear();
    m_nextOffset = 0;
    m_loaded = false;
    m_fetching = false;
    m_refreshing = false;
    m_fetchWanted = false;
    endResetModel();
    setTotal(0);
    if (m_proxyId.isEmpty())
        return;
    m_fetching = true;
    const quint64 generation = m_generation;
    requestPage(0, m_pageSize,
                [this, generation](bool ok, const QList<AutoAllowRow> &rows, qint64 total) {
                    if (generation != m_generation)
                        return;
                    m_fetching = false;
                    if (!ok)
                        return;
                    m_loaded = true;
                    m_nextOffset = rows.size();
                    setTotal(total);
                    replaceRows(rows);
                });
}

void AutoAllowModel::requestPage(qint64 offset, int limit, Page then)
{
    QJsonObject params{{QStringLiteral("offset"), offset}, {QStringLiteral("limit"), limit}};
    if (!m_filter.isEmpty())
        params.insert(QStringLiteral("filter"), m_filter);
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("autoallow.list"), params, this,
        [this, then = std::move(then)](const ProxyConnection::Reply &r) {
            const QJsonObject o = r.result.toObject();
            if (!r.ok || !o.value(QStringLiteral("entries")).isArray()) {
                m_lastError =
                    tr("Cannot read the Auto Allow table: %1")
                        .arg(r.ok ? tr("a malformed answer") : ProxyCalls::describe(r.error));
                Q_EMIT loadFailed(m_lastError);
                then(false, {}, 0);
                return;
            }
            m_lastError.clear();
            QList<AutoAllowRow> rows;
            const QJsonArray entries = o.value(QStringLiteral("entries")).toArray();
            for (const QJsonValue &v : entries) {
                const QJsonObject e = v.toObject();
                rows.append(AutoAllowRow{e.value(QStringLiteral("external")).toString(),
                                         e.value(QStringLiteral("internal")).toString(),
                                         e.value(QStringLiteral("createdAt")).toString(),
                                         e.value(QStringLiteral("expiresAt")).toString()});
            }
            then(true, rows, o.value(QStringLiteral("total")).toInteger());
        });
}

bool AutoAllowModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_loaded && !m_fetching && m_nextOffset < m_total;
}

void AutoAllowModel::fetchMore(const QModelIndex &parent)
{
    if (!canFetchMore(parent))
        return;
    if (m_refreshing) {
        m_fetchWanted = true;
        return;
    }
    m_fetching = true;
    const quint64 generation = m_generation;
    const qint64 offset = m_nextOffset;
    requestPage(offset, m_pageSize,
                [this, generation, offset](bool ok, const QList<AutoAllowRow> &rows, qint64 total) {
                    if (generation != m_generation)
                        return;
                    m_fetching = false;
                    if (!ok)
                        return;
                    m_nextOffset = offset + rows.size();
                    QList<AutoAllowRow> fresh;
                    for (const AutoAllowRow &row : rows) {
                        if (rowOf(row.key()) < 0) // the table moved between pages
                            fresh.append(row);
                    }
                    // A short page is the end, whatever total said before.
                    setTotal(rows.size() < m_pageSize ? m_nextOffset : total);
                    if (fresh.isEmpty()) {
                        // Nothing inserted, so no view would ask again: the next page.
                        if (canFetchMore({}))
                            fetchMore({});
                        return;
                    }
                    const int first = int(m_rows.size());
                    beginInsertRows({}, first, first + int(fresh.size()) - 1);
                    m_rows.append(fresh);
                    endInsertRows();
                });
}

void AutoAllowModel::refreshLoaded()
{
    if (m_proxyId.isEmpty())
        return;
    if (!m_loaded) {
        reload();
        return;
    }
    if (m_fetching || m_refreshing) {
        m_refreshTimer.start(); // after the page on its way
        return;
    }
    m_refreshing = true;
    const qint64 upTo = std::clamp<qint64>(m_rows.size(), m_pageSize, kMaxRefreshRows);
    refreshFrom(0, {}, upTo, m_generation);
}

void AutoAllowModel::refreshFrom(qint64 offset, QList<AutoAllowRow> sofar, qint64 upTo,
                                 quint64 generation)
{
    const int limit = int(std::min<qint64>(1000, upTo - offset));
    requestPage(offset, limit,
                [this, offset, sofar, upTo, generation,
                 limit](bool ok, const QList<AutoAllowRow> &rows, qint64 total) mutable {
                    if (!ok || generation != m_generation)
                        return;
                    sofar.append(rows);
                    if (rows.size() == limit && offset + limit < upTo) {
                        refreshFrom(offset + limit, sofar, upTo, generation);
                        return;
                    }
                    setTotal(total);
                    m_nextOffset = sofar.size();
                    replaceRows(sofar);
                    refreshDone();
                });
}

void AutoAllowModel::refreshDone()
{
    m_refreshing = false;
    if (m_fetchWanted) {
        m_fetchWanted = false;
        fetchMore({});
    }
}

int AutoAllowModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AutoAllowModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const AutoAllowRow &row = m_rows.at(index.row());
    if (role == Qt::UserRole) {
        if (index.column() == CreatedAt || index.column() == ExpiresAt) {
            const QDateTime t = QDateTime::fromString(
                index.column() == CreatedAt ? row.createdAt : row.expiresAt, Qt::ISODate);
            return t.isValid() ? t.toSecsSinceEpoch() : qint64(0);
        }
        role = Qt::DisplayRole;
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(index.column())) {
    case External:
        return row.external;
    case Internal:
        return row.internal == u"*" ? tr("* (every internal user)") : row.internal;
    case CreatedAt:
        return row.createdAt;
    case ExpiresAt:
        return row.expiresAt;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant AutoAllowModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const QStringList headers = {tr("External correspondent"), tr("Internal user"),
                                        tr("Learned"), tr("Expires")};
    return headers.value(section);
}

void AutoAllowModel::add(const QString &external, const QString &internal, qint64 expiresAt)
{
    send(QStringLiteral("add"),
         QJsonObject{{QStringLiteral("external"), external},
                     {QStringLiteral("internal"), internal},
                     {QStringLiteral("expiresAt"), expiresAt}},
         external, internal);
}

void AutoAllowModel::remove(int row)
{
    if (row < 0 || row >= m_rows.size())
        return;
    const AutoAllowRow r = m_rows.at(row);
    send(QStringLiteral("remove"),
         QJsonObject{{QStringLiteral("external"), r.external},
                     {QStringLiteral("internal"), r.internal}},
         r.external, r.internal);
}

void AutoAllowModel::send(const QString &action, const QJsonObject &params, const QString &external,
                          const QString &internal)
{
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("autoallow.") + action, params, this,
                     [this, action, external, internal](const ProxyConnection::Reply &r) {
                         if (!r.ok) {
                             Q_EMIT changeFailed(action, external, internal,
                                                 ProxyCalls::describe(r.error));
                             return;
                         }
                         if (action == u"remove") {
                             const QString key = external.toLower() + u'\n' + internal.toLower();
                             if (rowOf(key) >= 0) {
                                 m_nextOffset = std::max<qint64>(0, m_nextOffset - 1);
                                 removeKey(key);
                                 setTotal(std::max<qint64>(0, m_total - 1));
                             }
                         } else {
                             m_refreshTimer.start();
                         }
                         Q_EMIT changeDone(action, external, internal);
                     });
}

} // namespace greygate
