// SPDX-License-Identifier: GPL-3.0-or-later
// The event log: ids, the since-cursor, overflow and foreign cursors answered with "resync",
// per-minute statistics and their saved form.

#include "events/EventLog.h"

#include <QTest>

using namespace greygate;

namespace {

Event attempt(Seconds time, AttemptOutcome outcome)
{
    Event e;
    e.type = EventType::Attempt;
    e.time = time;
    e.outcome = outcome;
    e.client = "192.0.2.1";
    return e;
}

QList<quint64> ids(const std::vector<const Event *> &events)
{
    QList<quint64> out;
    for (const Event *e : events)
        out.append(e->id);
    return out;
}

} // namespace

class EventLogTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void idsIncreaseFromOne();
    void sinceReturnsWhatCameAfterTheCursor();
    void cursorThatFellOutOfTheRingNeedsResync();
    void cursorFromTheFutureNeedsResync();
    void wakeupFiresOncePerArm();
    void attemptsAreCountedPerMinute_data();
    void attemptsAreCountedPerMinute();
    void bucketsSumSteps();
    void minutesOlderThanTheRingReadAsZero();
    void statsSurviveSaveAndRestore();
    void malformedSavedStatsAreRefused_data();
    void malformedSavedStatsAreRefused();
};

void EventLogTest::idsIncreaseFromOne()
{
    EventLog log(10);
    QCOMPARE(log.lastId(), 0u);
    QCOMPARE(log.append(attempt(0, AttemptOutcome::Deferred)), 1u);
    QCOMPARE(log.append(attempt(0, AttemptOutcome::Passed)), 2u);
    QCOMPARE(log.lastId(), 2u);
    QCOMPARE(log.firstId(), 1u);
    QVERIFY(!log.epoch().isEmpty());
    QVERIFY(EventLog(10).epoch() != log.epoch());
}

void EventLogTest::sinceReturnsWhatCameAfterTheCursor()
{
    EventLog log(10);
    for (int i = 0; i < 5; ++i)
        log.append(attempt(i, AttemptOutcome::Deferred));
    std::vector<const Event *> out;
    QVERIFY(log.since(0, 100, &out));
    QCOMPARE(ids(out), (QList<quint64>{1, 2, 3, 4, 5}));
    out.clear();
    QVERIFY(log.since(3, 100, &out));
    QCOMPARE(ids(out), (QList<quint64>{4, 5}));
    out.clear();
    QVERIFY(log.since(1, 2, &out)); // bounded
    QCOMPARE(ids(out), (QList<quint64>{2, 3}));
    out.clear();
    QVERIFY(log.since(5, 100, &out)); // up to date
    QVERIFY(out.empty());
}

void EventLogTest::cursorThatFellOutOfTheRingNeedsResync()
{
    EventLog log(4);
    for (int i = 0; i < 10; ++i)
        log.append(attempt(i, AttemptOutcome::Deferred));
    QCOMPARE(log.firstId(), 7u);
    QCOMPARE(log.size(), 4);
    std::vector<const Event *> out;
    QVERIFY(!log.since(5, 100, &out)); // 6 is gone
    QVERIFY(out.empty());
    QVERIFY(log.since(6, 100, &out)); // 7.. are all held
    QCOMPARE(ids(out), (QList<quint64>{7, 8, 9, 10}));
    QCOMPARE(out.front()->time, 6);
}

void EventLogTest::cursorFromTheFutureNeedsResync()
{
    EventLog log(4);
    log.append(attempt(0, AttemptOutcome::Deferred));
    std::vector<const Event *> out;
    QVERIFY(!log.since(50, 100, &out)); // a cursor of an earlier run of the daemon
}

void EventLogTest::wakeupFiresOncePerArm()
{
    EventLog log(10);
    int wakes = 0;
    log.setWakeup([&] { ++wakes; });
    log.append(attempt(0, AttemptOutcome::Deferred));
    log.append(attempt(0, AttemptOutcome::Deferred));
    QCOMPARE(wakes, 1);
    log.arm();
    log.append(attempt(0, AttemptOutcome::Deferred));
    QCOMPARE(wakes, 2);
}

void EventLogTest::attemptsAreCountedPerMinute_data()
{
    QTest::addColumn<int>("outcome");
    QTest::addColumn<QList<quint32>>("expected"); // attempts deferred passed bypassed blocked
    QTest::newRow("deferred") << int(AttemptOutcome::Deferred) << QList<quint32>{1, 1, 0, 0, 0};
    QTest::newRow("passed") << int(AttemptOutcome::Passed) << QList<quint32>{1, 0, 1, 0, 0};
    QTest::newRow("known") << int(AttemptOutcome::PassedKnown) << QList<quint32>{1, 0, 1, 0, 0};
    QTest::newRow("whitelisted") << int(AttemptOutcome::Whitelisted)
                                 << QList<quint32>{1, 0, 1, 0, 0};
    QTest::newRow("bypassed") << int(AttemptOutcome::Bypassed) << QList<quint32>{1, 0, 0, 1, 0};
    QTest::newRow("outbound") << int(AttemptOutcome::Outbound) << QList<quint32>{1, 0, 0, 1, 0};
    QTest::newRow("blocked") << int(AttemptOutcome::Blocked) << QList<quint32>{1, 0, 0, 0, 1};
}

void EventLogTest::attemptsAreCountedPerMinute()
{
    QFETCH(int, outcome);
    QFETCH(QList<quint32>, expected);
    EventLog log(10);
    log.append(attempt(6000, AttemptOutcome(outcome)));
    const MinuteStats::Counts c = log.stats().sum(6000, 6060);
    QCOMPARE((QList<quint32>{c.attempts, c.deferred, c.passed, c.bypassed, c.blocked}), expected);
    QCOMPARE(log.totals(), c);
    QVERIFY(log.stats().sum(6060, 6120).isZero());
}

void EventLogTest::bucketsSumSteps()
{
    EventLog log(100);
    for (int minute = 0; minute < 10; ++minute) {
        for (int i = 0; i <= minute; ++i)
            log.append(attempt(60'000 + minute * 60 + i, AttemptOutcome::Deferred));
    }
    Event failed;
    failed.type = EventType::FailedToRetry;
    failed.time = 60'000 + 125;
    log.append(failed);

    const QList<MinuteStats::Bucket> perMinute = log.stats().range(60'000, 60'600, 1);
    QCOMPARE(perMinute.size(), 10);
    QCOMPARE(perMinute[3].time, 60'000 + 180);
    QCOMPARE(perMinute[3].counts.attempts, 4u);
    QCOMPARE(perMinute[2].counts.failedToRetry, 1u);

    const QList<MinuteStats::Bucket> fives = log.stats().range(60'000, 60'600, 5);
    QCOMPARE(fives.size(), 2);
    QCOMPARE(fives[0].counts.attempts, 1u + 2 + 3 + 4 + 5);
    QCOMPARE(fives[1].counts.attempts, 6u + 7 + 8 + 9 + 10);
    QCOMPARE(log.stats().sum(60'000, 60'600).attempts, 55u);
    QCOMPARE(log.totals().failedToRetry, 1u);
}

void EventLogTest::minutesOlderThanTheRingReadAsZero()
{
    MinuteStats stats(60); // one hour
    stats.countAttempt(0, AttemptOutcome::Deferred);
    QCOMPARE(stats.sum(0, 60).attempts, 1u);
    stats.countAttempt(3600, AttemptOutcome::Passed); // the same slot, an hour later
    QCOMPARE(stats.sum(0, 60).attempts, 0u);
    QCOMPARE(stats.sum(3600, 3660).passed, 1u);
    QCOMPARE(stats.sum(0, 7200).attempts, 1u);
}

void EventLogTest::statsSurviveSaveAndRestore()
{
    MinuteStats stats(1440);
    stats.countAttempt(120, AttemptOutcome::Deferred);
    stats.countAttempt(121, AttemptOutcome::Blocked);
    stats.countFailedToRetry(4000, 3);
    const QByteArray saved = stats.save();
    MinuteStats copy(1440);
    QVERIFY(copy.restore(saved));
    QCOMPARE(copy.sum(120, 180), stats.sum(120, 180));
    QCOMPARE(copy.sum(3960, 4020).failedToRetry, 3u);
    QCOMPARE(copy.save(), saved);
}

void EventLogTest::malformedSavedStatsAreRefused_data()
{
    MinuteStats stats(10);
    stats.countAttempt(60, AttemptOutcome::Deferred);
    const QByteArray good = stats.save();
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("truncated") << good.first(good.size() - 3);
    QTest::newRow("trailing bytes") << good + "x";
    QTest::newRow("bad magic") << ("XXXX" + good.mid(4));
    QByteArray tooMany = good;
    tooMany[11] = char(0x7f); // the count of buckets, beyond the ring
    QTest::newRow("too many buckets") << tooMany;
}

void EventLogTest::malformedSavedStatsAreRefused()
{
    QFETCH(QByteArray, bytes);
    MinuteStats stats(10);
    stats.countAttempt(600, AttemptOutcome::Passed);
    QVERIFY(!stats.restore(bytes));
    QCOMPARE(stats.sum(600, 660).passed, 1u); // untouched
}

QTEST_GUILESS_MAIN(EventLogTest)
#include "tst_event_log.moc"
