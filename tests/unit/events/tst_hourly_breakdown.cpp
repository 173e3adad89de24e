// SPDX-License-Identifier: GPL-3.0-or-later
// The hourly breakdown behind stats.breakdown: attempts per decider over whole hours of a
// range, deferred sender domains ranked with the rest summed as "other", the bounds (a
// closed hour keeps its top domains, the live hour a bounded number), the 8-day ring, and
// the saved form (round trip through StatsFile; a damaged file is refused, changing nothing).
#include "events/EventLog.h"
#include "events/HourlyBreakdown.h"
#include "events/StatsFile.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

namespace {

constexpr Seconds kT0 = 1'800'000'000 - 1'800'000'000 % 3600; // an hour's first second

Event attempt(Seconds time, AttemptOutcome outcome, DecidedBy by, qint64 ref,
              const QByteArray &sender)
{
    Event e;
    e.type = EventType::Attempt;
    e.time = time;
    e.outcome = outcome;
    e.decidedBy = by;
    e.ref = ref;
    e.sender = sender;
    return e;
}

const HourlyBreakdown::DeciderCounts *find(const HourlyBreakdown::Result &r, DecidedBy by,
                                           qint64 id = 0)
{
    for (const HourlyBreakdown::DeciderCounts &d : r.deciders) {
        if (d.decider.by == by && d.decider.id == id)
            return &d;
    }
    return nullptr;
}

} // namespace

class HourlyBreakdownTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsAttemptsPerDeciderOverWholeHours();
    void ranksDeferredSenderDomainsWithTheRestAsOther();
    void aClosedHourKeepsItsTopDomainsAndTheLiveHourIsBounded();
    void hoursOlderThanTheRingReadAsEmpty();
    void survivesASaveAndRestoreThroughStatsFile();
    void aDamagedFileIsRefused();
};

void HourlyBreakdownTest::countsAttemptsPerDeciderOverWholeHours()
{
    HourlyBreakdown b;
    b.count(attempt(kT0 + 10, AttemptOutcome::Deferred, DecidedBy::None, 0, "a@x.test"));
    b.count(attempt(kT0 + 20, AttemptOutcome::Passed, DecidedBy::None, 0, "a@x.test"));
    b.count(attempt(kT0 + 30, AttemptOutcome::Deferred, DecidedBy::Policy, 7, "b@y.test"));
    b.count(attempt(kT0 + 40, AttemptOutcome::Bypassed, DecidedBy::Policy, 8, "c@z.test"));
    b.count(attempt(kT0 + 50, AttemptOutcome::Blocked, DecidedBy::BlockedGroup, 2, "d@z.test"));
    b.count(attempt(kT0 + 3600, AttemptOutcome::Deferred, DecidedBy::None, 0, "e@x.test"));

    // [kT0+100, kT0+200) lies inside the first hour: the whole hour is counted.
    HourlyBreakdown::Result r = b.query(kT0 + 100, kT0 + 200, 10);
    const HourlyBreakdown::DeciderCounts *none = find(r, DecidedBy::None);
    QVERIFY(none);
    QCOMPARE(none->counts.attempts, 2u);
    QCOMPARE(none->counts.deferred, 1u);
    QCOMPARE(none->counts.passed, 1u);
    QCOMPARE(find(r, DecidedBy::Policy, 7)->counts.deferred, 1u);
    QCOMPARE(find(r, DecidedBy::Policy, 8)->counts.bypassed, 1u);
    QCOMPARE(find(r, DecidedBy::BlockedGroup, 2)->counts.blocked, 1u);
    QCOMPARE(r.deciders.first().decider.by, DecidedBy::None); // most attempts first

    r = b.query(kT0, kT0 + 7200, 10);
    QCOMPARE(find(r, DecidedBy::None)->counts.attempts, 3u);
    r = b.query(kT0 + 3600, kT0 + 7200, 10);
    QCOMPARE(r.deciders.size(), 1);
    QVERIFY(b.query(kT0 + 7200, kT0 + 9000, 10).deciders.isEmpty());
}

void HourlyBreakdownTest::ranksDeferredSenderDomainsWithTheRestAsOther()
{
    HourlyBreakdown b;
    for (int i = 0; i < 5; ++i)
        b.count(attempt(kT0 + i, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@Big.test"));
    for (int i = 0; i < 3; ++i)
        b.count(attempt(kT0 + i, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@mid.test"));
    b.count(attempt(kT0, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@small.test"));
    b.count(attempt(kT0, AttemptOutcome::Deferred, DecidedBy::None, 0, "")); // null sender
    b.count(attempt(kT0, AttemptOutcome::Passed, DecidedBy::None, 0, "u@passed.test"));

    const HourlyBreakdown::Result r = b.query(kT0, kT0 + 3600, 2);
    QCOMPARE(r.domains.size(), 2);
    QCOMPARE(r.domains[0].domain, QByteArray("big.test")); // lower-cased
    QCOMPARE(r.domains[0].deferred, 5u);
    QCOMPARE(r.domains[1].domain, QByteArray("mid.test"));
    QCOMPARE(r.otherDeferred, 2u); // small.test and the null sender; passes are not deferrals
}

void HourlyBreakdownTest::aClosedHourKeepsItsTopDomainsAndTheLiveHourIsBounded()
{
    HourlyBreakdown b;
    const int domains = HourlyBreakdown::kMaxLiveDomains + 50;
    // "d0" deferred most, then each domain once.
    for (int i = 0; i < 10; ++i)
        b.count(attempt(kT0, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@d0.test"));
    for (int i = 1; i < domains; ++i) {
        b.count(attempt(kT0, AttemptOutcome::Deferred, DecidedBy::None, 0,
                        "u@d" + QByteArray::number(i) + ".test"));
    }
    HourlyBreakdown::Result r = b.query(kT0, kT0 + 3600, 100);
    quint64 total = r.otherDeferred;
    for (const auto &d : r.domains)
        total += d.deferred;
    QCOMPARE(total, quint64(domains - 1 + 10)); // nothing lost, only folded into "other"
    QCOMPARE(r.domains.first().domain, QByteArray("d0.test"));

    // The next hour starts: the previous one is trimmed to its top domains, same total.
    b.count(attempt(kT0 + 3600, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@n.test"));
    r = b.query(kT0, kT0 + 3600, 100);
    QCOMPARE(r.domains.first().domain, QByteArray("d0.test"));
    QCOMPARE(r.domains.first().deferred, 10u);
    total = r.otherDeferred;
    for (const auto &d : r.domains)
        total += d.deferred;
    QCOMPARE(total, quint64(domains - 1 + 10));
    QVERIFY(b.save().size() < 64 * 1024); // the trimmed hour is small
}

void HourlyBreakdownTest::hoursOlderThanTheRingReadAsEmpty()
{
    HourlyBreakdown b(4); // four hours
    b.count(attempt(kT0, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@old.test"));
    b.count(attempt(kT0 + 4 * 3600, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@new.test"));
    const HourlyBreakdown::Result r = b.query(kT0, kT0 + 5 * 3600, 10);
    QCOMPARE(r.domains.size(), 1);
    QCOMPARE(r.domains.first().domain, QByteArray("new.test"));
}

void HourlyBreakdownTest::survivesASaveAndRestoreThroughStatsFile()
{
    QTemporaryDir dir;
    const QString path = StatsFile::path(dir.path());
    EventLog log;
    log.append(attempt(kT0, AttemptOutcome::Deferred, DecidedBy::Policy, 7, "u@a.test"));
    log.append(attempt(kT0 + 5, AttemptOutcome::Bypassed, DecidedBy::PermittedGroup, 3, "u@b"));
    log.append(attempt(kT0 + 3600, AttemptOutcome::Deferred, DecidedBy::None, 0, "u@c.test"));
    QString error;
    QVERIFY2(StatsFile::save(log, path, &error), qPrintable(error));
    QVERIFY(QFile::exists(StatsFile::hourlyPath(path)));

    EventLog restored;
    bool wasRestored = false;
    QVERIFY2(StatsFile::restore(restored, path, &wasRestored, &error), qPrintable(error));
    QVERIFY(wasRestored);
    const HourlyBreakdown::Result before = log.breakdown().query(kT0, kT0 + 7200, 10);
    const HourlyBreakdown::Result after = restored.breakdown().query(kT0, kT0 + 7200, 10);
    QCOMPARE(after.deciders.size(), before.deciders.size());
    QCOMPARE(find(after, DecidedBy::Policy, 7)->counts.deferred, 1u);
    QCOMPARE(find(after, DecidedBy::PermittedGroup, 3)->counts.bypassed, 1u);
    QCOMPARE(after.domains.size(), 2);
    QCOMPARE(restored.stats().sum(kT0, kT0 + 7200).attempts, 3u);

    // Counting goes on after a restore.
    restored.append(attempt(kT0 + 3700, AttemptOutcome::Deferred, DecidedBy::None, 0, "v@c.test"));
    QCOMPARE(restored.breakdown().query(kT0 + 3600, kT0 + 7200, 10).domains.first().deferred, 2u);
}

void HourlyBreakdownTest::aDamagedFileIsRefused()
{
    EventLog log;
    log.append(attempt(kT0, AttemptOutcome::Deferred, DecidedBy::Policy, 7, "u@a.test"));
    const QByteArray good = log.breakdown().save();
    HourlyBreakdown b;
    QVERIFY(b.restore(good));
    QVERIFY(!b.restore(good.left(good.size() - 3))); // truncated
    QByteArray wrong = good;
    wrong[0] = 'X';
    QVERIFY(!b.restore(wrong));
    QVERIFY(!b.restore(QByteArray(good + "trailing")));
    // A refused file changes nothing: what the good one restored is still there.
    QCOMPARE(b.query(kT0, kT0 + 3600, 10).deciders.size(), 1);
    HourlyBreakdown empty;
    QVERIFY(!empty.restore(wrong));
    QVERIFY(empty.query(kT0, kT0 + 3600, 10).deciders.isEmpty());
}

QTEST_GUILESS_MAIN(HourlyBreakdownTest)
#include "tst_hourly_breakdown.moc"
