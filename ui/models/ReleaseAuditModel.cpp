// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReleaseAuditModel.h"

#include "ProxyCalls.h"
#include "ProxyFollow.h"
#include "ReleaseListModel.h"

#include <QDateTime>
#include <QJsonArray>
#include <algorithm>

namespace greygate {

using ProxyFollow::bounded;

namespace {

// The release's policy as the audit keeps it: from {type, value}, to {type, value}.
QString subjectOf(const QJsonObject &policy)
{
    const QString from = bounded(
        policy.value(QStringLiteral("from")).toObject().value(QStringLiteral("value")), 320);
    const QString to =
        bounded(policy.value(QStringLiteral("to")).toObject().value(QStringLiteral("value")), 320);
    return to.isEmpty() ? from : from + QStringLiteral(" \u2192 ") + to;
}

} // namespace

ReleaseAuditModel::ReleaseAuditModel(ProxyRegistry &registry, QObject *parent)
    : KeyedTableModel<ReleaseAuditRow>(parent)
    , m_registry(registry)
{
    m_reloadTimer.setSingleShot(true);
    m_reloadTimer.setInterval(150);
    connect(&m_reloadTimer, &QTimer::timeout, this, &ReleaseAuditModel::reload);
    ProxyFollow::keepCurrent(registry, this, m_reloadTimer, [](const QJsonObject &e) {
        return e.value(QStringLiteral("type")).toString() == u"policy" &&
               e.value(QStringLiteral("action")).toString().startsWith(u"release.");
    });
}

void ReleaseAuditModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    reload();
}

void ReleaseAuditModel::setDays(int days)
{
    days = std::clamp(days, 1, 90);
    if (days == m_days)
        return;
    m_days = days;
    reload();
}

void ReleaseAuditModel::reload()
{
    const quint64 generation = ++m_generation;
    if (m_proxyId.isEmpty()) {
        replaceRows({});
        return;
    }
    const qint64 from = QDateTime::currentSecsSinceEpoch() - qint64(m_days) * 86400;
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("release.audit"),
        QJsonObject{{QStringLiteral("from"), from}, {QStringLiteral("limit"), kLimit}}, this,
        [this, generation](const ProxyConnection::Reply &r) {
            if (generation != m_generation)
                return;
            if (!r.ok) {
                m_lastError = ProxyCalls::describe(r.error);
                Q_EMIT loadFailed(m_lastError);
                return;
            }
            m_lastError.clear();
            QList<ReleaseAuditRow> rows;
            const QJsonArray list = r.result.toObject().value(QStringLiteral("entries")).toArray();
            for (const QJsonValue &value : list) {
                const QJsonObject o = value.toObject();
                ReleaseAuditRow row;
                row.time = o.value(QStringLiteral("time")).toInteger();
                row.who = bounded(o.value(QStringLiteral("who")), 128);
                row.what = bounded(o.value(QStringLiteral("what")), 32);
                row.objectId = bounded(o.value(QStringLiteral("objectId")), 64);
                row.kind = bounded(o.value(QStringLiteral("kind")), 16);
                row.reason = bounded(o.value(QStringLiteral("reason")));
                row.until = bounded(o.value(QStringLiteral("until")), 40);
                row.subject = subjectOf(o.value(QStringLiteral("policy")).toObject());
                rows.append(row);
            }
            // Newest first: the proxy answers in the order of the log (oldest first), which
            // also orders entries of the same second (a release made, then revoked); the
            // stable sort only corrects what a clock step back may have put out of order.
            std::reverse(rows.begin(), rows.end());
            std::stable_sort(
                rows.begin(), rows.end(),
                [](const ReleaseAuditRow &a, const ReleaseAuditRow &b) { return a.time > b.time; });
            // New entries are appended by replaceRows: on a later reload they would land at
            // the bottom, so the table is laid out afresh when the order would not hold.
            bool suffix = m_rows.size() <= rows.size();
            for (qsizetype i = 0; suffix && i < m_rows.size(); ++i)
                suffix = m_rows.at(i).key() == rows.at(rows.size() - m_rows.size() + i).key();
            if (!suffix && !m_rows.isEmpty()) {
                beginResetModel();
                m_rows.clear();
                endResetModel();
            }
            if (suffix && !m_rows.isEmpty() && rows.size() > m_rows.size()) {
                // Newer entries go on top, with one insert.
                const qsizetype added = rows.size() - m_rows.size();
                beginInsertRows({}, 0, int(added) - 1);
                m_rows = rows;
                endInsertRows();
            } else {
                replaceRows(rows);
            }
            Q_EMIT loaded();
        });
}

int ReleaseAuditModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString ReleaseAuditModel::actionLabel(const QString &what)
{
    if (what == u"release.create")
        return tr("Released");
    if (what == u"release.revoke")
        return tr("Revoked");
    if (what == u"release.expire")
        return tr("Expired");
    return what;
}

QVariant ReleaseAuditModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ReleaseAuditRow &row = m_rows.at(index.row());
    if (role == Qt::UserRole && index.column() == Time)
        return row.time;
    if (role == Qt::ToolTipRole && index.column() == Reason)
        return row.reason;
    if (role != Qt::DisplayRole && role != Qt::UserRole)
        return {};
    switch (Column(index.column())) {
    case Time:
        return QDateTime::fromSecsSinceEpoch(row.time).toString(
            QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    case Action:
        return actionLabel(row.what);
    case Who:
        return row.who;
    case Kind:
        return ReleaseListModel::kindLabel(row.kind);
    case Subject:
        return row.subject;
    case Reason:
        return row.reason;
    case Until: {
        const QDateTime until = QDateTime::fromString(row.until, Qt::ISODate);
        return until.isValid() ? until.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                               : row.until;
    }
    case ColumnCount:
        break;
    }
    return {};
}

QVariant ReleaseAuditModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Time:
        return tr("When");
    case Action:
        return tr("Action");
    case Who:
        return tr("Who");
    case Kind:
        return tr("Kind");
    case Subject:
        return tr("Lets through");
    case Reason:
        return tr("Why");
    case Until:
        return tr("Until");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace greygate
