// SPDX-License-Identifier: GPL-3.0-or-later
// The control API's event stream over a real loopback WebSocket: pushes as they happen,
// resumed with `since` after a disconnect, resync when the cursor is gone, and binary
// frames for subscribers that ask for them; batched frames shared by subscribers at any
// cursor, in order without gaps or repeats; a subscriber that stops reading is bounded and
// told to resync when it reads again.

#include "ControlTestProxy.h"
#include "TestSupport.h"

#include <QTcpSocket>

using namespace greygate;
using namespace greygate::test;

class EventStreamTest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eventStreamResumesWithSinceAfterADisconnect();
    void cursorOutOfTheBufferOrFromAnotherRunGetsResync();
    void binarySubscriberGetsTheSameEventsAsBinaryFrames();
    void subscribeRefusesANonBooleanBinary();
    void burstOfEventsComesInOneBatchedFrame();
    void compactSubscriberDecodesToTheSameEvents();
    void subscribersAtDifferentCursorsEachGetEveryEventInOrder();
    void subscriberThatStopsReadingIsToldToResyncWhenItReadsAgain_data();
    void subscriberThatStopsReadingIsToldToResyncWhenItReadsAgain();
    void slowReaderThatKeepsUpOnAverageGetsEveryEventInOrder_data();
    void slowReaderThatKeepsUpOnAverageGetsEveryEventInOrder();
    void binaryCodecSubscriberGetsWhatJsonSubscribersGet();
    void binaryCodecStreamResumesWithSince();
    void subscribeRefusesAnUnknownCodecByName();
};

namespace {

// Appends n attempts to the proxy's log directly (no store round trip: many events fast).
void appendAttempts(ControlTestProxy *proxy, int n)
{
    for (int i = 0; i < n; ++i) {
        Event e;
        e.time = 1'800'000'000;
        e.client = "192.0.2.7";
        e.sender = "s" + QByteArray::number(i) + "@b.example";
        e.recipient = "r@corp.example";
        proxy->events.append(std::move(e));
    }
}

// An attempt with a reason and a policy change: what the compact form leaves as objects.
void appendReasonAndChange(ControlTestProxy *proxy)
{
    Event withReason;
    withReason.action = QStringLiteral("bypass");
    withReason.sender = "a@b.example";
    proxy->events.append(withReason);
    Event change;
    change.type = EventType::PolicyChange;
    change.subject = QStringLiteral("policy:1");
    change.action = QStringLiteral("policy.update");
    proxy->events.append(change);
}

QList<qint64> idsOf(const QList<QJsonObject> &events)
{
    QList<qint64> ids;
    for (const QJsonObject &e : events)
        ids.append(e.value(QStringLiteral("id")).toInteger());
    return ids;
}

// Counted without copying the events (a long stream is polled for often).
qsizetype eventCount(const TestClient &client)
{
    qsizetype n = 0;
    for (const QJsonObject &m : client.inbox)
        n += m.value(QStringLiteral("events")).toArray().size();
    return n;
}

// The stream as JSON frames and as binary events (subscribe "codec": 1).
void addCodecRows()
{
    QTest::addColumn<bool>("codec");
    QTest::newRow("JSON frames") << false;
    QTest::newRow("binary events") << true;
}

qsizetype eventFrames(const TestClient &client)
{
    qsizetype n = 0;
    for (const QJsonObject &m : client.inbox)
        n += m.contains(QStringLiteral("events")) ? 1 : 0;
    return n;
}

// A subscriber on a bare TCP socket, so that the test decides when it reads: it upgrades
// (token in the Authorization header), subscribes, and then reads only when asked to.
struct RawSubscriber
{
    QTcpSocket socket;
    QByteArray pending;
    QList<QJsonObject> messages; // every complete server message, decoded
    QByteArray partial;          // a fragmented message's first frames

    bool open(quint16 port, const QByteArray &token, bool codec = false)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(5000))
            return false;
        socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) +
                     "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
                     token + "\r\n\r\n");
        if (!QTest::qWaitFor(
                [&] {
                    return socket.bytesAvailable() > 0 && socket.peek(4096).contains("\r\n\r\n");
                },
                5000))
            return false;
        const QByteArray head = socket.peek(4096);
        socket.read(head.indexOf("\r\n\r\n") + 4);
        if (!head.startsWith("HTTP/1.1 101"))
            return false;
        // A client frame is masked; a zero mask leaves the payload as it is.
        const QByteArray request =
            codec ? R"({"id":1,"method":"events.subscribe","params":{"codec":1}})"
                  : R"({"id":1,"method":"events.subscribe","params":{"binary":true}})";
        QByteArray frame("\x81");
        frame.append(char(0x80 | request.size()));
        frame.append(4, '\0');
        frame.append(request);
        socket.write(frame);
        return QTest::qWaitFor([&] { return read() && !messages.isEmpty(); }, 5000);
    }

    // Reads what has arrived and decodes every complete message (unmasked server frames).
    bool read()
    {
        pending.append(socket.readAll());
        for (;;) {
            if (pending.size() < 2)
                return true;
            const auto b0 = quint8(pending[0]);
            qint64 length = quint8(pending[1]) & 0x7f;
            qsizetype header = 2;
            if (length == 126) {
                if (pending.size() < 4)
                    return true;
                length = (quint8(pending[2]) << 8) | quint8(pending[3]);
                header = 4;
            } else if (length == 127) {
                if (pending.size() < 10)
                    return true;
                length = 0;
                for (int i = 2; i < 10; ++i)
                    length = (length << 8) | quint8(pending[i]);
                header = 10;
            }
            if (pending.size() < header + length)
                return true;
            partial.append(pending.mid(header, length));
            pending.remove(0, header + length);
            const int opcode = b0 & 0x0f;
            if (opcode >= 8) { // control frames are not what this test is about
                partial.clear();
                continue;
            }
            if (b0 & 0x80) {
                messages.append(TestClient::decodeBinary(partial));
                partial.clear();
            }
        }
    }
};

} // namespace

void EventStreamTest::eventStreamResumesWithSinceAfterADisconnect()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    QString epoch;
    qint64 seen = 0;
    {
        TestClient client;
        QVERIFY(client.login(proxy.url(), proxy.token(false)));
        const QJsonObject sub = client.result(QStringLiteral("events.subscribe"));
        QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
        epoch = sub.value(QStringLiteral("epoch")).toString();
        proxy.decide("192.0.2.1", "a@b.example", "c@corp.example");
        proxy.decide("192.0.2.1", "a@b.example", "d@corp.example");
        QVERIFY(client.waitForEvents(2));
        const QList<QJsonObject> events = client.events();
        QCOMPARE(events[0].value(QStringLiteral("type")).toString(), QStringLiteral("attempt"));
        QCOMPARE(events[0].value(QStringLiteral("outcome")).toString(), QStringLiteral("deferred"));
        QCOMPARE(events[0].value(QStringLiteral("recipient")).toString(),
                 QStringLiteral("c@corp.example"));
        QCOMPARE(events[0].value(QStringLiteral("attempts")).toInt(), 1);
        seen = events.last().value(QStringLiteral("id")).toInteger();
        client.socket.close();
        QVERIFY(QTest::qWaitFor([&] { return proxy.server->connectionCount() == 0; }, 5000));
    }
    // Missed while away: a decision, a policy change, a queue change.
    proxy.decide("192.0.2.1", "a@b.example", "e@corp.example");
    TestClient admin;
    QVERIFY(admin.login(proxy.url(), proxy.token()));
    const QJsonObject bypassPolicy{
        {QStringLiteral("narrative"), QStringLiteral("P")},
        {QStringLiteral("action"), QStringLiteral("bypass")},
        {QStringLiteral("from"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                     {QStringLiteral("value"), QStringLiteral("p.example")}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
    admin.result(QStringLiteral("policy.create"),
                 QJsonObject{{QStringLiteral("policy"), bypassPolicy}});
    admin.result(QStringLiteral("queue.delete"),
                 QJsonObject{{QStringLiteral("client"), QStringLiteral("192.0.2.0/24")},
                             {QStringLiteral("sender"), QStringLiteral("a@b.example")},
                             {QStringLiteral("recipient"), QStringLiteral("c@corp.example")}});

    TestClient again;
    QVERIFY(again.login(proxy.url(), proxy.token(false)));
    const QJsonObject sub = again.result(
        QStringLiteral("events.subscribe"),
        QJsonObject{{QStringLiteral("since"), seen}, {QStringLiteral("epoch"), epoch}});
    QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
    QVERIFY(again.waitForEvents(3));
    const QList<QJsonObject> missed = again.events();
    QCOMPARE(missed.size(), 3);
    QCOMPARE(missed[0].value(QStringLiteral("id")).toInteger(), seen + 1);
    QCOMPARE(missed[0].value(QStringLiteral("recipient")).toString(),
             QStringLiteral("e@corp.example"));
    QCOMPARE(missed[1].value(QStringLiteral("type")).toString(), QStringLiteral("policy"));
    QCOMPARE(missed[1].value(QStringLiteral("action")).toString(), QStringLiteral("policy.create"));
    QCOMPARE(missed[1].value(QStringLiteral("who")).toString(), QStringLiteral("admin@127.0.0.1"));
    QCOMPARE(missed[2].value(QStringLiteral("type")).toString(), QStringLiteral("queue"));
    QCOMPARE(missed[2].value(QStringLiteral("action")).toString(), QStringLiteral("queue.delete"));

    // And it goes on live.
    proxy.decide("192.0.2.1", "a@b.example", "f@corp.example");
    QVERIFY(again.waitForEvents(4));
    QCOMPARE(again.events().last().value(QStringLiteral("id")).toInteger(), seen + 4);
}

void EventStreamTest::cursorOutOfTheBufferOrFromAnotherRunGetsResync()
{
    ControlTestProxy proxy(ControlOptions{}, 3);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    for (int i = 0; i < 6; ++i)
        proxy.decide("192.0.2.1", "a@b.example", "u" + QByteArray::number(i) + "@corp.example");
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    QJsonObject sub = client.result(QStringLiteral("events.subscribe"),
                                    QJsonObject{{QStringLiteral("since"), 1}});
    QVERIFY(sub.value(QStringLiteral("resync")).toBool());
    QCOMPARE(sub.value(QStringLiteral("lastId")).toInt(), 6);
    sub = client.result(QStringLiteral("events.subscribe"),
                        QJsonObject{{QStringLiteral("since"), 5},
                                    {QStringLiteral("epoch"), QStringLiteral("0123abc")}});
    QVERIFY(sub.value(QStringLiteral("resync")).toBool());
    sub = client.result(QStringLiteral("events.subscribe"),
                        QJsonObject{{QStringLiteral("since"), 4}});
    QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
    QVERIFY(client.waitForEvents(2));
    QCOMPARE(client.events().at(0).value(QStringLiteral("id")).toInt(), 5);
}

void EventStreamTest::binarySubscriberGetsTheSameEventsAsBinaryFrames()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient text;
    TestClient binary;
    QVERIFY(text.login(proxy.url(), proxy.token(false)));
    QVERIFY(binary.login(proxy.url(), proxy.token(false)));
    text.result(QStringLiteral("events.subscribe"));
    binary.result(QStringLiteral("events.subscribe"),
                  QJsonObject{{QStringLiteral("binary"), true}});
    // Non-ASCII bytes from the wire must reach both kinds of subscriber as the same text.
    proxy.decide("192.0.2.1", "j\xc3\xb6rg@b.example", "c@corp.example");
    proxy.decide("192.0.2.1", "a@b.example", "d@corp.example");
    QVERIFY(text.waitForEvents(2));
    QVERIFY(binary.waitForEvents(2));
    QCOMPARE(text.binaryMessages, 0);
    QVERIFY(binary.binaryMessages > 0);
    QCOMPARE(binary.events(), text.events());
    QCOMPARE(binary.events().at(0).value(QStringLiteral("sender")).toString(),
             QString::fromUtf8("j\xc3\xb6rg@b.example"));
    // Answers to requests stay text frames.
    const int frames = binary.binaryMessages;
    QVERIFY(!binary.result(QStringLiteral("status")).isEmpty());
    QCOMPARE(binary.binaryMessages, frames);
}

void EventStreamTest::subscribeRefusesANonBooleanBinary()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token(false)));
    const QJsonObject answer =
        client.call(QStringLiteral("events.subscribe"), QJsonObject{{QStringLiteral("binary"), 1}});
    QCOMPARE(answer.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")),
             QJsonValue(QStringLiteral("bad_request")));
    QCOMPARE(answer.value(QStringLiteral("error")).toObject().value(QStringLiteral("field")),
             QJsonValue(QStringLiteral("params.binary")));
    QVERIFY(!client.result(QStringLiteral("status")).isEmpty());
}

void EventStreamTest::burstOfEventsComesInOneBatchedFrame()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token(false)));
    client.result(QStringLiteral("events.subscribe"),
                  QJsonObject{{QStringLiteral("binary"), true}});
    // Appended within one event-loop pass: one flush, one frame, every event in order.
    appendAttempts(&proxy, 500);
    QVERIFY(client.waitForEvents(500));
    QCOMPARE(idsOf(client.events()), range<qint64>(1, 500));
    QCOMPARE(eventFrames(client), 1);
    QCOMPARE(client.events().at(3).value(QStringLiteral("sender")).toString(),
             QStringLiteral("s3@b.example"));
}

void EventStreamTest::compactSubscriberDecodesToTheSameEvents()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient plain;
    TestClient compact;
    QVERIFY(plain.login(proxy.url(), proxy.token(false)));
    QVERIFY(compact.login(proxy.url(), proxy.token(false)));
    plain.result(QStringLiteral("events.subscribe"));
    compact.result(QStringLiteral("events.subscribe"),
                   QJsonObject{{QStringLiteral("compact"), true}});
    // Plain attempts (compact), one with a reason and a policy change (object form), and
    // non-ASCII bytes from the wire.
    appendAttempts(&proxy, 3);
    proxy.decide("192.0.2.1", "j\xc3\xb6rg@b.example", "c@corp.example");
    appendReasonAndChange(&proxy);
    QVERIFY(plain.waitForEvents(6));
    QVERIFY(compact.waitForEvents(6));
    QVERIFY(compact.binaryMessages > 0); // compact implies binary frames
    // Decoded as the client decodes them, they are the plain subscriber's events.
    QList<QJsonObject> decoded;
    qsizetype arrays = 0;
    for (const QJsonObject &m : std::as_const(compact.inbox)) {
        if (!m.contains(QStringLiteral("events")))
            continue;
        for (const QJsonValue &e : m.value(QStringLiteral("events")).toArray())
            arrays += e.isArray() ? 1 : 0;
        QString error;
        const std::optional<protocol::Incoming> in = protocol::Envelope::decodeIncoming(
            QJsonDocument(m).toJson(QJsonDocument::Compact), 1 << 20, &error);
        QVERIFY2(in, qPrintable(error));
        for (const QJsonValue &e : in->events)
            decoded.append(e.toObject());
    }
    QCOMPARE(arrays, 4);
    QCOMPARE(decoded, plain.events());
}

void EventStreamTest::subscribersAtDifferentCursorsEachGetEveryEventInOrder()
{
    ControlOptions options;
    options.maxEventsPerMessage = 40; // several frames per flush, and catching up over many
    ControlTestProxy proxy(options, 1000);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient live;
    QVERIFY(live.login(proxy.url(), proxy.token(false)));
    live.result(QStringLiteral("events.subscribe"), QJsonObject{{QStringLiteral("binary"), true}});
    appendAttempts(&proxy, 300);
    QVERIFY(live.waitForEvents(300));

    // Three more join at three cursors while the stream goes on; text and binary alike.
    std::vector<std::unique_ptr<TestClient>> late;
    const QList<qint64> since{0, 120, 299};
    for (qsizetype i = 0; i < since.size(); ++i) {
        late.push_back(std::make_unique<TestClient>());
        QVERIFY(late.back()->login(proxy.url(), proxy.token(false)));
        const QJsonObject sub = late.back()->result(
            QStringLiteral("events.subscribe"),
            QJsonObject{{QStringLiteral("since"), since[i]}, {QStringLiteral("binary"), i != 1}});
        QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
        appendAttempts(&proxy, 100);
    }
    QVERIFY(live.waitForEvents(600));
    QCOMPARE(idsOf(live.events()), range<qint64>(1, 600));
    for (qsizetype i = 0; i < since.size(); ++i) {
        QVERIFY(late[i]->waitForEvents(600 - since[i]));
        QCOMPARE(idsOf(late[i]->events()), range<qint64>(since[i] + 1, 600));
        for (const QJsonObject &m : std::as_const(late[i]->inbox))
            QVERIFY(m.value(QStringLiteral("events")).toArray().size() <= 40);
    }
    // The events themselves are the same, whoever got them in whatever frames.
    QCOMPARE(late[0]->events(), live.events());
    QCOMPARE(late[1]->events(), live.events().mid(120));
}

void EventStreamTest::subscriberThatStopsReadingIsToldToResyncWhenItReadsAgain_data()
{
    addCodecRows();
}

void EventStreamTest::subscriberThatStopsReadingIsToldToResyncWhenItReadsAgain()
{
    QFETCH(bool, codec);
    ControlOptions options;
    options.maxPendingBytes = 64 << 10;
    ControlTestProxy proxy(options, 20'000);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    RawSubscriber stalled;
    QVERIFY(stalled.open(proxy.server->serverPort(), proxy.token(false), codec));
    QVERIFY(stalled.messages.first().contains(QStringLiteral("result")));
    TestClient reader;
    QVERIFY(reader.login(proxy.url(), proxy.token(false)));
    reader.result(
        QStringLiteral("events.subscribe"),
        QJsonObject{{QStringLiteral("binary"), true}, {QStringLiteral("codec"), codec ? 1 : 0}});
    // The stalled one reads nothing: its socket buffers fill, then the server holds back.
    // Far more than any socket buffers hold goes by meanwhile (about 20 MB of JSON, a third
    // of that in binary events), and the log keeps only the last 20,000: where it stopped is
    // gone.
    stalled.socket.setReadBufferSize(4096);
    constexpr int kTotal = 120'000;
    for (int sent = 0; sent < kTotal; sent += 5000) {
        appendAttempts(&proxy, 5000);
        QVERIFY(QTest::qWaitFor([&] { return eventCount(reader) >= sent + 5000; }, 10'000));
    }
    // The one that read got everything, in order.
    QCOMPARE(idsOf(reader.events()), range<qint64>(1, kTotal));
    // The stalled one, reading again, gets what was buffered for it, then a resync, then the
    // stream from there on.
    stalled.socket.setReadBufferSize(0);
    // Where the resyncs are: the first comes once what the reader missed has left the log;
    // while it is still working through what was queued for it (sanitizers, a loaded machine)
    // it may fall behind again and be told again. After the last one the stream has no gap.
    const auto resyncs = [&] {
        QList<qsizetype> at;
        for (qsizetype i = 0; i < stalled.messages.size(); ++i)
            if (stalled.messages[i].contains(QStringLiteral("resync")))
                at.append(i);
        return at;
    };
    const auto resyncId = [&](qsizetype at) {
        return stalled.messages[at]
            .value(QStringLiteral("resync"))
            .toObject()
            .value(QStringLiteral("lastId"))
            .toInteger();
    };
    const auto idsBetween = [&](qsizetype from, qsizetype to) {
        QList<qint64> ids;
        for (qsizetype i = from; i < to; ++i)
            for (const QJsonValue &e :
                 stalled.messages[i].value(QStringLiteral("events")).toArray())
                ids.append(e.toObject().value(QStringLiteral("id")).toInteger());
        return ids;
    };
    QVERIFY(QTest::qWaitFor([&] { return stalled.read() && !resyncs().isEmpty(); }, 60'000));
    appendAttempts(&proxy, 10);
    QVERIFY(QTest::qWaitFor(
        [&] {
            if (!stalled.read())
                return false;
            const QList<qint64> tail = idsBetween(resyncs().last() + 1, stalled.messages.size());
            return !tail.isEmpty() && tail.last() == kTotal + 10;
        },
        60'000));
    const QList<qsizetype> at = resyncs();
    const QList<qint64> before = idsBetween(1, at.first());
    QVERIFY(!before.isEmpty());
    QVERIFY(before.size() < kTotal / 2); // bounded: most of the stream was never queued for it
    QCOMPARE(before, range<qint64>(1, before.size()));
    // Told to resync only once what it missed had left the log (20,000 events), not sooner.
    const qint64 lastId = resyncId(at.first());
    QVERIFY2(lastId - before.last() >= 20'000,
             qPrintable(QString::number(lastId) + u" after " + QString::number(before.last())));
    // Between resyncs and after the last one: every event from the resync's id on, in order.
    for (qsizetype k = 0; k < at.size(); ++k) {
        const qsizetype end = k + 1 < at.size() ? at[k + 1] : stalled.messages.size();
        const QList<qint64> ids = idsBetween(at[k] + 1, end);
        if (k + 1 == at.size())
            QCOMPARE(ids, range<qint64>(resyncId(at[k]) + 1, kTotal + 10));
        else if (!ids.isEmpty())
            QCOMPARE(ids, range<qint64>(resyncId(at[k]) + 1, ids.last()));
    }
}

void EventStreamTest::slowReaderThatKeepsUpOnAverageGetsEveryEventInOrder_data()
{
    addCodecRows();
}

void EventStreamTest::slowReaderThatKeepsUpOnAverageGetsEveryEventInOrder()
{
    // It reads in bursts: nothing for a while (the server meets a full socket, frames larger
    // than what it may queue, writes the kernel takes only part of), then everything. The
    // server holds its backlog meanwhile and gives it the rest at later flushes.
    QFETCH(bool, codec);
    ControlOptions options;
    options.maxPendingBytes = 64 << 10;
    ControlTestProxy proxy(options, 20'000);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    RawSubscriber slow;
    QVERIFY(slow.open(proxy.server->serverPort(), proxy.token(false), codec));
    QVERIFY(slow.messages.first().contains(QStringLiteral("result")));
    const auto received = [&] {
        qint64 n = 0;
        for (const QJsonObject &m : std::as_const(slow.messages))
            n += m.value(QStringLiteral("events")).toArray().size();
        return n;
    };
    constexpr int kRounds = 12;
    constexpr int kPerRound = 3000;
    for (int round = 0; round < kRounds; ++round) {
        slow.socket.setReadBufferSize(4096);
        appendAttempts(&proxy, kPerRound);
        QTest::qWait(120); // two flushes' time without reading
        slow.socket.setReadBufferSize(0);
        const qint64 sent = qint64(round + 1) * kPerRound;
        QVERIFY(QTest::qWaitFor([&] { return slow.read() && received() >= sent; }, 20'000));
    }
    QList<qint64> ids;
    for (const QJsonObject &m : std::as_const(slow.messages)) {
        QVERIFY(!m.contains(QStringLiteral("resync")));
        for (const QJsonValue &e : m.value(QStringLiteral("events")).toArray())
            ids.append(e.toObject().value(QStringLiteral("id")).toInteger());
    }
    QCOMPARE(ids, range<qint64>(1, kRounds * kPerRound));
}

void EventStreamTest::binaryCodecSubscriberGetsWhatJsonSubscribersGet()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient text;
    TestClient compact;
    TestClient codec;
    QVERIFY(text.login(proxy.url(), proxy.token(false)));
    QVERIFY(compact.login(proxy.url(), proxy.token(false)));
    QVERIFY(codec.login(proxy.url(), proxy.token(false)));
    text.result(QStringLiteral("events.subscribe"));
    compact.result(QStringLiteral("events.subscribe"),
                   QJsonObject{{QStringLiteral("compact"), true}});
    const QJsonObject sub =
        codec.result(QStringLiteral("events.subscribe"), QJsonObject{{QStringLiteral("codec"), 1}});
    QCOMPARE(sub.value(QStringLiteral("codec")).toInt(), 1);
    // Real decisions (non-ASCII bytes from the wire), a reason, and other event types.
    proxy.decide("192.0.2.1", "j\xc3\xb6rg@b.example", "c@corp.example");
    appendAttempts(&proxy, 300);
    appendReasonAndChange(&proxy);
    QVERIFY(text.waitForEvents(303));
    QVERIFY(compact.waitForEvents(303));
    QVERIFY(codec.waitForEvents(303));
    QVERIFY(codec.codecFrames > 0);
    QCOMPARE(codec.codecFrames, codec.binaryMessages);
    QCOMPARE(compact.codecFrames, 0);
    QCOMPARE(codec.events().size(), 303);
    // Through a document, as the text subscriber's numbers came.
    QList<QJsonObject> viaJson;
    for (const QJsonObject &e : codec.events())
        viaJson.append(QJsonDocument::fromJson(QJsonDocument(e).toJson()).object());
    QCOMPARE(viaJson, text.events());
}

void EventStreamTest::binaryCodecStreamResumesWithSince()
{
    ControlOptions options;
    options.maxEventsPerMessage = 50; // resumed over several frames
    ControlTestProxy proxy(options, 1000);
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    QString epoch;
    {
        TestClient client;
        QVERIFY(client.login(proxy.url(), proxy.token(false)));
        epoch = client
                    .result(QStringLiteral("events.subscribe"),
                            QJsonObject{{QStringLiteral("codec"), 1}})
                    .value(QStringLiteral("epoch"))
                    .toString();
        appendAttempts(&proxy, 120);
        QVERIFY(client.waitForEvents(120));
        QCOMPARE(idsOf(client.events()), range<qint64>(1, 120));
        client.socket.close();
        QVERIFY(QTest::qWaitFor([&] { return proxy.server->connectionCount() == 0; }, 5000));
    }
    appendAttempts(&proxy, 230); // missed while away
    TestClient again;
    QVERIFY(again.login(proxy.url(), proxy.token(false)));
    const QJsonObject sub = again.result(QStringLiteral("events.subscribe"),
                                         QJsonObject{{QStringLiteral("since"), 100},
                                                     {QStringLiteral("epoch"), epoch},
                                                     {QStringLiteral("codec"), 1}});
    QVERIFY(!sub.value(QStringLiteral("resync")).toBool());
    appendAttempts(&proxy, 10); // and it goes on live
    QVERIFY(again.waitForEvents(260));
    QCOMPARE(idsOf(again.events()), range<qint64>(101, 360));
    QVERIFY(again.codecFrames >= 5);
    QCOMPARE(again.events().at(0).value(QStringLiteral("sender")).toString(),
             QStringLiteral("s100@b.example"));
}

void EventStreamTest::subscribeRefusesAnUnknownCodecByName()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token(false)));
    const QJsonObject answer =
        client.call(QStringLiteral("events.subscribe"), QJsonObject{{QStringLiteral("codec"), 2}});
    QCOMPARE(TestClient::errorCode(answer), QStringLiteral("bad_request"));
    QCOMPARE(TestClient::errorField(answer), QStringLiteral("params.codec"));
    QVERIFY(!client.result(QStringLiteral("status")).isEmpty());
}

QTEST_GUILESS_MAIN(EventStreamTest)
#include "tst_event_stream.moc"
