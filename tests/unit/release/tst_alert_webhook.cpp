// SPDX-License-Identifier: GPL-3.0-or-later
#include "alerts/AlertWebhook.h"

#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace greygate;

namespace {

// A real HTTP listener on loopback: reads one request per connection, answers with the next
// status of `statuses` (the last one repeats), keeps the bodies it received.
class HookListener : public QObject
{
public:
    explicit HookListener(QList<int> statuses)
        : m_statuses(std::move(statuses))
    {
        QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection())
                connect(s, &QTcpSocket::readyRead, this, [this, s] { read(s); });
        });
    }
    QUrl url() const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1/hook").arg(m_server.serverPort()));
    }
    QList<QJsonObject> bodies;
    QList<QByteArray> heads;

private:
    void read(QTcpSocket *s)
    {
        QByteArray &buf = m_buffers[s];
        buf += s->readAll();
        const qsizetype end = buf.indexOf("\r\n\r\n");
        if (end < 0 || buf.size() > 1 << 20)
            return;
        const QByteArray head = buf.left(end);
        qsizetype length = 0;
        for (const QByteArray &line : head.split('\n')) {
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        }
        if (buf.size() < end + 4 + length)
            return;
        heads.append(head);
        bodies.append(QJsonDocument::fromJson(buf.mid(end + 4, length)).object());
        const int status = m_statuses.size() > 1 ? m_statuses.takeFirst() : m_statuses.first();
        s->write("HTTP/1.1 " + QByteArray::number(status) +
                 " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        s->disconnectFromHost();
        m_buffers.remove(s);
    }

    QTcpServer m_server;
    QList<int> m_statuses;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

Alert alert(quint64 id, const QString &kind)
{
    Alert a;
    a.id = id;
    a.time = 1'800'000'000;
    a.kind = kind;
    a.subject = QStringLiteral("bulk.test");
    a.message = QStringLiteral("25 senders from bulk.test failed to retry");
    a.value = 25;
    return a;
}

} // namespace

class AlertWebhookTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theListenerReceivesTheAlertAsJson()
    {
        HookListener listener({204});
        AlertOptions o;
        o.webhook = listener.url();
        AlertWebhook hook(o);
        QSignalSpy delivered(&hook, &AlertWebhook::delivered);
        hook.send(alert(1, QStringLiteral("failedToRetrySpike")));
        hook.send(alert(2, QStringLiteral("storeTrouble")));
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 2, 10'000);
        QCOMPARE(listener.bodies.size(), 2);
        const QJsonObject first = listener.bodies[0].value(QStringLiteral("alert")).toObject();
        QCOMPARE(first.value(QStringLiteral("kind")).toString(),
                 QStringLiteral("failedToRetrySpike"));
        QCOMPARE(first.value(QStringLiteral("subject")).toString(), QStringLiteral("bulk.test"));
        QCOMPARE(listener.bodies[1]
                     .value(QStringLiteral("alert"))
                     .toObject()
                     .value(QStringLiteral("kind")),
                 QJsonValue(QStringLiteral("storeTrouble")));
        QVERIFY(listener.heads[0].startsWith("POST /hook HTTP/1.1"));
        QVERIFY(listener.heads[0].toLower().contains("content-type: application/json"));
    }

    void aFailingReceiverIsRetriedWithBackoffThenGivenUp()
    {
        HookListener listener({500, 503, 200});
        AlertOptions o;
        o.webhook = listener.url();
        o.webhookRetries = 3;
        AlertWebhook hook(o);
        QSignalSpy delivered(&hook, &AlertWebhook::delivered);
        hook.send(alert(7, QStringLiteral("deferralSpike")));
        // Two failures (backoff 1 s, then 2 s), delivered on the third try.
        QTRY_COMPARE_WITH_TIMEOUT(delivered.size(), 1, 15'000);
        QCOMPARE(listener.bodies.size(), 3);
        QCOMPARE(hook.stats().failedTries, quint64(2));

        HookListener dead({500});
        o.webhook = dead.url();
        o.webhookRetries = 1;
        AlertWebhook giveUp(o);
        QSignalSpy dropped(&giveUp, &AlertWebhook::droppedAlert);
        giveUp.send(alert(8, QStringLiteral("deferralSpike")));
        QTRY_COMPARE_WITH_TIMEOUT(dropped.size(), 1, 10'000);
        QCOMPARE(dead.bodies.size(), 2); // the try and one retry
        QCOMPARE(dropped.at(0).at(1).toString(), QStringLiteral("HTTP 500"));
    }

    void theQueueIsBoundedDroppingTheOldest()
    {
        AlertOptions o;
        o.webhook = QUrl(QStringLiteral("http://127.0.0.1:9/")); // nothing listens: refused
        o.webhookQueue = 3;
        o.webhookRetries = 20;
        AlertWebhook hook(o);
        QSignalSpy dropped(&hook, &AlertWebhook::droppedAlert);
        for (quint64 id = 1; id <= 10; ++id)
            hook.send(alert(id, QStringLiteral("deferralSpike")));
        QCOMPARE(hook.queued(), 3);
        QCOMPARE(dropped.size(), 7);
    }
};

QTEST_GUILESS_MAIN(AlertWebhookTest)
#include "tst_alert_webhook.moc"
