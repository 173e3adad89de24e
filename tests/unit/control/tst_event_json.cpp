// SPDX-License-Identifier: GPL-3.0-or-later
// The event stream's direct JSON writer gives the same objects as the QJsonObject form, for
// every event type and for hostile bytes (quotes, backslashes, control characters, invalid
// UTF-8 from the wire), and always valid JSON.
#include "control/EventJson.h"
#include "protocol/Envelope.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace greygate;

class EventJsonTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void directJsonMatchesTheObjectForm_data();
    void directJsonMatchesTheObjectForm();
    void compactFormDecodesToTheObjectForm_data() { directJsonMatchesTheObjectForm_data(); }
    void compactFormDecodesToTheObjectForm();
    void compactFormIsSmallerForPlainAttempts();
    void malformedCompactEventIsRefused_data();
    void malformedCompactEventIsRefused();
};

namespace {

Event eventOf(int type, const QByteArray &sender, const QString &text, int decidedBy)
{
    Event e;
    e.id = 42;
    e.time = 1'800'000'000;
    e.type = EventType(type);
    e.outcome = AttemptOutcome::Bypassed;
    e.decidedBy = DecidedBy(decidedBy);
    e.attempts = 3;
    e.ref = decidedBy == int(DecidedBy::None) ? 0 : 7;
    e.client = "192.0.2.1";
    e.sender = sender;
    e.recipient = "r@corp.example";
    e.subject = QStringLiteral("policy:7");
    e.action = text;
    e.who = QStringLiteral("admin@127.0.0.1");
    return e;
}

// What a client gets from one frame holding these events in the compact form.
QJsonArray decodedCompact(const QList<Event> &events, QString *error)
{
    QByteArray frame("{\"events\":[");
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (i > 0)
            frame.append(',');
        EventJson::appendCompact(&frame, events[i]);
    }
    frame.append("]}");
    const std::optional<protocol::Incoming> in =
        protocol::Envelope::decodeIncoming(frame, 1 << 20, error);
    return in ? in->events : QJsonArray();
}

} // namespace

void EventJsonTest::directJsonMatchesTheObjectForm_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("decidedBy");
    QTest::newRow("attempt, plain") << int(EventType::Attempt) << QByteArray("a@b.example")
                                    << QString() << int(DecidedBy::None);
    QTest::newRow("attempt by a policy, a reason")
        << int(EventType::Attempt) << QByteArray("a@b.example") << QStringLiteral("bypass")
        << int(DecidedBy::Policy);
    QTest::newRow("quotes and backslashes")
        << int(EventType::Attempt) << QByteArray("\"x\\\\y\"@b.example") << QStringLiteral("a\"b\\")
        << int(DecidedBy::PermittedGroup);
    QTest::newRow("control characters")
        << int(EventType::FailedToRetry) << QByteArray("a\x01\x1f\tb@c") << QStringLiteral("x\ny")
        << int(DecidedBy::None);
    QTest::newRow("invalid UTF-8") << int(EventType::QueueChange) << QByteArray("\xff\xfe@\xc3")
                                   << QStringLiteral("queue.release") << int(DecidedBy::None);
    QTest::newRow("non-ASCII") << int(EventType::Attempt) << QByteArray("j\xc3\xb6rg@b\xc3\xa4r")
                               << QStringLiteral("\u00e9t\u00e9") << int(DecidedBy::AutoAllow);
    QTest::newRow("policy change") << int(EventType::PolicyChange) << QByteArray()
                                   << QStringLiteral("policy.update") << int(DecidedBy::None);
    QTest::newRow("group change") << int(EventType::GroupChange) << QByteArray()
                                  << QStringLiteral("group.import \"x\"") << int(DecidedBy::None);
}

void EventJsonTest::directJsonMatchesTheObjectForm()
{
    QFETCH(int, type);
    QFETCH(QByteArray, sender);
    QFETCH(QString, text);
    QFETCH(int, decidedBy);
    const Event e = eventOf(type, sender, text, decidedBy);

    QByteArray direct;
    EventJson::appendJson(&direct, e);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(direct, &error);
    QVERIFY2(doc.isObject(), qPrintable(error.errorString() + u": " + QString::fromUtf8(direct)));
    QCOMPARE(doc.object(), EventJson::toJson(e));
}

void EventJsonTest::compactFormDecodesToTheObjectForm()
{
    QFETCH(int, type);
    QFETCH(QByteArray, sender);
    QFETCH(QString, text);
    QFETCH(int, decidedBy);
    // With and without a reason, so that plain attempts (the compact ones) are in every row.
    QList<Event> events{eventOf(type, sender, text, decidedBy),
                        eventOf(type, sender, QString(), decidedBy)};
    events[1].key = "192.0.2.0/24"; // a greylisted attempt's triplet key, and why
    events[1].keyWhy = sender;
    QString error;
    const QJsonArray decoded = decodedCompact(events, &error);
    QVERIFY2(decoded.size() == 2, qPrintable(error));
    for (qsizetype i = 0; i < events.size(); ++i) {
        // Decoded through a document, as the object form reaches a client.
        const QJsonObject expected =
            QJsonDocument::fromJson(QJsonDocument(EventJson::toJson(events[i])).toJson()).object();
        QCOMPARE(decoded.at(i).toObject(), expected);
    }
}

void EventJsonTest::compactFormIsSmallerForPlainAttempts()
{
    Event e = eventOf(int(EventType::Attempt), "s12345@mail.example", QString(), 0);
    QVERIFY(EventJson::compactable(e));
    QByteArray full;
    QByteArray compact;
    EventJson::appendJson(&full, e);
    EventJson::appendCompact(&compact, e);
    QVERIFY2(compact.size() * 10 < full.size() * 6,
             QByteArray(compact + " vs " + full).constData());
    // Anything with more than the plain fields keeps its object form.
    e.action = QStringLiteral("bypass");
    QVERIFY(!EventJson::compactable(e));
    e.action.clear();
    e.source = EventSource::Smtp;
    QVERIFY(!EventJson::compactable(e));
}

void EventJsonTest::malformedCompactEventIsRefused_data()
{
    QTest::addColumn<QByteArray>("event");
    QTest::newRow("too short") << QByteArray(R"([1,2,"deferred",1,"none",0,"c","s","r",""])");
    QTest::newRow("too long") << QByteArray(R"([1,2,"deferred",1,"none",0,"c","s","r","","",4])");
    QTest::newRow("id not a number")
        << QByteArray(R"(["1",2,"deferred",1,"none",0,"c","s","r","",""])");
    QTest::newRow("negative id") << QByteArray(R"([-1,2,"deferred",1,"none",0,"c","s","r","",""])");
    QTest::newRow("fractional attempts")
        << QByteArray(R"([1,2,"deferred",1.5,"none",0,"c","s","r","",""])");
    QTest::newRow("huge time") << QByteArray(
        R"([1,1e300,"deferred",1,"none",0,"c","s","r","",""])");
    QTest::newRow("sender not a string")
        << QByteArray(R"([1,2,"deferred",1,"none",0,"c",7,"r","",""])");
    QTest::newRow("nested") << QByteArray(R"([[1,2,"deferred",1,"none",0,"c","s","r","",""]])");
}

void EventJsonTest::malformedCompactEventIsRefused()
{
    QFETCH(QByteArray, event);
    QString error;
    const std::optional<protocol::Incoming> in = protocol::Envelope::decodeIncoming(
        QByteArray("{\"events\":[" + event + "]}"), 1 << 20, &error);
    QVERIFY(!in);
    QCOMPARE(error, QStringLiteral("malformed compact event"));
}

QTEST_GUILESS_MAIN(EventJsonTest)
#include "tst_event_json.moc"
