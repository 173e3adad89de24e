// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyTableModel.h"

#include "ProxyCalls.h"

#include <QJsonArray>

namespace greygate {

namespace {
constexpr int kReloadDelayMs = 100; // a burst of changes (an import) reloads once
}

PolicyTableModel::PolicyTableModel(ProxyRegistry &registry, QObject *parent)
    : KeyedTableModel<PolicyRow>(parent)
    , m_registry(registry)
{
    m_reloadTimer.setSingleShot(true);
    m_reloadTimer.setInterval(kReloadDelayMs);
    connect(&m_reloadTimer, &QTimer::timeout, this, &PolicyTableModel::reload);
    connect(&registry, &ProxyRegistry::eventsReceived, this,
            [this](const QString &id, const QJsonArray &events) {
                if (id != m_proxyId)
                    return;
                bool reload = false;
                for (const QJsonValue &e : events) {
                    const QString type = e.toObject().value(QStringLiteral("type")).toString();
                    if (type == u"policy")
                        reload = true;
                    else if (type == u"attempt")
                        countShadow(e.toObject());
                }
                if (reload)
                    reloadSoon();
            });
    const auto again = [this](const QString &id) {
        if (id == m_proxyId)
            reloadSoon();
    };
    connect(&registry, &ProxyRegistry::ready, this, again);
    connect(&registry, &ProxyRegistry::resyncNeeded, this, again);
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        if (id == m_proxyId)
            setProxyId(QString());
    });
}

void PolicyTableModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    ++m_generation;
    // Another proxy's policies are another table (ids mean nothing across proxies).
    beginResetModel();
    m_rows.clear();
    m_revision = -1;
    endResetModel();
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    if (!proxyId.isEmpty())
        reload();
}

void PolicyTableModel::reloadSoon()
{
    if (!m_reloadTimer.isActive())
        m_reloadTimer.start();
}

void PolicyTableModel::reload()
{
    if (m_proxyId.isEmpty())
        return;
    const quint64 generation = m_generation;
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("policy.list"), {}, this,
        [this, generation](const ProxyConnection::Reply &r) {
            if (generation != m_generation)
                return;
            const QJsonObject o = r.result.toObject();
            if (!r.ok || !o.value(QStringLiteral("policies")).isArray()) {
                m_lastError =
                    r.ok ? tr("Cannot read the policies: a malformed answer")
                         : tr("Cannot read the policies: %1").arg(ProxyCalls::describe(r.error));
                Q_EMIT loadFailed(m_lastError);
                return;
            }
            m_lastError.clear();
            QHash<qint64, int> order;
            const QJsonArray precedence = o.value(QStringLiteral("precedence")).toArray();
            for (qsizetype i = 0; i < precedence.size(); ++i)
                order.insert(precedence.at(i).toInteger(), int(i) + 1);
            QList<PolicyRow> rows;
            const QJsonArray policies = o.value(QStringLiteral("policies")).toArray();
            for (const QJsonValue &p : policies) {
                PolicyRow row{p.toObject(), 0};
                if (row.id() <= 0)
                    continue; // not a policy
                row.order = order.value(row.id(), 0);
                rows.append(row);
            }
            m_revision = o.value(QStringLiteral("revision")).toInteger();
            m_shadow.clear();
            const QJsonObject shadow = o.value(QStringLiteral("shadow")).toObject();
            for (auto it = shadow.begin(); it != shadow.end(); ++it) {
                const QJsonObject hour = it.value()[QStringLiteral("lastHour")].toObject();
                m_shadow.insert(it.key().toLongLong(),
                                ShadowCounts{hour.value(QStringLiteral("greylist")).toInteger(),
                                             hour.value(QStringLiteral("bypass")).toInteger()});
            }
            replaceRows(rows);
            Q_EMIT loaded();
        });
}

void PolicyTableModel::countShadow(const QJsonObject &event)
{
    const QJsonObject shadow = event.value(QStringLiteral("shadow")).toObject();
    const qint64 id = shadow.value(QStringLiteral("policy")).toInteger();
    if (id <= 0)
        return;
    ShadowCounts &c = m_shadow[id];
    (shadow.value(QStringLiteral("effect")).toString() == u"bypass" ? c.bypass : c.greylist) += 1;
    if (const int row = rowOfId(id); row >= 0)
        Q_EMIT dataChanged(index(row, WouldBe), index(row, WouldBe),
                           {Qt::DisplayRole, Qt::UserRole});
}

int PolicyTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QJsonObject PolicyTableModel::policyJson(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).policy : QJsonObject();
}

QString PolicyTableModel::describeSpecifier(const QJsonObject &s)
{
    const QString type = s.value(QStringLiteral("type")).toString();
    QString text;
    if (type == u"everyone")
        text = tr("Everyone");
    else if (type == u"internal")
        text = tr("Internal addresses");
    else if (type == u"external")
        text = tr("External addresses");
    else if (type == u"domain")
        text = (s.value(QStringLiteral("includeSubdomains")).toBool() ? tr("Domain %1 and below")
                                                                      : tr("Domain %1"))
                   .arg(s.value(QStringLiteral("value")).toString());
    else if (type == u"group")
        text = tr("Group %1").arg(s.value(QStringLiteral("value")).toString());
    else if (type == u"address")
        text = s.value(QStringLiteral("value")).toString();
    else
        text = type;
    const QString basedOn = s.value(QStringLiteral("basedOn")).toString();
    if (basedOn == u"header")
        text += tr(" (header From)");
    else if (basedOn == u"both")
        text += tr(" (envelope or header)");
    return text;
}

QVariant PolicyTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const PolicyRow &row = m_rows.at(index.row());
    const QJsonObject &p = row.policy;
    if (role == IdRole)
        return row.id();
    if (role == VersionRole)
        return p.value(QStringLiteral("version")).toInteger();
    const auto flag = [&](const char *name) {
        return p.value(QLatin1String(name)).toBool();
    };
    if (role == Qt::UserRole) { // raw values to sort on
        switch (Column(index.column())) {
        case Order:
            return row.order > 0 ? row.order : std::numeric_limits<int>::max();
        case Id:
            return row.id();
        case Version:
            return p.value(QStringLiteral("version")).toInteger();
        case Enabled:
            return flag("enabled");
        case Override:
            return flag("override");
        case Bidirectional:
            return flag("bidirectional");
        case WouldBe:
            return shadowCounts(row.id()).greylist + shadowCounts(row.id()).bypass;
        default:
            role = Qt::DisplayRole;
        }
    }
    if (role == Qt::ToolTipRole && index.column() == Narrative)
        role = Qt::DisplayRole;
    if (role != Qt::DisplayRole)
        return {};
    const auto yesNo = [](bool b) {
        return b ? tr("Yes") : tr("No");
    };
    switch (Column(index.column())) {
    case Order:
        return row.order > 0 ? QVariant(row.order) : QVariant(tr("-"));
    case Id:
        return row.id();
    case Narrative:
        return p.value(QStringLiteral("narrative")).toString();
    case Action:
        return p.value(QStringLiteral("action")).toString() == u"bypass" ? tr("Take no action")
                                                                         : tr("Apply greylisting");
    case From:
        return describeSpecifier(p.value(QStringLiteral("from")).toObject());
    case To:
        return describeSpecifier(p.value(QStringLiteral("to")).toObject());
    case Enabled:
        return yesNo(p.value(QStringLiteral("enabled")).toBool(true));
    case Validity: {
        const QString start = p.value(QStringLiteral("start")).toString();
        const QString end = p.value(QStringLiteral("end")).toString();
        if (start.isEmpty() && end.isEmpty())
            return tr("Perpetual");
        return tr("%1 to %2")
            .arg(start.isEmpty() ? tr("always") : start, end.isEmpty() ? tr("no end") : end);
    }
    case Override:
        return yesNo(flag("override"));
    case Bidirectional:
        return yesNo(flag("bidirectional"));
    case SourceRanges: {
        QStringList ranges;
        const QJsonArray list = p.value(QStringLiteral("sourceRanges")).toArray();
        for (const QJsonValue &v : list)
            ranges.append(v.toString());
        return ranges.isEmpty() ? tr("Any") : ranges.join(QStringLiteral(", "));
    }
    case Version:
        return p.value(QStringLiteral("version")).toInteger();
    case UpdatedAt:
        return p.value(QStringLiteral("updatedAt")).toString();
    case UpdatedBy:
        return p.value(QStringLiteral("updatedBy")).toString();
    case Mode:
        return p.value(QStringLiteral("mode")).toString() == u"shadow" ? tr("Shadow (log only)")
                                                                       : tr("Enforce");
    case WouldBe: {
        if (p.value(QStringLiteral("mode")).toString() != u"shadow")
            return QString();
        const ShadowCounts c = shadowCounts(row.id());
        return tr("would defer %1, would bypass %2").arg(c.greylist).arg(c.bypass);
    }
    case ColumnCount:
        break;
    }
    return {};
}

QVariant PolicyTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const QStringList headers = {tr("Order"),         tr("Id"),
                                        tr("Narrative"),     tr("Action"),
                                        tr("From"),          tr("To"),
                                        tr("Enabled"),       tr("Validity"),
                                        tr("Override"),      tr("Bi-directional"),
                                        tr("Source ranges"), tr("Version"),
                                        tr("Updated"),       tr("Updated by"),
                                        tr("Mode"),          tr("Would-be (last hour)")};
    return headers.value(section);
}

void PolicyTableModel::update(const QJsonObject &policy)
{
    send(QStringLiteral("update"), QJsonObject{{QStringLiteral("policy"), policy}},
         policy.value(QStringLiteral("id")).toInteger());
}

void PolicyTableModel::create(const QJsonObject &policy)
{
    QJsonObject p = policy;
    p.remove(QStringLiteral("id"));
    p.remove(QStringLiteral("version"));
    send(QStringLiteral("create"), QJsonObject{{QStringLiteral("policy"), p}}, 0);
}

void PolicyTableModel::remove(qint64 id, qint64 version)
{
    send(QStringLiteral("delete"),
         QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("version"), version}}, id);
}

void PolicyTableModel::send(const QString &action, const QJsonObject &params, qint64 id)
{
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("policy.") + action, params, this,
                     [this, action, id](const ProxyConnection::Reply &r) {
                         if (!r.ok) {
                             if (r.error.code == protocol::ErrorCode::StaleVersion)
                                 Q_EMIT conflict(id, r.error.message);
                             else
                                 Q_EMIT changeFailed(action, id, ProxyCalls::describe(r.error));
                             reloadSoon(); // show what the proxy has now
                             return;
                         }
                         const QJsonObject o = r.result.toObject();
                         Q_EMIT changeDone(action, o.value(QStringLiteral("id")).toInteger(id),
                                           o.value(QStringLiteral("version")).toInteger());
                         reloadSoon();
                     });
}

} // namespace greygate
