// SPDX-License-Identifier: GPL-3.0-or-later
// The event stream's direct JSON writer gives the same objects as the QJsonObject form, for
// every event type and for hostile bytes (quotes, backslashes, control characters, invalid
// UTF-8 from the wire), and always valid JSON.
#include "control/EventJson.h"

#include <QJsonDocument>
#include <QTest>

using namespace greygate;

class EventJsonTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void directJsonMatchesTheObjectForm_data();
    void directJsonMatchesTheObjectForm();
};

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

    QByteArray direct;
    EventJson::appendJson(&direct, e);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(direct, &error);
    QVERIFY2(doc.isObject(), qPrintable(error.errorString() + u": " + QString::fromUtf8(direct)));
    QCOMPARE(doc.object(), EventJson::toJson(e));
}

QTEST_GUILESS_MAIN(EventJsonTest)
#include "tst_event_json.moc"
