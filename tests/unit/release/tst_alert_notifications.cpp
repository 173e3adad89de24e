// SPDX-License-Identifier: GPL-3.0-or-later
// The console's alerts: a proxy's "alert" event becomes a notification, a lost proxy one
// after the grace period (not for a quick reconnect), a silent one after its minutes; the
// notification bar shows them in order, escaped, bounded.
#include "client/ProxyRegistry.h"
#include "models/AlertFeed.h"
#include "widgets/NotificationBar.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QSignalSpy>
#include <QTest>

using namespace greygate;

class AlertNotificationsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aProxyAlertEventBecomesANotification()
    {
        ProxyRegistry registry;
        AlertFeed feed(registry);
        QSignalSpy spy(&feed, &AlertFeed::notify);
        const QJsonObject alert{{QStringLiteral("type"), QStringLiteral("alert")},
                                {QStringLiteral("kind"), QStringLiteral("failedToRetrySpike")},
                                {QStringLiteral("message"), QStringLiteral("25 senders failed")},
                                {QStringLiteral("cleared"), false}};
        Q_EMIT registry.eventsReceived(
            QStringLiteral("mx1"),
            QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("attempt")}}, alert});
        QCOMPARE(spy.size(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("mx1: failed-to-retry spike"));
        QCOMPARE(spy.at(0).at(1).toString(), QStringLiteral("25 senders failed"));
        QCOMPARE(spy.at(0).at(2).toBool(), false);
    }

    void aLostProxyIsReportedAfterTheGraceAndAQuickReconnectIsNot()
    {
        ProxyRegistry registry;
        AlertFeed::Options o;
        o.lostGraceSeconds = 30;
        AlertFeed feed(registry, o);
        QSignalSpy spy(&feed, &AlertFeed::notify);
        using State = ProxyConnection::State;
        Q_EMIT registry.stateChanged(QStringLiteral("mx1"), State::Connected);
        Q_EMIT registry.stateChanged(QStringLiteral("mx1"), State::Reconnecting);
        const QDateTime now = QDateTime::currentDateTimeUtc();
        feed.check(now.addSecs(10));
        Q_EMIT registry.stateChanged(QStringLiteral("mx1"), State::Connected); // quick
        feed.check(now.addSecs(60));
        QCOMPARE(spy.size(), 0);
        Q_EMIT registry.stateChanged(QStringLiteral("mx1"), State::Reconnecting);
        feed.check(now.addSecs(20));
        QCOMPARE(spy.size(), 0);
        feed.check(now.addSecs(31));
        QCOMPARE(spy.size(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("mx1: disconnected"));
        feed.check(now.addSecs(90));
        QCOMPARE(spy.size(), 1); // said once
        Q_EMIT registry.stateChanged(QStringLiteral("mx1"), State::Connected);
        QCOMPARE(spy.size(), 2);
        QCOMPARE(spy.at(1).at(2).toBool(), true);
    }

    void aSilentProxyIsReported()
    {
        ProxyRegistry registry;
        AlertFeed::Options o;
        o.silentMinutes = 15;
        AlertFeed feed(registry, o);
        QSignalSpy spy(&feed, &AlertFeed::notify);
        Q_EMIT registry.stateChanged(QStringLiteral("mx1"), ProxyConnection::State::Connected);
        const QDateTime now = QDateTime::currentDateTimeUtc();
        feed.check(now.addSecs(14 * 60));
        QCOMPARE(spy.size(), 0);
        feed.check(now.addSecs(15 * 60 + 1));
        QCOMPARE(spy.size(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("mx1: silent"));
    }

    void theBarShowsAlertsInOrderEscapedAndBounded()
    {
        NotificationBar bar;
        QVERIFY(!bar.isVisibleTo(nullptr) || !bar.isVisible());
        bar.show(QStringLiteral("mx1: <b>spike</b>"), QStringLiteral("a & b"), false);
        bar.show(QStringLiteral("mx2: store trouble"), QStringLiteral("failing"), false);
        QVERIFY(!bar.isHidden());
        const QLabel *label = bar.findChild<QLabel *>();
        QVERIFY(label->text().contains(QStringLiteral("&lt;b&gt;spike&lt;/b&gt;")));
        QVERIFY(label->text().contains(QStringLiteral("a &amp; b")));
        QVERIFY(label->text().contains(QStringLiteral("1 more")));
        bar.dismiss();
        QCOMPARE(bar.currentTitle(), QStringLiteral("mx2: store trouble"));
        bar.dismiss();
        QVERIFY(bar.isHidden());
        for (int i = 0; i < 200; ++i)
            bar.show(QString::number(i), QString(), false);
        QCOMPARE(bar.waiting(), NotificationBar::kMaxKept);
        QCOMPARE(bar.currentTitle(), QStringLiteral("0"));
    }
};

QTEST_MAIN(AlertNotificationsTest)
#include "tst_alert_notifications.moc"
