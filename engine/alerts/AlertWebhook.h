// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Alert.h"
#include "AlertOptions.h"

#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <deque>

class QNetworkReply;

namespace greygate {

// Sends alerts to a webhook: one HTTP POST per alert, the body {"alert": {...}} as JSON
// (Content-Type application/json), one at a time in order. A try that times out
// (webhookTimeoutSeconds), fails to connect or gets a status other than 2xx is retried
// after 1, 2, 4... s (at most webhookMaxBackoffSeconds), up to webhookRetries times, then
// dropped and logged. At most webhookQueue alerts wait; beyond, the oldest is dropped, so a
// dead receiver costs bounded memory. Redirects are not followed.
class AlertWebhook : public QObject
{
    Q_OBJECT

public:
    explicit AlertWebhook(const AlertOptions &options, QObject *parent = nullptr);
    ~AlertWebhook() override;

    void send(const Alert &alert);

    struct Stats
    {
        quint64 delivered = 0;
        quint64 failedTries = 0;
        quint64 dropped = 0; // given up after the retries, or pushed out of a full queue
    };
    const Stats &stats() const { return m_stats; }
    qsizetype queued() const { return qsizetype(m_queue.size()); }

Q_SIGNALS:
    void delivered(quint64 alertId);
    void droppedAlert(quint64 alertId, const QString &why);

private:
    void next();
    void finished(QNetworkReply *reply);
    void retryLater(const QString &why);

    AlertOptions m_options;
    QNetworkAccessManager m_network;
    std::deque<Alert> m_queue;
    QPointer<QNetworkReply> m_inFlight;
    QTimer m_backoff;
    int m_tries = 0;
    Stats m_stats;
};

} // namespace greygate
