// SPDX-License-Identifier: GPL-3.0-or-later
// The binary event codec (docs/api.md, "Binary events"): every event type, every optional
// field, hostile bytes and long records decode to exactly the object form the JSON stream
// carries (EventJson::toJson); frames are a fraction of the JSON's bytes; a malformed frame
// is refused with a reason and nothing half-decoded; a record of a type the client does not
// know is skipped with its id still counted.
#include "control/EventBinary.h"
#include "control/EventJson.h"
#include "protocol/BinaryEvents.h"

#include <QJsonDocument>
#include <QTest>

using namespace greygate;
using protocol::BinaryEvents;

class EventBinaryTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyEventDecodesToItsObjectForm_data();
    void everyEventDecodesToItsObjectForm();
    void everyOutcomeDeciderAndShadowDecodes();
    void framesOfManyEventsKeepTheirIds();
    void aPlainAttemptIsAFractionOfItsJson();
    void malformedFramesAreRefused_data();
    void malformedFramesAreRefused();
    void unknownEventTypesAreSkippedButCounted();
};

namespace {

Event base(EventType type)
{
    Event e;
    e.id = 42;
    e.time = 1'800'000'000;
    e.type = type;
    e.outcome = AttemptOutcome::Deferred;
    e.attempts = 1;
    e.client = "192.0.2.1";
    e.sender = "a@b.example";
    e.recipient = "r@corp.example";
    return e;
}

QByteArray frameOf(const QList<Event> &events)
{
    QByteArray frame;
    BinaryEvents::appendHeader(&frame, events.first().id, quint64(events.size()));
    for (const Event &e : events)
        EventBinary::append(&frame, e);
    return frame;
}

// The object form as a client gets it over JSON (numbers through a document).
QJsonObject objectForm(const Event &e)
{
    return QJsonDocument::fromJson(QJsonDocument(EventJson::toJson(e)).toJson()).object();
}

} // namespace

void EventBinaryTest::everyEventDecodesToItsObjectForm_data()
{
    QTest::addColumn<int>("which");
    const char *rows[] = {"plain attempt",
                          "attempt: policy, reason, shadow, key, keyWhy",
                          "SMTP attempt with helo and TLS",
                          "SMTP attempt without helo",
                          "hostile bytes: invalid UTF-8, quotes, control characters",
                          "non-ASCII reason",
                          "long record (2-byte length)",
                          "very long record (3-byte length)",
                          "negative and large numbers",
                          "queue change",
                          "policy change",
                          "group change",
                          "auto allow change",
                          "failed to retry",
                          "message",
                          "alert, cleared",
                          "pool retry",
                          "empty strings everywhere"};
    for (int i = 0; i < int(std::size(rows)); ++i)
        QTest::newRow(rows[i]) << i;
}

void EventBinaryTest::everyEventDecodesToItsObjectForm()
{
    QFETCH(int, which);
    Event e = base(EventType::Attempt);
    switch (which) {
    case 0: // as the engine records an IP-keyed one: its keyWhy from the dictionary
        e.key = "192.0.2.1";
        e.keyWhy = "IP-based triplet: the client address";
        break;
    case 1:
        e.decidedBy = DecidedBy::Policy;
        e.ref = 7;
        e.action = QStringLiteral("bypass");
        e.shadow = ShadowEffect::Bypass;
        e.shadowPolicy = 9;
        e.key = "192.0.2.0/24";
        e.keyWhy = "ipv4 /24";
        break;
    case 2:
        e.source = EventSource::Smtp;
        e.helo = "mx.b.example";
        e.tls = true;
        break;
    case 3:
        e.source = EventSource::Smtp;
        break;
    case 4:
        e.sender = "\"x\\\\y\"\x01\x1f\xff\xfe@\xc3";
        e.recipient = QByteArray("nul\0byte", 8);
        e.action = QStringLiteral("a\"b\\\n");
        break;
    case 5:
        e.action = QStringLiteral("\u00e9t\u00e9 \U0001F600");
        e.decidedBy = DecidedBy::AutoAllow;
        break;
    case 6:
        e.keyWhy = QByteArray(300, 'k');
        break;
    case 7:
        e.keyWhy = QByteArray(70'000, 'k');
        break;
    case 8:
        e.time = -5;
        e.ref = -(qint64(1) << 40);
        e.decidedBy = DecidedBy::BlockedGroup;
        e.attempts = 0xffffffffu;
        e.id = BinaryEvents::kMaxId;
        break;
    case 9:
        e.type = EventType::QueueChange;
        e.action = QStringLiteral("queue.release");
        e.who = QStringLiteral("admin@127.0.0.1");
        break;
    case 10:
    case 11:
    case 12:
        e.type = which == 10   ? EventType::PolicyChange
                 : which == 11 ? EventType::GroupChange
                               : EventType::AutoAllowChange;
        e.subject = QStringLiteral("policy:7");
        e.action = QStringLiteral("policy.update");
        e.who = QStringLiteral("admin@127.0.0.1");
        e.ref = 12;
        break;
    case 13:
        e.type = EventType::FailedToRetry;
        e.attempts = 4;
        break;
    case 14:
        e.type = EventType::Message;
        e.source = EventSource::Smtp;
        e.helo = "mx.b.example";
        e.attempts = 3;
        e.bytes = 123'456;
        e.reply = "250 2.0.0 Ok: queued as ABC";
        break;
    case 15:
        e.type = EventType::Alert;
        e.subject = QStringLiteral("storeLatency");
        e.client = "store";
        e.action = QStringLiteral("the store answers slowly");
        e.ref = 3;
        e.attempts = 1;
        break;
    case 16:
        e.type = EventType::PoolRetry;
        e.subject = QStringLiteral("b.example");
        e.client = "192.0.2.1,198.51.100.7,,2001:db8::1";
        e.attempts = 3;
        e.ref = 2;
        e.action = QStringLiteral("3 addresses in 2 networks");
        break;
    case 17:
        e.client.clear();
        e.sender.clear();
        e.recipient.clear();
        e.attempts = 0;
        break;
    }
    const QByteArray frame = frameOf({e});
    QJsonArray events;
    QString error;
    quint64 lastId = 0;
    QVERIFY2(BinaryEvents::decode(frame, &events, &error, &lastId), qPrintable(error));
    QCOMPARE(lastId, e.id);
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.at(0).toObject(), objectForm(e));
    QCOMPARE(events.at(0).toObject(), EventJson::toJson(e));
}

void EventBinaryTest::everyOutcomeDeciderAndShadowDecodes()
{
    QList<Event> events;
    quint64 id = 1;
    for (int outcome = 0; outcome <= int(AttemptOutcome::Blocked); ++outcome) {
        for (int by = 0; by <= int(DecidedBy::Other); ++by) {
            for (int shadow = 0; shadow <= int(ShadowEffect::Bypass); ++shadow) {
                Event e = base(EventType::Attempt);
                e.id = id++;
                e.outcome = AttemptOutcome(outcome);
                e.decidedBy = DecidedBy(by);
                e.ref = by == 0 ? 0 : by * 10;
                e.shadow = ShadowEffect(shadow);
                e.shadowPolicy = shadow * 3;
                events.append(e);
            }
        }
    }
    QJsonArray decoded;
    QString error;
    QVERIFY2(BinaryEvents::decode(frameOf(events), &decoded, &error), qPrintable(error));
    QCOMPARE(decoded.size(), events.size());
    for (qsizetype i = 0; i < events.size(); ++i)
        QCOMPARE(decoded.at(i).toObject(), EventJson::toJson(events[i]));
}

void EventBinaryTest::framesOfManyEventsKeepTheirIds()
{
    QList<Event> events;
    for (quint64 id = 1000; id < 3000; ++id) {
        Event e = base(id % 7 == 0 ? EventType::FailedToRetry : EventType::Attempt);
        e.id = id;
        e.sender = "s" + QByteArray::number(id) + "@b.example";
        events.append(e);
    }
    QJsonArray decoded{QJsonObject{{QStringLiteral("already"), true}}}; // appended to
    QString error;
    quint64 lastId = 0;
    QVERIFY2(BinaryEvents::decode(frameOf(events), &decoded, &error, &lastId), qPrintable(error));
    QCOMPARE(decoded.size(), events.size() + 1);
    QCOMPARE(lastId, quint64(2999));
    for (qsizetype i = 0; i < events.size(); ++i)
        QCOMPARE(decoded.at(i + 1).toObject(), EventJson::toJson(events[i]));
}

void EventBinaryTest::aPlainAttemptIsAFractionOfItsJson()
{
    Event e = base(EventType::Attempt);
    e.key = "192.0.2.0/24";
    e.keyWhy = "IP-based triplet: the client network"; // as the engine writes it
    QByteArray compact;
    QByteArray binary;
    EventJson::appendCompact(&compact, e);
    EventBinary::append(&binary, e);
    // The strings are most of what is left (the engine's keyWhy is a dictionary index): the
    // rest is a dozen bytes.
    const qsizetype strings = e.client.size() + e.sender.size() + e.recipient.size() + e.key.size();
    QVERIFY2(binary.size() <= strings + 16, qPrintable(QString::number(binary.size())));
    QVERIFY2(
        binary.size() * 2 < compact.size(),
        qPrintable(QString::number(binary.size()) + u" vs " + QString::number(compact.size())));
    QByteArray frame;
    BinaryEvents::appendHeader(&frame, e.id, 1);
    QJsonArray events;
    QString error;
    QVERIFY2(BinaryEvents::decode(QByteArray(frame + binary), &events, &error), qPrintable(error));
    QCOMPARE(events.at(0).toObject(), EventJson::toJson(e));
}

void EventBinaryTest::malformedFramesAreRefused_data()
{
    QTest::addColumn<QByteArray>("frame");
    const QByteArray good = frameOf({base(EventType::Attempt), [] {
                                         Event e = base(EventType::QueueChange);
                                         e.id = 43;
                                         return e;
                                     }()});
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("JSON") << QByteArray(R"({"events":[]})");
    QTest::newRow("another version") << QByteArray("\x00\x02\x01\x01\x02\x00\x00", 7);
    QTest::newRow("no events") << QByteArray("\x00\x01\x01\x00", 4);
    QTest::newRow("id 0") << QByteArray("\x00\x01\x00\x01\x02\x05\x00", 7);
    QTest::newRow("ids beyond 2^53")
        << QByteArray("\x00\x01\xff\xff\xff\xff\xff\xff\xff\x0f\x02\x02\x00\x00", 14);
    QTest::newRow("a number beyond 64 bits")
        << QByteArray("\x00\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x01", 13);
    QTest::newRow("truncated") << good.left(good.size() - 3);
    QByteArray fewer;
    BinaryEvents::appendHeader(&fewer, 42, 3);
    QTest::newRow("fewer events than announced") << fewer + good.mid(4); // header: 4 bytes
    QTest::newRow("bytes after the last event") << good + '\x00';
    QByteArray overrun = good;
    overrun[4] = char(0x7f); // the first record's length, beyond the frame
    QTest::newRow("a record beyond the frame") << overrun;
    QByteArray outcome = good;
    outcome[4 + 1 + 1 + 5 + 1] = char(9); // after length, type, time (5 bytes), flags
    QTest::newRow("an unknown outcome") << outcome;
    QByteArray string = frameOf({base(EventType::QueueChange)});
    string[4 + 1 + 1 + 5] = char(0x7e); // the client's length (63 bytes), beyond its record
    QTest::newRow("a string beyond its record") << string;
    string[4 + 1 + 1 + 5] = char(0x7f); // dictionary string 63, which there is not
    QTest::newRow("an unknown dictionary string") << string;
}

void EventBinaryTest::malformedFramesAreRefused()
{
    QFETCH(QByteArray, frame);
    QJsonArray events{QJsonObject{{QStringLiteral("kept"), true}}};
    QString error;
    QVERIFY(!BinaryEvents::decode(frame, &events, &error));
    QVERIFY(!error.isEmpty());
    QCOMPARE(events.size(), 1); // nothing half-decoded
}

void EventBinaryTest::unknownEventTypesAreSkippedButCounted()
{
    QByteArray frame;
    BinaryEvents::appendHeader(&frame, 10, 3);
    EventBinary::append(&frame, base(EventType::FailedToRetry));
    frame.append("\x03\x63\x02\x00", 4); // a newer server's type 99: length 3, type, time, byte
    Event last = base(EventType::FailedToRetry);
    EventBinary::append(&frame, last);
    QJsonArray events;
    QString error;
    quint64 lastId = 0;
    QVERIFY2(BinaryEvents::decode(frame, &events, &error, &lastId), qPrintable(error));
    QCOMPARE(events.size(), 2);
    QCOMPARE(events.at(0).toObject().value(QStringLiteral("id")).toInteger(), 10);
    QCOMPARE(events.at(1).toObject().value(QStringLiteral("id")).toInteger(), 12);
    QCOMPARE(lastId, quint64(12));
}

QTEST_GUILESS_MAIN(EventBinaryTest)
#include "tst_event_binary.moc"
