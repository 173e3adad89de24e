// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReportBuilder.h"

#include "client/ProxyRegistry.h"

#include <QPointer>
#include <QTimer>

namespace greygate {

namespace {

constexpr int kPageRows = 1000;
constexpr int kMaxPages = ReportData::kMaxRejections / kPageRows;

} // namespace

ReportBuilder::ReportBuilder(ProxyRegistry &registry, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
{
    qRegisterMetaType<greygate::ReportData>();
}

ReportBuilder::~ReportBuilder() = default;

qint64 ReportBuilder::stepFor(qint64 from, qint64 to)
{
    const qint64 span = to - from;
    if (span <= 2 * 86400)
        return 60;
    if (span <= 120 * 86400)
        return 1440;
    return 7 * 1440;
}

void ReportBuilder::start(qint64 from, qint64 to, const QStringList &proxyIds)
{
    if (m_running)
        cancel();
    ++m_generation;
    m_data = ReportData{};
    m_data.from = from;
    m_data.to = to;
    m_data.stepMinutes = stepFor(from, to);
    m_data.generatedAt = QDateTime::currentDateTime();
    const QStringList ids = proxyIds.isEmpty() ? m_registry.ids() : proxyIds;
    m_stepsLeft.clear();
    m_pages.clear();
    m_running = true;
    if (from >= to) {
        m_running = false;
        const quint64 generation = m_generation;
        QTimer::singleShot(0, this, [this, generation] {
            if (generation == m_generation)
                Q_EMIT failed(tr("The report's range is empty: choose a start before its end."));
        });
        return;
    }
    for (const QString &id : ids) {
        ReportProxy p;
        p.id = id;
        const ProxyEndpoint *endpoint = m_registry.endpoint(id);
        p.name = endpoint && !endpoint->name.isEmpty() ? endpoint->name : id;
        const ProxyConnection *c = m_registry.connection(id);
        if (!c)
            p.error = tr("no such proxy");
        else if (c->state() != ProxyConnection::State::Connected)
            p.error = tr("not connected (%1)").arg(ProxyConnection::stateName(c->state()));
        m_data.proxies.append(p);
        m_stepsLeft.append(p.error.isEmpty() ? 2 : 0);
        m_pages.append(0);
    }
    Q_EMIT progress(0, tr("Asking %n proxies", nullptr, int(ids.size())));
    bool any = false;
    for (int i = 0; i < m_data.proxies.size(); ++i) {
        if (!m_data.proxies.at(i).error.isEmpty())
            continue;
        any = true;
        fetchStats(i);
        fetchRejections(i, 0);
    }
    if (!any) // answered from the event loop, as a request would be
        QTimer::singleShot(0, this, [this, generation = m_generation] {
            if (generation == m_generation)
                finish();
        });
}

void ReportBuilder::cancel()
{
    if (!m_running)
        return;
    ++m_generation; // answers still on their way are dropped
    m_running = false;
    Q_EMIT cancelled();
}

void ReportBuilder::fetchStats(int index)
{
    const QString id = m_data.proxies.at(index).id;
    protocol::StatsQuery query;
    query.from = m_data.from;
    query.to = m_data.to;
    query.stepMinutes = m_data.stepMinutes;
    m_registry.connection(id)->call(
        QStringLiteral("report"), query.toJson(),
        [this, guard = QPointer<ReportBuilder>(this), index,
         generation = m_generation](const ProxyConnection::Reply &reply) {
            if (!guard || generation != m_generation || !m_running)
                return;
            ReportProxy &p = m_data.proxies[index];
            protocol::ProtocolError error = reply.error;
            std::optional<protocol::StatsRange> range;
            if (reply.ok)
                range = protocol::StatsRange::fromJson(reply.result.toObject(), &error);
            if (range) {
                p.total = range->total;
                p.buckets = range->buckets;
            } else {
                p.error = tr("report: %1").arg(error.message);
            }
            stepDone(index, tr("Figures of %1").arg(p.name));
        });
}

void ReportBuilder::fetchRejections(int index, qint64 offset)
{
    const QString id = m_data.proxies.at(index).id;
    ProxyConnection *connection = m_registry.connection(id);
    if (!connection) {
        m_data.proxies[index].error = tr("removed while the report was built");
        stepDone(index, QString());
        return;
    }
    protocol::RejectionQuery query;
    query.from = m_data.from;
    query.to = m_data.to;
    query.offset = offset;
    query.limit = kPageRows;
    connection->call(
        QStringLiteral("rejections.list"), query.toJson(),
        [this, guard = QPointer<ReportBuilder>(this), index, offset,
         generation = m_generation](const ProxyConnection::Reply &reply) {
            if (!guard || generation != m_generation || !m_running)
                return;
            ReportProxy &p = m_data.proxies[index];
            protocol::ProtocolError error = reply.error;
            std::optional<protocol::RejectionPage> page;
            if (reply.ok)
                page = protocol::RejectionPage::fromJson(reply.result.toObject(), &error);
            if (!page) {
                p.error = tr("rejections.list: %1").arg(error.message);
                stepDone(index, QString());
                return;
            }
            p.rejections += page->rows;
            ++m_pages[index];
            if (page->more && !page->rows.isEmpty()) {
                if (m_pages.at(index) < kMaxPages) {
                    const int percent = qBound(0, m_pages.at(index) * 100 / kMaxPages, 99);
                    Q_EMIT progress(
                        percent / qMax<qsizetype>(1, m_data.proxies.size()),
                        tr("Rejections of %1: %2 rows").arg(p.name).arg(p.rejections.size()));
                    fetchRejections(index, offset + page->rows.size());
                    return;
                }
                p.rejectionsTruncated = true;
            }
            stepDone(index, tr("Rejections of %1").arg(p.name));
        });
}

void ReportBuilder::stepDone(int index, const QString &what)
{
    m_stepsLeft[index] = qMax(0, m_stepsLeft.at(index) - 1);
    if (!m_data.proxies.at(index).error.isEmpty())
        m_stepsLeft[index] = 0; // nothing more is used from a proxy that failed
    int total = 0;
    int left = 0;
    for (const ReportProxy &p : std::as_const(m_data.proxies))
        total += p.error.isEmpty() ? 2 : 0;
    for (int n : std::as_const(m_stepsLeft))
        left += n;
    if (left == 0) {
        finish();
        return;
    }
    total = qMax(total, left);
    Q_EMIT progress(int((total - left) * 100 / total), what);
}

void ReportBuilder::finish()
{
    m_running = false;
    if (m_data.answered() == 0) {
        QStringList why;
        for (const ReportProxy &p : std::as_const(m_data.proxies))
            why.append(p.name + QStringLiteral(": ") + p.error);
        Q_EMIT failed(m_data.proxies.isEmpty()
                          ? tr("No proxy to report on: add one on the Proxies page.")
                          : tr("No proxy answered (%1). Check the connections on the Proxies "
                               "page and build the report again.")
                                .arg(why.join(QStringLiteral("; "))));
        return;
    }
    Q_EMIT progress(100, tr("Done"));
    Q_EMIT finished(m_data);
}

} // namespace greygate
