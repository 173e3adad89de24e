// SPDX-License-Identifier: GPL-3.0-or-later
#include "alerts/AlertMonitor.h"
#include "events/Event.h"

#include <QSignalSpy>
#include <QTest>

using namespace greygate;

namespace {

Event deferral(Seconds t)
{
    Event e;
    e.type = EventType::Attempt;
    e.outcome = AttemptOutcome::Deferred;
    e.time = t;
    return e;
}

Event failure(Seconds t, const QByteArray &sender)
{
    Event e;
    e.type = EventType::FailedToRetry;
    e.time = t;
    e.sender = sender;
    return e;
}

// `perMinute` deferrals each minute for `minutes`, evaluated every 10 s like the daemon.
void run(AlertMonitor &m, ManualClock &clock, int minutes, int perMinute,
         const QString &health = QStringLiteral("ok"))
{
    for (int i = 0; i < minutes * 6; ++i) {
        for (int n = 0; n < perMinute / 6; ++n)
            m.observe(deferral(clock.now()));
        clock.advanceSeconds(10);
        m.evaluate(clock.now(), health);
    }
}

QStringList kinds(const QSignalSpy &spy)
{
    QStringList out;
    for (const QList<QVariant> &args : spy) {
        const Alert a = args.at(0).value<Alert>();
        out.append(a.kind + (a.cleared ? QStringLiteral(" cleared") : QString()));
    }
    return out;
}

} // namespace

class AlertMonitorTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<Alert>("greygate::Alert"); }

    void steadyTrafficOfAnyVolumeRaisesNothing_data()
    {
        QTest::addColumn<int>("perMinute");
        QTest::newRow("quiet") << 6;
        QTest::newRow("busy") << 600;
        QTest::newRow("very busy") << 6000;
    }
    void steadyTrafficOfAnyVolumeRaisesNothing()
    {
        QFETCH(int, perMinute);
        ManualClock clock(1'800'000'000 - 1'800'000'000 % 3600);
        AlertMonitor m{AlertOptions{}};
        QSignalSpy spy(&m, &AlertMonitor::fired);
        run(m, clock, 3 * 60, perMinute);
        QCOMPARE(kinds(spy), QStringList());
    }

    void aDeferralSpikeFiresOnceAndClearsWhenItEnds()
    {
        ManualClock clock(1'800'000'000 - 1'800'000'000 % 3600);
        AlertMonitor m{AlertOptions{}};
        QSignalSpy spy(&m, &AlertMonitor::fired);
        run(m, clock, 90, 60); // steady: 60 a minute
        QCOMPARE(spy.size(), 0);
        run(m, clock, 10, 600); // ten times that for ten minutes
        QCOMPARE(kinds(spy), QStringList{QStringLiteral("deferralSpike")});
        const Alert a = spy.at(0).at(0).value<Alert>();
        QVERIFY2(a.value >= 3 * a.baseline, qPrintable(a.message));
        QVERIFY(a.message.contains(u"deferrals in the last 5 minutes"));
        run(m, clock, 30, 60); // back to normal
        QCOMPARE(kinds(spy), (QStringList{QStringLiteral("deferralSpike"),
                                          QStringLiteral("deferralSpike cleared")}));
    }

    void aSpikeBelowTheMinimumIsNoAlert()
    {
        ManualClock clock(1'800'000'000 - 1'800'000'000 % 3600);
        AlertOptions o;
        o.deferralMinimum = 500;
        AlertMonitor m{o};
        QSignalSpy spy(&m, &AlertMonitor::fired);
        run(m, clock, 90, 6);
        run(m, clock, 10, 60); // ten times more, but 300 in a window: under 500
        QCOMPARE(spy.size(), 0);
    }

    void failedToRetrySpikeOfOneDomainNamesIt()
    {
        ManualClock clock(1'800'000'000 - 1'800'000'000 % 3600);
        AlertOptions o;
        o.failedWindowMinutes = 10;
        o.failedBaselineWindows = 3;
        AlertMonitor m{o};
        QSignalSpy spy(&m, &AlertMonitor::fired);
        // Steady: two failures of usual.test per window, for six windows.
        for (int minute = 0; minute < 60; ++minute) {
            if (minute % 5 == 0)
                m.observe(failure(clock.now(), QByteArrayLiteral("a@usual.test")));
            clock.advanceMinutes(1);
            m.evaluate(clock.now(), QStringLiteral("ok"));
        }
        QCOMPARE(spy.size(), 0);
        // One window in which bulk.test fails 25 times while usual.test goes on as before.
        for (int minute = 0; minute < 10; ++minute) {
            for (int n = 0; n < 3; ++n)
                m.observe(failure(clock.now(), QByteArrayLiteral("x@Bulk.test")));
            if (minute % 5 == 0)
                m.observe(failure(clock.now(), QByteArrayLiteral("a@usual.test")));
            clock.advanceMinutes(1);
            m.evaluate(clock.now(), QStringLiteral("ok"));
        }
        QCOMPARE(kinds(spy), QStringList{QStringLiteral("failedToRetrySpike")});
        QCOMPARE(spy.at(0).at(0).value<Alert>().subject, QStringLiteral("bulk.test"));
        QCOMPARE(m.active().size(), 1);
        for (int minute = 0; minute < 11; ++minute) {
            clock.advanceMinutes(1);
            m.evaluate(clock.now(), QStringLiteral("ok"));
        }
        QCOMPARE(kinds(spy).last(), QStringLiteral("failedToRetrySpike cleared"));
        QVERIFY(m.active().isEmpty());
    }

    void storeTroubleFiresAfterTheGraceAndRepeatsOnlyAfterTheRepeatTime()
    {
        ManualClock clock;
        AlertMonitor m{AlertOptions{}};
        QSignalSpy spy(&m, &AlertMonitor::fired);
        m.evaluate(clock.now(), QStringLiteral("failing"));
        clock.advanceSeconds(59);
        m.evaluate(clock.now(), QStringLiteral("failing"));
        QCOMPARE(spy.size(), 0); // a blip within the grace period
        clock.advanceSeconds(1);
        m.evaluate(clock.now(), QStringLiteral("failing"));
        QCOMPARE(kinds(spy), QStringList{QStringLiteral("storeTrouble")});
        clock.advanceMinutes(29);
        m.evaluate(clock.now(), QStringLiteral("failing"));
        QCOMPARE(spy.size(), 1);
        clock.advanceMinutes(1);
        m.evaluate(clock.now(), QStringLiteral("down"));
        QCOMPARE(spy.size(), 2); // still going after 30 minutes: told again
        m.evaluate(clock.now(), QStringLiteral("up"));
        QCOMPARE(kinds(spy).last(), QStringLiteral("storeTrouble cleared"));
    }

    void badSettingsAreRefusedNamingTheKey()
    {
        AlertOptions o;
        QString error;
        QVERIFY(o.apply(QStringLiteral("deferral-factor=4, failed-minimum=20"), &error));
        QCOMPARE(o.deferralFactor, 4.0);
        QCOMPARE(o.failedMinimum, 20);
        QVERIFY(!o.apply(QStringLiteral("deferal-factor=4"), &error));
        QVERIFY(error.contains(u"\"deferal-factor\" is not an alert setting"));
        QVERIFY(!o.apply(QStringLiteral("deferral-factor=0.5"), &error));
        QVERIFY(error.startsWith(u"deferral-factor"));
        QVERIFY(!o.setWebhook(QStringLiteral("ftp://example.test/"), &error));
        QVERIFY(o.setWebhook(QStringLiteral("http://127.0.0.1:9/hook"), &error));
    }
};

QTEST_GUILESS_MAIN(AlertMonitorTest)
#include "tst_alert_monitor.moc"
