// SPDX-License-Identifier: GPL-3.0-or-later
// The control API's envelope and message codecs against hostile JSON: every malformed
// message is refused with the right code and the field at fault, nothing crashes.

#include "protocol/Envelope.h"
#include "protocol/Hello.h"
#include "protocol/Methods.h"
#include "protocol/QueueMessages.h"
#include "protocol/RejectionMessages.h"
#include "protocol/StatsRange.h"
#include "protocol/Status.h"

#include <QJsonDocument>
#include <QTest>

using namespace greygate::protocol;

namespace {

QJsonObject object(const char *json)
{
    return QJsonDocument::fromJson(QByteArray(json)).object();
}

} // namespace

class ProtocolCodecsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void requestsAreDecodedStrictly_data();
    void requestsAreDecodedStrictly();
    void requestIdIsKeptForTheErrorAnswer();
    void oversizedRequestIsTooLarge();
    void answersAndPushesRoundTrip();
    void hostileIncomingMessagesAreRefused_data();
    void hostileIncomingMessagesAreRefused();
    void queueQueryNamesTheFieldAtFault_data();
    void queueQueryNamesTheFieldAtFault();
    void messagesRoundTripThroughTheirCodecs();
    void statsQueryBoundsTheNumberOfBuckets();
    void errorCodesHaveStableNames();
    void everyMethodHasAnAccessLevel();
};

void ProtocolCodecsTest::requestsAreDecodedStrictly_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("field");

    QTest::newRow("full") << QByteArray(R"({"v":1,"id":7,"method":"status","params":{}})") << true
                          << QString();
    QTest::newRow("string id, no params")
        << QByteArray(R"({"id":"a-1","method":"hello"})") << true << QString();
    QTest::newRow("auth without id")
        << QByteArray(R"({"method":"auth","params":{"token":"x"}})") << true << QString();
    QTest::newRow("not json") << QByteArray("{\"method\":") << false << QString();
    QTest::newRow("array") << QByteArray("[1,2]") << false << QString();
    QTest::newRow("nul bytes") << QByteArray("\0\0\0", 3) << false << QString();
    QTest::newRow("missing method")
        << QByteArray(R"({"id":1})") << false << QStringLiteral("method");
    QTest::newRow("method number")
        << QByteArray(R"({"id":1,"method":5})") << false << QStringLiteral("method");
    QTest::newRow("method too long")
        << (QByteArray(R"({"method":")") + QByteArray(100, 'a') + QByteArray(R"("})")) << false
        << QStringLiteral("method");
    QTest::newRow("params array") << QByteArray(R"({"method":"status","params":[]})") << false
                                  << QStringLiteral("params");
    QTest::newRow("version 2") << QByteArray(R"({"v":2,"method":"status"})") << false
                               << QStringLiteral("v");
    QTest::newRow("version string")
        << QByteArray(R"({"v":"1","method":"status"})") << false << QStringLiteral("v");
    QTest::newRow("unknown field")
        << QByteArray(R"({"method":"status","extra":1})") << false << QStringLiteral("extra");
    QTest::newRow("id object") << QByteArray(R"({"id":{},"method":"status"})") << false
                               << QStringLiteral("id");
    QTest::newRow("id fraction") << QByteArray(R"({"id":1.5,"method":"status"})") << false
                                 << QStringLiteral("id");
    QTest::newRow("id negative") << QByteArray(R"({"id":-3,"method":"status"})") << false
                                 << QStringLiteral("id");
    QTest::newRow("id too long") << (QByteArray(R"({"id":")") + QByteArray(200, 'x') +
                                     QByteArray(R"(","method":"a"})"))
                                 << false << QStringLiteral("id");
}

void ProtocolCodecsTest::requestsAreDecodedStrictly()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, ok);
    QFETCH(QString, field);
    ProtocolError error;
    QJsonValue id;
    const std::optional<Request> r = Envelope::decodeRequest(message, 1 << 20, &error, &id);
    QCOMPARE(r.has_value(), ok);
    if (!ok) {
        QCOMPARE(error.code, ErrorCode::BadRequest);
        QCOMPARE(error.field, field);
        QVERIFY(!error.message.isEmpty());
    }
}

void ProtocolCodecsTest::requestIdIsKeptForTheErrorAnswer()
{
    ProtocolError error;
    QJsonValue id;
    QVERIFY(!Envelope::decodeRequest(R"({"id":42,"method":"x","params":3})", 1024, &error, &id));
    QCOMPARE(id.toInteger(), 42);
    const QJsonObject answer = QJsonDocument::fromJson(Envelope::error(id, error)).object();
    QCOMPARE(answer.value(QStringLiteral("id")).toInteger(), 42);
    QCOMPARE(
        answer.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
        QStringLiteral("bad_request"));
    QCOMPARE(
        answer.value(QStringLiteral("error")).toObject().value(QStringLiteral("field")).toString(),
        QStringLiteral("params"));
}

void ProtocolCodecsTest::oversizedRequestIsTooLarge()
{
    const QByteArray big =
        R"({"method":"status","params":{"x":")" + QByteArray(5000, 'a') + R"("}})";
    ProtocolError error;
    QJsonValue id;
    QVERIFY(!Envelope::decodeRequest(big, 4096, &error, &id));
    QCOMPARE(error.code, ErrorCode::TooLarge);
    QVERIFY(Envelope::decodeRequest(R"({"method":"status"})", 4096, &error, &id));
}

void ProtocolCodecsTest::answersAndPushesRoundTrip()
{
    QString why;
    std::optional<Incoming> in = Envelope::decodeIncoming(
        Envelope::result(QJsonValue(3), QJsonObject{{QStringLiteral("a"), 1}}), 1 << 20, &why);
    QVERIFY(in);
    QCOMPARE(in->kind, Incoming::Kind::Result);
    QCOMPARE(in->id.toInteger(), 3);
    QCOMPARE(in->result.toObject().value(QStringLiteral("a")).toInteger(), 1);

    in = Envelope::decodeIncoming(
        Envelope::error(
            QJsonValue(QStringLiteral("x")),
            ProtocolError{ErrorCode::StaleVersion, QStringLiteral("reload"), QString()}),
        1 << 20, &why);
    QVERIFY(in);
    QCOMPARE(in->kind, Incoming::Kind::Error);
    QCOMPARE(in->error.code, ErrorCode::StaleVersion);
    QCOMPARE(in->error.message, QStringLiteral("reload"));

    in = Envelope::decodeIncoming(
        Envelope::events(QJsonArray{QJsonObject{{QStringLiteral("id"), 9}}}), 1 << 20, &why);
    QVERIFY(in);
    QCOMPARE(in->kind, Incoming::Kind::Events);
    QCOMPARE(in->events.size(), 1);

    in = Envelope::decodeIncoming(Envelope::resync(77), 1 << 20, &why);
    QVERIFY(in);
    QCOMPARE(in->kind, Incoming::Kind::Resync);
    QCOMPARE(in->lastId, 77u);

    const QJsonObject request =
        QJsonDocument::fromJson(Envelope::request(5, QStringLiteral("queue.list"), {})).object();
    ProtocolError error;
    QJsonValue id;
    QVERIFY(Envelope::decodeRequest(Envelope::request(5, QStringLiteral("queue.list"), {}), 1024,
                                    &error, &id));
    QCOMPARE(request.value(QStringLiteral("v")).toInteger(), 1);
}

void ProtocolCodecsTest::hostileIncomingMessagesAreRefused_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("both result and error") << QByteArray(R"({"id":1,"result":1,"error":{}})");
    QTest::newRow("neither") << QByteArray(R"({"id":1})");
    QTest::newRow("no id") << QByteArray(R"({"result":1})");
    QTest::newRow("extra field") << QByteArray(R"({"id":1,"result":1,"x":2})");
    QTest::newRow("error not object") << QByteArray(R"({"id":1,"error":"bad"})");
    QTest::newRow("error without code") << QByteArray(R"({"id":1,"error":{"message":"m"}})");
    QTest::newRow("events not array") << QByteArray(R"({"events":{}})");
    QTest::newRow("event without id") << QByteArray(R"({"events":[{"type":"x"}]})");
    QTest::newRow("event not object") << QByteArray(R"({"events":[1]})");
    QTest::newRow("resync without lastId") << QByteArray(R"({"resync":{}})");
    QTest::newRow("resync negative") << QByteArray(R"({"resync":{"lastId":-1}})");
    QTest::newRow("string") << QByteArray(R"("hello")");
    QTest::newRow("deep nesting") << QByteArray(2000, '[');
}

void ProtocolCodecsTest::hostileIncomingMessagesAreRefused()
{
    QFETCH(QByteArray, message);
    QString why;
    QVERIFY(!Envelope::decodeIncoming(message, 1 << 20, &why));
    QVERIFY(!why.isEmpty());
}

void ProtocolCodecsTest::queueQueryNamesTheFieldAtFault_data()
{
    QTest::addColumn<QByteArray>("params");
    QTest::addColumn<QString>("field");
    QTest::newRow("defaults") << QByteArray("{}") << QString();
    QTest::newRow("all set")
        << QByteArray(
               R"({"state":"deferred","client":"192.0.2.1","sender":"a","recipient":"b",)"
               R"("domain":"example.org","sort":"attempts","descending":false,"offset":5,"limit":10})")
        << QString();
    QTest::newRow("bad state") << QByteArray(R"({"state":"pending"})")
                               << QStringLiteral("params.state");
    QTest::newRow("limit zero") << QByteArray(R"({"limit":0})") << QStringLiteral("params.limit");
    QTest::newRow("limit huge") << QByteArray(R"({"limit":100000})")
                                << QStringLiteral("params.limit");
    QTest::newRow("limit string") << QByteArray(R"({"limit":"10"})")
                                  << QStringLiteral("params.limit");
    QTest::newRow("offset fraction")
        << QByteArray(R"({"offset":1.5})") << QStringLiteral("params.offset");
    QTest::newRow("offset negative")
        << QByteArray(R"({"offset":-1})") << QStringLiteral("params.offset");
    QTest::newRow("bad sort") << QByteArray(R"({"sort":"rowid"})") << QStringLiteral("params.sort");
    QTest::newRow("descending string")
        << QByteArray(R"({"descending":"yes"})") << QStringLiteral("params.descending");
    QTest::newRow("misspelt filter")
        << QByteArray(R"({"senders":"a"})") << QStringLiteral("params.senders");
    QTest::newRow("sender too long")
        << (QByteArray(R"({"sender":")") + QByteArray(600, 'a') + "\"}")
        << QStringLiteral("params.sender");
    QTest::newRow("huge number") << QByteArray(R"({"offset":1e300})")
                                 << QStringLiteral("params.offset");
}

void ProtocolCodecsTest::queueQueryNamesTheFieldAtFault()
{
    QFETCH(QByteArray, params);
    QFETCH(QString, field);
    ProtocolError error;
    const std::optional<QueueQuery> q =
        QueueQuery::fromJson(QJsonDocument::fromJson(params).object(), &error);
    QCOMPARE(q.has_value(), field.isEmpty());
    if (!q) {
        QCOMPARE(error.code, ErrorCode::BadRequest);
        QCOMPARE(error.field, field);
    }
}

void ProtocolCodecsTest::messagesRoundTripThroughTheirCodecs()
{
    ProtocolError error;
    QueuePage page;
    page.total = 12;
    page.offset = 10;
    page.entries.append(QueueEntry{QStringLiteral("192.0.2.0/24"), QStringLiteral("a@b.example"),
                                   QStringLiteral("c@d.example"), QStringLiteral("deferred"), 2,
                                   1000, 1030, 1060, 44200});
    const std::optional<QueuePage> p = QueuePage::fromJson(page.toJson(), &error);
    QVERIFY(p);
    QCOMPARE(p->total, 12);
    QCOMPARE(p->entries.size(), 1);
    QCOMPARE(p->entries[0].passAt, 1060);
    QCOMPARE(p->entries[0].toJson(), page.entries[0].toJson());

    Status s;
    s.time = 5;
    s.triplets = 3;
    s.totals.deferred = 7;
    const std::optional<Status> s2 = Status::fromJson(s.toJson(), &error);
    QVERIFY(s2);
    QCOMPARE(s2->totals, s.totals);
    QCOMPARE(s2->triplets, 3);

    Hello h{1,
            QStringLiteral("mx1"),
            QStringLiteral("0.1.0"),
            10,
            QStringLiteral("sqlite"),
            QStringLiteral("admin"),
            QJsonObject{{QStringLiteral("delay"), 60}}};
    const std::optional<Hello> h2 = Hello::fromJson(h.toJson(), &error);
    QVERIFY(h2);
    QCOMPARE(h2->proxyName, QStringLiteral("mx1"));
    QCOMPARE(h2->config, h.config);
    QVERIFY(!h.toJson().contains(QStringLiteral("storeHealth"))); // not told: not sent
    h.storeHealth = QStringLiteral("connecting");
    QCOMPARE(Hello::fromJson(h.toJson(), &error)->storeHealth, QStringLiteral("connecting"));
    QJsonObject badHealth = h.toJson();
    badHealth.insert(QStringLiteral("storeHealth"), QStringLiteral("fine"));
    QVERIFY(!Hello::fromJson(badHealth, &error));
    QCOMPARE(error.field, QStringLiteral("result.storeHealth"));
    QJsonObject badHello = h.toJson();
    badHello.insert(QStringLiteral("role"), QStringLiteral("root"));
    QVERIFY(!Hello::fromJson(badHello, &error));
    QCOMPARE(error.field, QStringLiteral("result.role"));

    StatsRange r;
    r.from = 60;
    r.to = 600;
    r.buckets.append(StatsBucket{120, Counters{3, 1, 1, 1, 0, 0}});
    r.total = r.buckets[0].counters;
    const std::optional<StatsRange> r2 = StatsRange::fromJson(r.toJson(), &error);
    QVERIFY(r2);
    QCOMPARE(r2->buckets.size(), 1);
    QCOMPARE(r2->buckets[0].counters, r.total);

    RejectionPage rp;
    rp.more = true;
    rp.rows.append(RejectionRow{100, QStringLiteral("Sender Failed to Retry"), QStringLiteral("c"),
                                QStringLiteral("s"), QStringLiteral("r"), 1, 50});
    const std::optional<RejectionPage> rp2 = RejectionPage::fromJson(rp.toJson(), &error);
    QVERIFY(rp2);
    QVERIFY(rp2->more);
    QCOMPARE(rp2->rows[0].toJson(), rp.rows[0].toJson());

    QVERIFY(!TripletRef::fromJson(object(R"({"client":"c","sender":"s"})"), &error));
    QCOMPARE(error.field, QStringLiteral("params.recipient"));
    QVERIFY(!QueueEntry::fromJson(object(R"({"client":1})"), QStringLiteral("e"), &error));
    QCOMPARE(error.field, QStringLiteral("e.client"));
}

void ProtocolCodecsTest::statsQueryBoundsTheNumberOfBuckets()
{
    ProtocolError error;
    QVERIFY(StatsQuery::fromJson(object(R"({"from":0,"to":86400})"), &error));
    QVERIFY(!StatsQuery::fromJson(object(R"({"from":0,"to":8640000})"), &error));
    QCOMPARE(error.field, QStringLiteral("params.step"));
    QVERIFY(StatsQuery::fromJson(object(R"({"from":0,"to":8640000,"step":1440})"), &error));
    QVERIFY(!StatsQuery::fromJson(object(R"({"from":100,"to":100})"), &error));
    QCOMPARE(error.field, QStringLiteral("params.to"));
    QVERIFY(!StatsQuery::fromJson(object(R"({"to":100})"), &error));
    QCOMPARE(error.field, QStringLiteral("params.from"));
}

void ProtocolCodecsTest::errorCodesHaveStableNames()
{
    const QStringList names = {QStringLiteral("unauthenticated"), QStringLiteral("forbidden"),
                               QStringLiteral("bad_request"),     QStringLiteral("not_found"),
                               QStringLiteral("stale_version"),   QStringLiteral("too_large"),
                               QStringLiteral("rate_limited"),    QStringLiteral("internal"),
                               QStringLiteral("conflict")};
    for (int i = 0; i < names.size(); ++i) {
        QCOMPARE(ProtocolError::codeName(ErrorCode(i)), names[i]);
        QCOMPARE(ProtocolError::codeFromName(names[i]), ErrorCode(i));
    }
    QVERIFY(!ProtocolError::codeFromName(u"nope"));
}

void ProtocolCodecsTest::everyMethodHasAnAccessLevel()
{
    QVERIFY(Methods::find(u"queue.list"));
    QCOMPARE(Methods::find(u"queue.list")->access, Access::Read);
    QCOMPARE(Methods::find(u"policy.update")->access, Access::Write);
    QCOMPARE(Methods::find(u"auth")->access, Access::Anyone);
    QVERIFY(!Methods::find(u"queue.drop"));
    QVERIFY(!Methods::find(u""));
    QVERIFY(Methods::names().size() >= 30);
}

QTEST_GUILESS_MAIN(ProtocolCodecsTest)
#include "tst_protocol_codecs.moc"
