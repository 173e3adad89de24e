// SPDX-License-Identifier: GPL-3.0-or-later
// The attempts ring policy.replay reads: bounded, oldest overwritten, fed by the EventLog,
// saved and restored (a restart keeps it), a damaged or oversized file refused.
#include "events/EventLog.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

class TstAttemptHistory : public QObject
{
    Q_OBJECT

private slots:
    void the_ring_keeps_the_latest_attempts_only();
    void since_answers_by_time_and_bounded_count();
    void the_event_log_feeds_attempts_and_counts_shadow_effects();
    void a_saved_ring_restores_exactly();
    void a_damaged_or_foreign_file_is_refused_and_leaves_it_empty_data();
    void a_damaged_or_foreign_file_is_refused_and_leaves_it_empty();
};

namespace {

Event attempt(Seconds time, const QByteArray &sender)
{
    Event e;
    e.type = EventType::Attempt;
    e.time = time;
    e.outcome = AttemptOutcome::Deferred;
    e.client = "192.0.2.1";
    e.sender = sender;
    e.recipient = "alice@example.com";
    return e;
}

} // namespace

void TstAttemptHistory::the_ring_keeps_the_latest_attempts_only()
{
    AttemptHistory h(3);
    for (int i = 0; i < 5; ++i)
        h.append(attempt(100 + i, "s" + QByteArray::number(i) + "@a.test"));
    Event other = attempt(200, "x@a.test");
    other.type = EventType::QueueChange;
    h.append(other);
    QCOMPARE(h.size(), 3);
    const QList<AttemptRecord> all = h.since(0, 100);
    QCOMPARE(all.size(), 3);
    QCOMPARE(all[0].sender, QByteArray("s2@a.test"));
    QCOMPARE(all[2].sender, QByteArray("s4@a.test"));
    QCOMPARE(h.oldest(), 102);
    // Fields beyond the bound are cut, not stored whole.
    h.append(attempt(300, QByteArray(5000, 'x')));
    QCOMPARE(h.since(300, 1)[0].sender.size(), AttemptHistory::kMaxField);
}

void TstAttemptHistory::since_answers_by_time_and_bounded_count()
{
    AttemptHistory h(100);
    for (int i = 0; i < 10; ++i)
        h.append(attempt(1000 + i * 10, "s@a.test"));
    QCOMPARE(h.since(1050, 100).size(), 5);
    QCOMPARE(h.since(1050, 100)[0].time, 1050);
    QCOMPARE(h.since(0, 3).size(), 3);
    QCOMPARE(h.since(0, 3)[0].time, 1070); // the latest ones
    QCOMPARE(h.since(5000, 10).size(), 0);
}

void TstAttemptHistory::the_event_log_feeds_attempts_and_counts_shadow_effects()
{
    EventLog log(100);
    log.setAttemptAnnotator([](Event &e) {
        if (e.sender.endsWith("@partner.test")) {
            e.shadow = ShadowEffect::Bypass;
            e.shadowPolicy = 7;
        }
    });
    log.append(attempt(3600, "a@partner.test"));
    log.append(attempt(3601, "b@other.test"));
    log.append(attempt(3602 + 7200, "c@partner.test")); // two hours later
    QCOMPARE(log.attempts().size(), 3);
    std::vector<const Event *> events;
    QVERIFY(log.since(0, 10, &events));
    QCOMPARE(events[0]->shadow, ShadowEffect::Bypass);
    QCOMPARE(events[1]->shadow, ShadowEffect::None);
    QCOMPARE(log.shadow().total(7).bypass, 2u);
    QCOMPARE(log.shadow().lastHour(7, 3602 + 7200).bypass, 1u);
    QCOMPARE(log.shadow().lastHour(7, 3602 + 7200).greylist, 0u);
    QCOMPARE(log.shadow().lastHour(8, 3602 + 7200).bypass, 0u);
    log.setAttemptAnnotator(nullptr);
    log.append(attempt(3602 + 7201, "d@partner.test"));
    QCOMPARE(log.shadow().total(7).bypass, 2u);
}

void TstAttemptHistory::a_saved_ring_restores_exactly()
{
    QTemporaryDir dir;
    const QString path = AttemptHistory::path(dir.filePath(QStringLiteral("stats.bin")));
    QCOMPARE(path, dir.filePath(QStringLiteral("attempts.bin")));
    AttemptHistory h(4);
    for (int i = 0; i < 6; ++i) {
        Event e = attempt(100 + i, "s" + QByteArray::number(i) + "@a.test");
        e.outcome = i % 2 ? AttemptOutcome::Bypassed : AttemptOutcome::Outbound;
        e.decidedBy = i % 2 ? DecidedBy::Policy : DecidedBy::Outbound;
        e.ref = i;
        h.append(e);
    }
    QString error;
    QVERIFY2(h.save(path, &error), qPrintable(error));
    AttemptHistory back(4);
    bool restored = false;
    QVERIFY2(back.restore(path, &restored, &error), qPrintable(error));
    QVERIFY(restored);
    QCOMPARE(back.since(0, 10), h.since(0, 10));
    // No file: nothing restored, no error (a first start).
    AttemptHistory fresh(4);
    QVERIFY(fresh.restore(dir.filePath(QStringLiteral("none.bin")), &restored, &error));
    QVERIFY(!restored);
}

void TstAttemptHistory::a_damaged_or_foreign_file_is_refused_and_leaves_it_empty_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("not ours") << QByteArray("hello world, this is not an attempts file");
    QByteArray good;
    {
        QTemporaryDir dir;
        AttemptHistory h(4);
        h.append(attempt(100, "s@a.test"));
        QString error;
        h.save(dir.filePath(QStringLiteral("a.bin")), &error);
        QFile f(dir.filePath(QStringLiteral("a.bin")));
        f.open(QIODevice::ReadOnly);
        good = f.readAll();
    }
    QTest::newRow("truncated") << good.left(good.size() - 3);
    QByteArray tooMany = good;
    tooMany[11] = char(99); // count beyond the capacity
    QTest::newRow("more records than the ring holds") << tooMany;
    QByteArray longField = good;
    longField[12 + 18] = char(0x7f); // the client's length, far beyond kMaxField
    QTest::newRow("a field beyond the bound") << longField;
}

void TstAttemptHistory::a_damaged_or_foreign_file_is_refused_and_leaves_it_empty()
{
    QFETCH(QByteArray, bytes);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("attempts.bin"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
    f.close();
    AttemptHistory h(4);
    h.append(attempt(50, "kept@a.test"));
    bool restored = false;
    QString error;
    QVERIFY(!h.restore(path, &restored, &error));
    QVERIFY(!restored);
    QVERIFY(!error.isEmpty());
    QCOMPARE(h.size(), 1); // left as it was
}

QTEST_GUILESS_MAIN(TstAttemptHistory)
#include "tst_attempt_history.moc"
