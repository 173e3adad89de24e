// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DelayBreakdownModel.h"
#include "DelaySeriesModel.h"
#include "DelaySummary.h"

#include <QObject>

namespace greygate {

class ProxyRegistry;

// One proxy's delay analytics (`delay.stats`, docs/api.md) over a range the admin chooses:
// the total, and three models of the same answer for the Delay page: per sender domain,
// per policy, and over time. Percentiles of several proxies cannot be added up, so it shows
// one proxy at a time.
class DelayStatsModel : public QObject
{
    Q_OBJECT

public:
    enum class Step
    {
        Hour,
        Day,
        Week
    };
    struct Range
    {
        qint64 spanSeconds = 86400;
        Step step = Step::Hour;
        bool operator==(const Range &) const = default;
    };

    explicit DelayStatsModel(ProxyRegistry &registry, QObject *parent = nullptr);

    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }
    void setRange(const Range &range);
    Range range() const { return m_range; }
    // The rows shown per domain (the busiest; the rest as "(other)"): 1..100.
    void setLimit(int domains);
    // Seconds since the epoch: the range ends there; tests inject a manual clock.
    void setClock(std::function<qint64()> nowSeconds);
    void reload();
    bool isLoading() const { return m_loading; }
    QString lastError() const { return m_lastError; }

    // An answer, as reload() applies it (public so a test can feed one).
    void apply(const QJsonObject &result);

    const DelaySummary &total() const { return m_total; }
    DelayBreakdownModel *domains() const { return m_domains; }
    DelayBreakdownModel *policies() const { return m_policies; }
    DelaySeriesModel *series() const { return m_series; }

    static qint64 stepSeconds(Step step);
    static QString stepName(Step step);

Q_SIGNALS:
    void loaded();
    void loadFailed(const QString &message);

private:
    ProxyRegistry &m_registry;
    QString m_proxyId;
    Range m_range;
    int m_limit = 25;
    std::function<qint64()> m_now;
    quint64 m_generation = 0;
    bool m_loading = false;
    QString m_lastError;
    DelaySummary m_total;
    DelayBreakdownModel *m_domains;
    DelayBreakdownModel *m_policies;
    DelaySeriesModel *m_series;
};

} // namespace greygate
