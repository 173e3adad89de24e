// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReleaseListModel.h"

#include "ProxyCalls.h"
#include "ProxyFollow.h"

#include <QDateTime>
#include <QJsonArray>

namespace greygate {

using ProxyFollow::bounded;

namespace {

QString formatTime(qint64 seconds)
{
    return seconds > 0
               ? QDateTime::fromSecsSinceEpoch(seconds).toString(QStringLiteral("yyyy-MM-dd HH:mm"))
               : QString();
}

} // namespace

QString ReleaseRow::subject() const
{
    const QString from = !sender.isEmpty() ? sender : !domain.isEmpty() ? domain : QString();
    if (kind == u"triplet")
        return QStringLiteral("%1 (%2) \u2192 %3")
            .arg(sender.isEmpty() ? QStringLiteral("<>") : sender, client, recipient);
    if (recipient.isEmpty())
        return from;
    return from + QStringLiteral(" \u2192 ") + recipient;
}

ReleaseListModel::ReleaseListModel(ProxyRegistry &registry, QObject *parent)
    : KeyedTableModel<ReleaseRow>(parent)
    , m_registry(registry)
{
    // A release's changes come as policy events, often several at once (a revoke and the
    // expiry sweep): one re-read for a burst.
    m_reloadTimer.setSingleShot(true);
    m_reloadTimer.setInterval(150);
    connect(&m_reloadTimer, &QTimer::timeout, this, &ReleaseListModel::reload);
    m_tickTimer.setInterval(1000);
    connect(&m_tickTimer, &QTimer::timeout, this, &ReleaseListModel::tick);
    m_tickTimer.start();
    ProxyFollow::keepCurrent(registry, this, m_reloadTimer, [](const QJsonObject &e) {
        return e.value(QStringLiteral("type")).toString() == u"policy";
    });
}

void ReleaseListModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    reload();
}

void ReleaseListModel::setClock(std::function<qint64()> nowSeconds)
{
    m_now = std::move(nowSeconds);
    tick();
}

qint64 ReleaseListModel::now() const
{
    return m_now ? m_now() : QDateTime::currentSecsSinceEpoch();
}

void ReleaseListModel::tick()
{
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, Remaining), index(int(m_rows.size()) - 1, Remaining),
                           {Qt::DisplayRole, Qt::UserRole});
}

void ReleaseListModel::reload()
{
    const quint64 generation = ++m_generation;
    if (m_proxyId.isEmpty()) {
        replaceRows({});
        return;
    }
    m_loading = true;
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("release.list"), {}, this,
                     [this, generation](const ProxyConnection::Reply &r) {
                         if (generation != m_generation)
                             return; // a newer reload (or another proxy) is on its way
                         m_loading = false;
                         if (!r.ok) {
                             m_lastError = ProxyCalls::describe(r.error);
                             Q_EMIT loadFailed(m_lastError);
                             return;
                         }
                         m_lastError.clear();
                         QList<ReleaseRow> rows;
                         const QJsonArray list =
                             r.result.toObject().value(QStringLiteral("releases")).toArray();
                         for (const QJsonValue &value : list) {
                             const QJsonObject o = value.toObject();
                             ReleaseRow row;
                             row.id = o.value(QStringLiteral("id")).toInteger();
                             if (row.id <= 0)
                                 continue;
                             row.kind = bounded(o.value(QStringLiteral("kind")), 16);
                             row.client = bounded(o.value(QStringLiteral("client")), 64);
                             row.sender = bounded(o.value(QStringLiteral("sender")), 320);
                             row.domain = bounded(o.value(QStringLiteral("domain")), 255);
                             row.recipient = bounded(o.value(QStringLiteral("recipient")), 320);
                             row.reason = bounded(o.value(QStringLiteral("reason")));
                             row.who = bounded(o.value(QStringLiteral("who")), 128);
                             row.createdAt = o.value(QStringLiteral("createdAt")).toInteger();
                             row.until = o.value(QStringLiteral("until")).toInteger();
                             rows.append(row);
                         }
                         replaceRows(rows);
                         Q_EMIT loaded();
                     });
}

void ReleaseListModel::create(const ReleaseRequest &request)
{
    const QString invalid = request.validate();
    if (!invalid.isEmpty()) {
        Q_EMIT changeFailed(invalid);
        return;
    }
    const QString what = request.describe();
    const qint64 seconds = request.seconds;
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("release.create"), request.toParams(), this,
        [this, what, seconds](const ProxyConnection::Reply &r) {
            if (!r.ok) {
                Q_EMIT changeFailed(
                    tr("%1 not released: %2").arg(what, ProxyCalls::describe(r.error)));
                return;
            }
            Q_EMIT changeDone(tr("%1 released for %2").arg(what, formatRemaining(seconds)));
            reload();
        });
}

void ReleaseListModel::revoke(int row)
{
    if (row < 0 || row >= m_rows.size())
        return;
    const ReleaseRow release = m_rows.at(row);
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("release.revoke"),
                     QJsonObject{{QStringLiteral("id"), release.id}}, this,
                     [this, release](const ProxyConnection::Reply &r) {
                         if (!r.ok) {
                             Q_EMIT changeFailed(
                                 tr("release of %1 not revoked: %2")
                                     .arg(release.subject(), ProxyCalls::describe(r.error)));
                             return;
                         }
                         removeKey(release.key());
                         Q_EMIT changeDone(tr("release of %1 revoked").arg(release.subject()));
                     });
}

int ReleaseListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString ReleaseListModel::formatRemaining(qint64 seconds)
{
    if (seconds <= 0)
        return tr("ended");
    if (seconds < 60)
        return tr("%1 s").arg(seconds);
    if (seconds < 3600)
        return tr("%1 min").arg((seconds + 59) / 60);
    if (seconds < 2 * 86400)
        return tr("%1 h %2 min").arg(seconds / 3600).arg((seconds % 3600) / 60);
    return tr("%1 d %2 h").arg(seconds / 86400).arg((seconds % 86400) / 3600);
}

QString ReleaseListModel::kindLabel(const QString &kind)
{
    if (kind == u"triplet")
        return tr("Pending message");
    if (kind == u"sender")
        return tr("Sender");
    if (kind == u"domain")
        return tr("Domain");
    if (kind == u"expect")
        return tr("Expected mail");
    return kind;
}

QVariant ReleaseListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ReleaseRow &row = m_rows.at(index.row());
    if (role == Qt::UserRole) { // the raw value, to sort on
        switch (index.column()) {
        case Created:
            return row.createdAt;
        case Until:
            return row.until;
        case Remaining:
            return std::max<qint64>(0, row.until - now());
        default:
            break;
        }
    } else if (role == Qt::ToolTipRole && index.column() == Reason) {
        return row.reason;
    } else if (role != Qt::DisplayRole && role != Qt::UserRole) {
        return {};
    }
    switch (Column(index.column())) {
    case Kind:
        return kindLabel(row.kind);
    case Subject:
        return row.subject();
    case Reason:
        return row.reason;
    case Who:
        return row.who;
    case Created:
        return formatTime(row.createdAt);
    case Until:
        return formatTime(row.until);
    case Remaining:
        return formatRemaining(row.until - now());
    case ColumnCount:
        break;
    }
    return {};
}

QVariant ReleaseListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Kind:
        return tr("Kind");
    case Subject:
        return tr("Lets through");
    case Reason:
        return tr("Why");
    case Who:
        return tr("Who");
    case Created:
        return tr("Since");
    case Until:
        return tr("Until");
    case Remaining:
        return tr("Remaining");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace greygate
