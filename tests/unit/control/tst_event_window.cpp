// SPDX-License-Identifier: GPL-3.0-or-later
// The event stream's shared window: every slice a subscriber gets is exactly its events, each
// encoded once, in order, from any cursor the window holds; it forgets what every subscriber
// has read, never holds more than its bound or what the log dropped, and starts again after
// the log overtook it.
#include "TestSupport.h"
#include "control/EventJson.h"
#include "events/EventLog.h"
#include "events/EventWindow.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace greygate;
using namespace greygate::test;

namespace {

int g_encoded = 0;

void countingEncoder(QByteArray *out, const Event &event)
{
    ++g_encoded;
    EventJson::appendJson(out, event);
}

void appendAttempts(EventLog *log, int n)
{
    for (int i = 0; i < n; ++i) {
        Event e;
        e.time = 1'800'000'000 + i;
        e.client = "192.0.2." + QByteArray::number(i % 250);
        e.sender = "s" + QByteArray::number(i) + "@b.example";
        e.recipient = "r@corp.example";
        log->append(std::move(e));
    }
}

// The ids of a slice wrapped as a frame, or {} when it is not a JSON array of events.
QList<qint64> idsOf(QByteArrayView slice)
{
    const QByteArray frame = "[" + slice.toByteArray() + "]";
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(frame, &error);
    QList<qint64> ids;
    if (error.error != QJsonParseError::NoError || !doc.isArray())
        return ids;
    for (const QJsonValue &v : doc.array())
        ids.append(v.toObject().value(QStringLiteral("id")).toInteger());
    return ids;
}

} // namespace

class EventWindowTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sliceFromAnyCursorIsItsNextEventsInOrder_data();
    void sliceFromAnyCursorIsItsNextEventsInOrder();
    void eachEventIsEncodedOnceForEverySubscriber();
    void readEventsAreForgottenAndOlderCursorsAreRefused();
    void windowIsBoundedAndStartsAgainWhenTheLogOvertakesIt();
};

void EventWindowTest::sliceFromAnyCursorIsItsNextEventsInOrder_data()
{
    QTest::addColumn<int>("cursor");
    QTest::addColumn<int>("max");
    QTest::addColumn<QList<qint64>>("ids");
    QTest::newRow("from the start") << 0 << 100 << range<qint64>(1, 20);
    QTest::newRow("from the middle") << 7 << 100 << range<qint64>(8, 20);
    QTest::newRow("bounded by max") << 3 << 5 << range<qint64>(4, 8);
    QTest::newRow("the last one") << 19 << 100 << range<qint64>(20, 20);
    QTest::newRow("nothing new") << 20 << 100 << QList<qint64>();
    QTest::newRow("max zero") << 3 << 0 << QList<qint64>();
}

void EventWindowTest::sliceFromAnyCursorIsItsNextEventsInOrder()
{
    QFETCH(int, cursor);
    QFETCH(int, max);
    QFETCH(QList<qint64>, ids);
    EventLog log(1000);
    appendAttempts(&log, 20);
    EventWindow window(&EventJson::appendJson, 1000);
    window.update(log, 0);
    QByteArrayView slice;
    quint64 lastId = 0;
    const bool got = window.slice(quint64(cursor), max, &slice, &lastId);
    QCOMPARE(got, !ids.isEmpty());
    if (!got)
        return;
    QCOMPARE(idsOf(slice), ids);
    QCOMPARE(lastId, quint64(ids.last()));
    // The bytes are exactly the events' own JSON, comma-separated.
    std::vector<const Event *> events;
    QVERIFY(log.since(quint64(cursor), max, &events));
    QByteArray expected;
    for (const Event *e : events) {
        if (!expected.isEmpty())
            expected.append(',');
        EventJson::appendJson(&expected, *e);
    }
    QCOMPARE(slice.toByteArray(), expected);
}

void EventWindowTest::eachEventIsEncodedOnceForEverySubscriber()
{
    EventLog log(1000);
    EventWindow window(&countingEncoder, 1000);
    g_encoded = 0;
    appendAttempts(&log, 30);
    window.update(log, 0);
    QByteArrayView slice;
    quint64 lastId = 0;
    // Ten subscribers at ten cursors read from the same bytes.
    for (quint64 cursor = 0; cursor < 10; ++cursor) {
        QVERIFY(window.slice(cursor, 100, &slice, &lastId));
        QCOMPARE(lastId, 30u);
    }
    appendAttempts(&log, 10);
    window.update(log, 5);
    QVERIFY(window.slice(5, 100, &slice, &lastId));
    QCOMPARE(idsOf(slice), range<qint64>(6, 40));
    QCOMPARE(g_encoded, 40);
}

void EventWindowTest::readEventsAreForgottenAndOlderCursorsAreRefused()
{
    EventLog log(10'000);
    EventWindow window(&EventJson::appendJson, 10'000);
    appendAttempts(&log, 100);
    window.update(log, 0);
    const qsizetype full = window.bytes();
    // Everyone has read up to 90 (repeatedly, so that the dropped part is compacted away).
    for (int round = 0; round < 3; ++round) {
        appendAttempts(&log, 100);
        window.update(log, log.lastId() - 10);
    }
    QCOMPARE(window.after(), log.lastId() - 10);
    QCOMPARE(window.count(), 10);
    QVERIFY(window.bytes() < full);
    QByteArrayView slice;
    quint64 lastId = 0;
    QVERIFY(!window.slice(window.after() - 1, 100, &slice, &lastId));
    QVERIFY(window.slice(window.after(), 100, &slice, &lastId));
    QCOMPARE(idsOf(slice), range<qint64>(qint64(window.after()) + 1, qint64(log.lastId())));
    // All read: the window empties, and starts again where the next subscriber is.
    window.update(log, log.lastId());
    QCOMPARE(window.count(), 0);
    QVERIFY(!window.slice(log.lastId(), 100, &slice, &lastId));
    window.update(log, log.lastId() - 50);
    QCOMPARE(window.count(), 50);
    QVERIFY(window.slice(log.lastId() - 50, 100, &slice, &lastId));
    QCOMPARE(idsOf(slice).size(), 50);
}

void EventWindowTest::windowIsBoundedAndStartsAgainWhenTheLogOvertakesIt()
{
    EventLog log(100);
    EventWindow window(&EventJson::appendJson, 40);
    appendAttempts(&log, 30);
    window.update(log, 0);
    QCOMPARE(window.after(), 0u);
    QCOMPARE(window.count(), 30);
    // A slow subscriber at 0 cannot make it hold more than its bound...
    appendAttempts(&log, 30);
    window.update(log, 0);
    QCOMPARE(window.count(), 40);
    QCOMPARE(window.after(), 20u);
    QByteArrayView slice;
    quint64 lastId = 0;
    QVERIFY(!window.slice(0, 100, &slice, &lastId));
    QVERIFY(window.slice(20, 100, &slice, &lastId));
    QCOMPARE(idsOf(slice), range<qint64>(21, 60));
    // ...nor anything the log dropped (it holds 100): far ahead, it starts again.
    appendAttempts(&log, 500);
    window.update(log, 20);
    QCOMPARE(window.after(), 520u);
    QCOMPARE(window.last(), 560u);
    QVERIFY(window.slice(530, 100, &slice, &lastId));
    QCOMPARE(idsOf(slice), range<qint64>(531, 560));
}

QTEST_GUILESS_MAIN(EventWindowTest)
#include "tst_event_window.moc"
