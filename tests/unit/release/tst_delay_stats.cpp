// SPDX-License-Identifier: GPL-3.0-or-later
#include "events/DelayStats.h"

#include <QTest>

using namespace greygate;

class DelayStatsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void percentilesAreWithinTenPercentAndMaxIsExact()
    {
        DelayHistogram h;
        for (int i = 1; i <= 100; ++i)
            h.add(i * 60); // 1 to 100 minutes
        const DelayHistogram::Summary s = h.summary();
        QCOMPARE(s.count, quint64(100));
        QCOMPARE(s.max, Seconds(6000));
        QVERIFY2(s.p50 >= 3000 && s.p50 <= 3300, qPrintable(QString::number(s.p50)));
        QVERIFY2(s.p95 >= 5700 && s.p95 <= 6000, qPrintable(QString::number(s.p95)));
        QCOMPARE(s.mean, Seconds(3030));
    }

    void delaysAreSplitByDomainPolicyAndStep()
    {
        DelayStats d;
        const Seconds t0 = 1'800'000'000 - 1'800'000'000 % 86400;
        for (int i = 0; i < 10; ++i)
            d.count(t0 + 60, "a@Fast.test", DelayStats::kNoPolicy, 300);
        d.count(t0 + 3600 + 60, "b@slow.test", 7, 7200);
        d.count(t0 + 3600 + 120, "<>", 7, 900);
        const DelayStats::Result hourly = d.query(t0, t0 + 86400, 3600, 10);
        QCOMPARE(hourly.total.count, quint64(12));
        QCOMPARE(hourly.total.max, Seconds(7200));
        QCOMPARE(hourly.series.size(), 2);
        QCOMPARE(hourly.series[0].time, t0);
        QCOMPARE(hourly.series[0].summary.p50, Seconds(300));
        QCOMPARE(hourly.series[1].summary.count, quint64(2));
        QCOMPARE(hourly.domains.first().domain, QByteArray("fast.test"));
        QCOMPARE(hourly.domains.first().summary.count, quint64(10));
        QCOMPARE(hourly.policies.size(), 2);
        QCOMPARE(hourly.policies[0].policy, DelayStats::kNoPolicy);
        QCOMPARE(hourly.policies[1].policy, qint64(7));
        QCOMPARE(hourly.policies[1].summary.max, Seconds(7200));
        const DelayStats::Result daily = d.query(t0, t0 + 86400, 86400, 1);
        QCOMPARE(daily.series.size(), 1);
        QCOMPARE(daily.series[0].summary.count, quint64(12));
        QCOMPARE(daily.domains.size(), 2); // fast.test, then (other) with the rest
        QCOMPARE(daily.domains.last().domain, DelayStats::kOther);
        QCOMPARE(daily.domains.last().summary.count, quint64(2));
    }

    void policiesPastTheBoundAreCountedAsOtherAndKnownOnesStillByTheirId()
    {
        DelayStats d;
        const Seconds t0 = 1'800'000'000 - 1'800'000'000 % 3600;
        for (qint64 p = 1; p <= DelayStats::kMaxPolicies + 10; ++p)
            d.count(t0 + 1, "a@x.test", p, 60);
        d.count(t0 + 2, "a@x.test", 1, 120);                            // known: its own id
        d.count(t0 + 3, "a@x.test", DelayStats::kMaxPolicies + 5, 180); // new past the bound
        const DelayStats::Result r = d.query(t0, t0 + 3600, 3600, 10);
        QCOMPARE(r.total.count, quint64(DelayStats::kMaxPolicies + 12));
        QCOMPARE(r.policies.size(), DelayStats::kMaxPolicies + 1);
        QCOMPARE(r.policies[0].policy, DelayStats::kOtherPolicy); // 11, the most mail
        QCOMPARE(r.policies[0].summary.count, quint64(11));
        QCOMPARE(r.policies[0].summary.max, Seconds(180));
        QCOMPARE(r.policies[1].policy, qint64(1));
        QCOMPARE(r.policies[1].summary.count, quint64(2));
        QCOMPARE(r.policies[1].summary.max, Seconds(120));
        for (const DelayStats::PolicyDelay &p : r.policies)
            QVERIFY(p.policy == DelayStats::kOtherPolicy || p.policy <= DelayStats::kMaxPolicies);
    }

    void saveAndRestoreGiveTheSameFiguresAndDamageIsRefused()
    {
        DelayStats d;
        const Seconds t0 = 1'800'000'000;
        for (int i = 0; i < 50; ++i)
            d.count(t0 + i * 600,
                    QByteArray(QByteArray("s@d") + QByteArray::number(i % 7) + ".test"), i % 3,
                    60 + i * 13);
        const QByteArray bytes = d.save();
        QVERIFY(bytes.size() <= d.maxBytes());
        DelayStats back;
        QVERIFY(back.restore(bytes));
        const DelayStats::Result a = d.query(t0 - 3600, t0 + 86400, 3600, 10);
        const DelayStats::Result b = back.query(t0 - 3600, t0 + 86400, 3600, 10);
        QCOMPARE(b.total.count, a.total.count);
        QCOMPARE(b.total.p95, a.total.p95);
        QCOMPARE(b.series.size(), a.series.size());
        QCOMPARE(b.domains.size(), a.domains.size());
        QByteArray damaged = bytes;
        damaged[damaged.size() / 2] = char(damaged[damaged.size() / 2] ^ 0x5a);
        DelayStats refused;
        if (!refused.restore(damaged))
            QCOMPARE(refused.query(t0 - 3600, t0 + 86400, 3600, 10).total.count, quint64(0));
        QVERIFY(!refused.restore(bytes.left(bytes.size() - 3)));
        QVERIFY(!refused.restore(QByteArray("GGDL garbage")));
    }
};

QTEST_GUILESS_MAIN(DelayStatsTest)
#include "tst_delay_stats.moc"
