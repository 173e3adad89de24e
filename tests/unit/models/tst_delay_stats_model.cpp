// SPDX-License-Identifier: GPL-3.0-or-later
// DelayStatsModel and its three views of one `delay.stats` answer: per domain and per policy
// (display "7 min 12 s", sort on raw seconds), over time (every bucket of the range a row,
// empty ones at zero, minutes for the chart), hostile values clamped; and against a real
// greygated, a greylisted message accepted after its retry shows up with its domain.

#include "LiveModelsDaemon.h"
#include "models/DelayStatsModel.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

using namespace greygate;
using namespace greygate::test;

namespace {

QJsonObject summary(qint64 count, qint64 p50, qint64 p95, qint64 max, qint64 mean)
{
    return {{QStringLiteral("count"), count},
            {QStringLiteral("p50"), p50},
            {QStringLiteral("p95"), p95},
            {QStringLiteral("max"), max},
            {QStringLiteral("mean"), mean}};
}

QJsonObject with(QJsonObject o, const char *key, const QJsonValue &value)
{
    o.insert(QLatin1String(key), value);
    return o;
}

QJsonObject with(QJsonObject o, const char *key, const char *text)
{
    o.insert(QLatin1String(key), QString::fromUtf8(text));
    return o;
}

constexpr qint64 kFrom = 1'800'000'000 - 1'800'000'000 % 3600;

QJsonObject answer()
{
    return {{QStringLiteral("from"), kFrom},
            {QStringLiteral("to"), kFrom + 6 * 3600},
            {QStringLiteral("step"), QStringLiteral("hour")},
            {QStringLiteral("total"), summary(60, 420, 1900, 3500, 610)},
            {QStringLiteral("series"),
             QJsonArray{with(summary(40, 400, 1800, 3500, 600), "time", kFrom),
                        with(summary(20, 480, 2000, 2100, 640), "time", kFrom + 3 * 3600)}},
            {QStringLiteral("domains"),
             QJsonArray{with(summary(12, 432, 1900, 3500, 700), "domain", "slow.example"),
                        with(summary(40, 65, 300, 320, 90), "domain", "fast.example"),
                        with(summary(8, 4000, 5000, 5100, 4100), "domain", "(other)")}},
            {QStringLiteral("policies"),
             QJsonArray{with(with(summary(50, 400, 1900, 3500, 600), "policy", "none"), "name",
                             "greylisting (no policy)"),
                        with(with(summary(10, 60, 70, 80, 65), "policy", "7"), "name",
                             "partners: short delay")}}};
}

} // namespace

class DelayStatsModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void anAnswerFillsTheThreeViews();
    void delaysReadAsDurations_data();
    void delaysReadAsDurations();
    void hostileFiguresAreClampedNotTrusted();
    void anAcceptedRetryShowsUpWithItsDomain();
    void anUnknownProxyIsAnErrorNotACrash();
};

void DelayStatsModelTest::anAnswerFillsTheThreeViews()
{
    ProxyRegistry registry;
    DelayStatsModel model(registry);
    QAbstractItemModelTester t1(model.domains(),
                                QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(model.policies(),
                                QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t3(model.series(),
                                QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &DelayStatsModel::loaded);
    model.apply(answer());
    QCOMPARE(loaded.size(), 1);
    QCOMPARE(model.total().count, 60);
    QCOMPARE(model.total().p95, 1900);

    DelayBreakdownModel *domains = model.domains();
    QCOMPARE(domains->rowCount(), 3);
    QCOMPARE(domains->index(0, DelayBreakdownModel::Name).data().toString(),
             QStringLiteral("slow.example"));
    QCOMPARE(domains->index(0, DelayBreakdownModel::P50).data().toString(),
             DelaySummary::format(432));
    QCOMPARE(domains->index(0, DelayBreakdownModel::P50).data(Qt::UserRole).toLongLong(), 432);
    QCOMPARE(domains->index(1, DelayBreakdownModel::Count).data(Qt::UserRole).toLongLong(), 40);
    QCOMPARE(domains->headerData(DelayBreakdownModel::Name, Qt::Horizontal).toString(),
             DelayBreakdownModel::tr("Sender domain"));

    DelayBreakdownModel *policies = model.policies();
    QCOMPARE(policies->rowCount(), 2);
    QCOMPARE(policies->index(1, DelayBreakdownModel::Name).data().toString(),
             QStringLiteral("partners: short delay"));
    QVERIFY(policies->index(1, DelayBreakdownModel::Name)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(u"policy 7"));

    // Six hourly buckets, the empty ones at zero so the chart's line does not bridge them.
    DelaySeriesModel *series = model.series();
    QCOMPARE(series->rowCount(), 6);
    for (int row = 0; row < 6; ++row)
        QCOMPARE(series->index(row, DelaySeriesModel::Time).data(Qt::UserRole).toLongLong(),
                 kFrom + row * 3600);
    QCOMPARE(series->index(0, DelaySeriesModel::Time).data().toDateTime(),
             QDateTime::fromSecsSinceEpoch(kFrom));
    QCOMPARE(series->index(0, DelaySeriesModel::Count).data().toLongLong(), 40);
    QCOMPARE(series->index(1, DelaySeriesModel::Count).data().toLongLong(), 0);
    QCOMPARE(series->index(3, DelaySeriesModel::P50).data().toDouble(), 8.0); // 480 s
    QCOMPARE(series->index(0, DelaySeriesModel::P95).data().toDouble(), 30.0);
    QCOMPARE(series->index(0, DelaySeriesModel::Max).data(Qt::UserRole).toLongLong(), 3500);

    // An empty answer (another proxy, no figures) empties every view.
    model.apply({});
    QCOMPARE(domains->rowCount(), 0);
    QCOMPARE(series->rowCount(), 0);
    QCOMPARE(model.total().count, 0);
}

void DelayStatsModelTest::delaysReadAsDurations_data()
{
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("seconds") << qint64(40) << QStringLiteral("40 s");
    QTest::newRow("minutes") << qint64(432) << QStringLiteral("7 min 12 s");
    QTest::newRow("an hour") << qint64(3900) << QStringLiteral("1 h 05 min");
    QTest::newRow("days") << qint64(2 * 86400 + 7200) << QStringLiteral("2 d 2 h");
}

void DelayStatsModelTest::delaysReadAsDurations()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, text);
    QCOMPARE(DelaySummary::format(seconds), text);
}

void DelayStatsModelTest::hostileFiguresAreClampedNotTrusted()
{
    ProxyRegistry registry;
    DelayStatsModel model(registry);
    QJsonObject a = answer();
    a.insert(QStringLiteral("domains"),
             QJsonArray{with(summary(-5, -1, 1e15, 7, 3), "domain", "evil.example"), QJsonValue(42),
                        with(summary(1, 1, 1, 1, 1), "domain", "")});
    // A range of a million hours is cut to the model's bound, not allocated.
    a.insert(QStringLiteral("to"), kFrom + qint64(1'000'000) * 3600);
    model.apply(a);
    QCOMPARE(model.domains()->rowCount(), 1); // the number and the nameless row are dropped
    const DelaySummary &s = model.domains()->rows().first().summary;
    QCOMPARE(s.count, 0);
    QCOMPARE(s.p50, 0);
    QVERIFY(s.p95 <= 366LL * 86400);
    QCOMPARE(model.series()->rowCount(), int(DelaySeriesModel::kMaxPoints));
}

void DelayStatsModelTest::anAcceptedRetryShowsUpWithItsDomain()
{
    LiveModelsDaemon d;
    QVERIFY2(d.start(1), qPrintable(d.error));
    QVERIFY(d.connectRegistry());
    const QByteArray first = d.rcpt("192.0.2.44", "news@retry.example", "rcpt@corp.example");
    QVERIFY2(first.startsWith("DEFER_IF_PERMIT"), first.constData());
    // The retry passes once the 1 s delay is over (bounded).
    QVERIFY(QTest::qWaitFor(
        [&] {
            return !d.rcpt("192.0.2.44", "news@retry.example", "rcpt@corp.example")
                        .startsWith("DEFER");
        },
        10'000));

    DelayStatsModel model(d.registry);
    model.setRange({6 * 3600, DelayStatsModel::Step::Hour});
    QSignalSpy loaded(&model, &DelayStatsModel::loaded);
    // The daemon counts delays from its event log about once a second: ask until it has.
    model.setProxyId(d.proxyId);
    QVERIFY(QTest::qWaitFor(
        [&] {
            if (!loaded.wait(5000) || model.total().count == 1)
                return model.total().count == 1;
            model.reload();
            return false;
        },
        15'000));
    QCOMPARE(model.lastError(), QString());
    QVERIFY(model.total().max >= 1);
    QCOMPARE(model.domains()->rowCount(), 1);
    QCOMPARE(model.domains()->rows().first().name, QStringLiteral("retry.example"));
    QCOMPARE(model.policies()->rows().first().key, QStringLiteral("none"));
    QCOMPARE(model.series()->rowCount(), 6);
    QCOMPARE(model.series()->index(5, DelaySeriesModel::Count).data().toLongLong(), 1);
}

void DelayStatsModelTest::anUnknownProxyIsAnErrorNotACrash()
{
    ProxyRegistry registry;
    DelayStatsModel model(registry);
    QSignalSpy failed(&model, &DelayStatsModel::loadFailed);
    model.setProxyId(QStringLiteral("no-such-proxy"));
    QVERIFY(failed.wait(5000));
    QVERIFY(!model.lastError().isEmpty());
    QCOMPARE(model.domains()->rowCount(), 0);
}

QTEST_GUILESS_MAIN(DelayStatsModelTest)
#include "tst_delay_stats_model.moc"
