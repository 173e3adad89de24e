// SPDX-License-Identifier: GPL-3.0-or-later
// "Sender Failed to Retry": when the sweep closes a retry window, the rejection is committed
// to the store and then recorded by the DecisionRecorder as a FailedToRetry event, counted in
// the per-minute statistics, the totals and the handler's counters; a triplet that retried
// in time yields none.
#include "ControlTestProxy.h"

#include <QTest>

using namespace greygate;
using namespace greygate::test;

class FailedToRetryTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void aClosedRetryWindowIsRecordedOnceCommitted();
    void aTripletThatRetriedInTimeIsNotRecorded();
    void nothingIsRecordedWithoutTheRecorder();

private:
    std::unique_ptr<ControlTestProxy> m_proxy;
};

void FailedToRetryTest::init()
{
    m_proxy = std::make_unique<ControlTestProxy>();
    QVERIFY2(m_proxy->ok, qPrintable(m_proxy->startError));
}

void FailedToRetryTest::cleanup()
{
    m_proxy.reset();
}

void FailedToRetryTest::aClosedRetryWindowIsRecordedOnceCommitted()
{
    ControlTestProxy &p = *m_proxy;
    const Seconds start = p.clock.now();
    QVERIFY(p.decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));
    QVERIFY(p.decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));
    const quint64 lastBefore = p.events.lastId();

    p.clock.advanceSeconds(p.config.retryWindow + 60);
    p.handler->sweepNow();

    QCOMPARE(p.handler->stats().failedToRetry, quint64(1));
    QCOMPARE(p.handler->pendingChanges(), 0); // committed before it was recorded
    QCOMPARE(p.events.lastId(), lastBefore + 1);
    std::vector<const Event *> events;
    QVERIFY(p.events.since(lastBefore, 10, &events));
    QCOMPARE(events.size(), size_t(1));
    const Event &e = *events.front();
    QCOMPARE(e.type, EventType::FailedToRetry);
    QCOMPARE(e.client, QByteArray("192.0.2.0/24"));
    QCOMPARE(e.sender, QByteArray("a@b.example"));
    QCOMPARE(e.recipient, QByteArray("c@corp.example"));
    QCOMPARE(e.attempts, quint32(2));
    QCOMPARE(e.action, QStringLiteral("Sender Failed to Retry"));

    QCOMPARE(p.events.totals().failedToRetry, quint32(1));
    QCOMPARE(p.events.stats().sum(start, p.clock.now() + 60).failedToRetry, quint32(1));

    // The store holds the same rejection the event tells of.
    QString error;
    const QList<RejectionEntry> stored = p.store->rejections(RejectionQuery{}, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(stored.size(), 1);
    QCOMPARE(stored.front().key.recipient, QByteArray("c@corp.example"));

    // A second sweep finds nothing more to record.
    p.handler->sweepNow();
    QCOMPARE(p.events.totals().failedToRetry, quint32(1));
}

void FailedToRetryTest::aTripletThatRetriedInTimeIsNotRecorded()
{
    ControlTestProxy &p = *m_proxy;
    QVERIFY(p.decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));
    QVERIFY(p.decide("198.51.100.1", "x@y.example", "c@corp.example").startsWith("DEFER"));
    p.clock.advanceSeconds(p.config.delay + 1);
    QVERIFY(!p.decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));

    p.clock.advanceSeconds(p.config.retryWindow + 60);
    p.handler->sweepNow();
    QCOMPARE(p.handler->stats().failedToRetry, quint64(1));
    QCOMPARE(p.events.totals().failedToRetry, quint32(1));
    QCOMPARE(p.events.totals().deferred, quint32(2));
    QCOMPARE(p.events.totals().passed, quint32(1));
}

void FailedToRetryTest::nothingIsRecordedWithoutTheRecorder()
{
    // The recorder disconnects when it goes: the handler may outlive it.
    ControlTestProxy &p = *m_proxy;
    QVERIFY(p.decide("192.0.2.1", "a@b.example", "c@corp.example").startsWith("DEFER"));
    const quint64 lastBefore = p.events.lastId();
    p.server.reset();
    p.recorder.reset();
    p.clock.advanceSeconds(p.config.retryWindow + 60);
    p.handler->sweepNow();
    QCOMPARE(p.handler->stats().failedToRetry, quint64(1));
    QCOMPARE(p.events.lastId(), lastBefore);
}

QTEST_GUILESS_MAIN(FailedToRetryTest)
#include "tst_failed_to_retry.moc"
