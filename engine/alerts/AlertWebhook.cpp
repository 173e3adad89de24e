// SPDX-License-Identifier: GPL-3.0-or-later
#include "AlertWebhook.h"

#include "util/LogLine.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace greygate {

namespace {
Q_LOGGING_CATEGORY(lcAlerts, "greygate.alerts")
}

AlertWebhook::AlertWebhook(const AlertOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    m_network.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    m_backoff.setSingleShot(true);
    connect(&m_backoff, &QTimer::timeout, this, &AlertWebhook::next);
}

AlertWebhook::~AlertWebhook()
{
    if (m_inFlight) {
        m_inFlight->disconnect(this);
        m_inFlight->abort();
    }
}

void AlertWebhook::send(const Alert &alert)
{
    if (!m_options.webhook.isValid())
        return;
    m_queue.push_back(alert);
    while (qsizetype(m_queue.size()) > m_options.webhookQueue) {
        // The oldest goes: unless it is the one being sent (it finishes or fails first).
        const auto victim =
            m_inFlight || m_backoff.isActive() ? m_queue.begin() + 1 : m_queue.begin();
        ++m_stats.dropped;
        Q_EMIT droppedAlert(victim->id, QStringLiteral("the webhook queue is full"));
        m_queue.erase(victim);
    }
    if (!m_inFlight && !m_backoff.isActive())
        next();
}

void AlertWebhook::next()
{
    if (m_queue.empty() || m_inFlight)
        return;
    QNetworkRequest request(m_options.webhook);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setHeader(QNetworkRequest::UserAgentHeader,
                      QByteArrayLiteral("greygated/" GREYGATE_VERSION));
    request.setTransferTimeout(m_options.webhookTimeoutSeconds * 1000);
    const QByteArray body =
        QJsonDocument(QJsonObject{{QStringLiteral("alert"), m_queue.front().toJson()}})
            .toJson(QJsonDocument::Compact);
    ++m_tries;
    m_inFlight = m_network.post(request, body);
    connect(m_inFlight, &QNetworkReply::finished, this,
            [this, reply = m_inFlight.data()] { finished(reply); });
}

void AlertWebhook::finished(QNetworkReply *reply)
{
    reply->deleteLater();
    m_inFlight = nullptr;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() == QNetworkReply::NoError && status >= 200 && status < 300) {
        ++m_stats.delivered;
        Q_EMIT delivered(m_queue.front().id);
        m_queue.pop_front();
        m_tries = 0;
        next();
        return;
    }
    retryLater(status ? QStringLiteral("HTTP %1").arg(status) : reply->errorString());
}

void AlertWebhook::retryLater(const QString &why)
{
    ++m_stats.failedTries;
    if (m_tries > m_options.webhookRetries) {
        const Alert dropped = m_queue.front();
        m_queue.pop_front();
        m_tries = 0;
        ++m_stats.dropped;
        qCWarning(lcAlerts).noquote() << LogLine("alert webhook gave up")
                                             .add("url", m_options.webhook.toDisplayString())
                                             .add("alert", dropped.kind)
                                             .add("error", why)
                                             .text();
        Q_EMIT droppedAlert(dropped.id, why);
        next();
        return;
    }
    const qint64 backoff = std::min<qint64>(qint64(1) << std::min(m_tries - 1, 20),
                                            m_options.webhookMaxBackoffSeconds);
    qCInfo(lcAlerts).noquote() << LogLine("alert webhook failed, retrying")
                                      .add("url", m_options.webhook.toDisplayString())
                                      .add("error", why)
                                      .add("retry_in_s", backoff)
                                      .text();
    m_backoff.start(int(backoff * 1000));
}

} // namespace greygate
