// SPDX-License-Identifier: GPL-3.0-or-later
#include "DelayStatsModel.h"

#include "ProxyCalls.h"

#include <QDateTime>

namespace greygate {

DelayStatsModel::DelayStatsModel(ProxyRegistry &registry, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_domains(new DelayBreakdownModel(DelayBreakdownModel::By::Domain, this))
    , m_policies(new DelayBreakdownModel(DelayBreakdownModel::By::Policy, this))
    , m_series(new DelaySeriesModel(this))
{
    connect(&registry, &ProxyRegistry::ready, this, [this](const QString &id) {
        if (id == m_proxyId)
            reload();
    });
    connect(&registry, &ProxyRegistry::proxyRemoved, this, [this](const QString &id) {
        if (id == m_proxyId)
            setProxyId(QString());
    });
}

qint64 DelayStatsModel::stepSeconds(Step step)
{
    switch (step) {
    case Step::Hour:
        return 3600;
    case Step::Day:
        return 86400;
    case Step::Week:
        return 7 * 86400;
    }
    return 3600;
}

QString DelayStatsModel::stepName(Step step)
{
    switch (step) {
    case Step::Hour:
        return QStringLiteral("hour");
    case Step::Day:
        return QStringLiteral("day");
    case Step::Week:
        return QStringLiteral("week");
    }
    return QStringLiteral("hour");
}

void DelayStatsModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    reload();
}

void DelayStatsModel::setRange(const Range &range)
{
    if (range == m_range)
        return;
    m_range = range;
    reload();
}

void DelayStatsModel::setLimit(int domains)
{
    m_limit = std::clamp(domains, 1, 100);
}

void DelayStatsModel::setClock(std::function<qint64()> nowSeconds)
{
    m_now = std::move(nowSeconds);
}

void DelayStatsModel::reload()
{
    const quint64 generation = ++m_generation;
    if (m_proxyId.isEmpty()) {
        apply({});
        return;
    }
    const qint64 now = m_now ? m_now() : QDateTime::currentSecsSinceEpoch();
    // The range ends with the hour in progress, so the last point is the current hour's.
    const qint64 to = now - now % 3600 + 3600;
    const qint64 from = to - std::max<qint64>(m_range.spanSeconds, 3600);
    m_loading = true;
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("delay.stats"),
                     QJsonObject{{QStringLiteral("from"), from},
                                 {QStringLiteral("to"), to},
                                 {QStringLiteral("step"), stepName(m_range.step)},
                                 {QStringLiteral("limit"), m_limit}},
                     this, [this, generation](const ProxyConnection::Reply &r) {
                         if (generation != m_generation)
                             return; // another range or proxy was asked for since
                         m_loading = false;
                         if (!r.ok) {
                             m_lastError = ProxyCalls::describe(r.error);
                             apply({});
                             Q_EMIT loadFailed(m_lastError);
                             return;
                         }
                         m_lastError.clear();
                         apply(r.result.toObject());
                     });
}

void DelayStatsModel::apply(const QJsonObject &result)
{
    m_total = DelaySummary::fromJson(result.value(QStringLiteral("total")).toObject());
    m_domains->setRows(result.value(QStringLiteral("domains")).toArray());
    m_policies->setRows(result.value(QStringLiteral("policies")).toArray());
    const QString step = result.value(QStringLiteral("step")).toString();
    const Step s = step == u"week" ? Step::Week : step == u"day" ? Step::Day : Step::Hour;
    m_series->setSeries(result.value(QStringLiteral("series")).toArray(),
                        result.value(QStringLiteral("from")).toInteger(),
                        result.value(QStringLiteral("to")).toInteger(), stepSeconds(s));
    Q_EMIT loaded();
}

} // namespace greygate
