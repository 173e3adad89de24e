// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ReportData.h"

#include <QObject>
#include <QStringList>

namespace greygate {

class ProxyRegistry;

// Gathers a report's figures from the proxies chosen, asynchronously: per proxy one `report`
// call (buckets of an hour up to two days, a day beyond) and the rejection log page by page
// (1000 rows a page, at most ReportData::kMaxRejections), all proxies at once. The GUI
// thread only handles answers as they arrive, so it stays responsive; progress() tells how
// far it is and cancel() drops whatever is still to come. A proxy that is not connected or
// fails is listed in the report with its error; the report fails only when none answered.
class ReportBuilder : public QObject
{
    Q_OBJECT

public:
    explicit ReportBuilder(ProxyRegistry &registry, QObject *parent = nullptr);
    ~ReportBuilder() override;

    // Starts over (a build still running is cancelled). Empty proxyIds: every proxy.
    void start(qint64 from, qint64 to, const QStringList &proxyIds);
    void cancel();
    bool isRunning() const { return m_running; }

    // The bucket size a report over [from, to) uses.
    static qint64 stepFor(qint64 from, qint64 to);

Q_SIGNALS:
    void progress(int percent, const QString &what);
    void finished(const greygate::ReportData &data);
    void failed(const QString &message);
    void cancelled();

private:
    void fetchStats(int index);
    void fetchRejections(int index, qint64 offset);
    void stepDone(int index, const QString &what);
    void finish();

    ProxyRegistry &m_registry;
    ReportData m_data;
    QList<int> m_stepsLeft; // per proxy: stats + rejections
    QList<int> m_pages;     // rejection pages read per proxy
    quint64 m_generation = 0;
    bool m_running = false;
};

} // namespace greygate
