// SPDX-License-Identifier: GPL-3.0-or-later
// The greylisting policy handler's answers, without the network: deferral texts with
// postgrey's placeholders, the X-Greylist header, and the expiry sweep committed off the hot
// path.

#include "greylist/GreylistEngine.h"
#include "policy/PolicyJson.h"
#include "policyd/GreylistPolicyHandler.h"
#include "store/SqliteStore.h"

#include <QLocale>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <tuple>

using namespace greygate;

namespace {

PolicyRequest rcpt(const QByteArray &recipient, const QByteArray &instance)
{
    PolicyRequest r;
    r.request = "smtpd_access_policy";
    r.protocolState = "RCPT";
    r.clientAddress = "198.51.100.7";
    r.sender = "alice@sender.example";
    r.recipient = recipient;
    r.instance = instance;
    r.present = PolicyRequest::Request | PolicyRequest::ProtocolState |
                PolicyRequest::ClientAddress | PolicyRequest::Sender | PolicyRequest::Recipient |
                PolicyRequest::Instance;
    return r;
}

} // namespace

class GreylistPolicyHandlerTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void deferralTextPlaceholdersAreFilledIn_data();
    void deferralTextPlaceholdersAreFilledIn();
    void headerNamesVersionHostAndAnRfc5322Date();
    void greylistCodeIsPutBeforeTheText();
    void sweepClosesRetryWindowsAndCommitsWithoutTraffic();
    void blockedSendersGoToTheRejectionLogOncePerTripletAndMinute();
};

void GreylistPolicyHandlerTest::deferralTextPlaceholdersAreFilledIn_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("wait");
    QTest::addColumn<QByteArray>("recipient");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("postgrey default")
        << QByteArray("Greylisted, see http://postgrey.schweikert.ch/help/%r.html") << qint64(60)
        << QByteArray("bob@Example.ORG")
        << QByteArray("Greylisted, see http://postgrey.schweikert.ch/help/example.org.html");
    QTest::newRow("seconds") << QByteArray("wait %s seconds") << qint64(42)
                             << QByteArray("a@b.example") << QByteArray("wait 42 seconds");
    QTest::newRow("minutes rounded up") << QByteArray("wait %m minutes") << qint64(61)
                                        << QByteArray("a@b") << QByteArray("wait 2 minutes");
    QTest::newRow("percent and unknown")
        << QByteArray("100%% sure, %x stays, trailing %") << qint64(1) << QByteArray("a@b")
        << QByteArray("100% sure, %x stays, trailing %");
    QTest::newRow("recipient without domain")
        << QByteArray("[%r]") << qint64(1) << QByteArray("postmaster") << QByteArray("[]");
}

void GreylistPolicyHandlerTest::deferralTextPlaceholdersAreFilledIn()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, wait);
    QFETCH(QByteArray, recipient);
    QFETCH(QByteArray, expected);
    QCOMPARE(GreylistPolicyHandler::expandText(text, wait, recipient), expected);
}

void GreylistPolicyHandlerTest::headerNamesVersionHostAndAnRfc5322Date()
{
    QTemporaryDir dir;
    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = dir.path();
    SqliteStore store(storeOptions);
    ManualClock clock(1'800'000'000); // 2027-01-15T08:00:00Z
    GreylistEngine engine(GreylistConfig{}, clock);
    GreylistPolicyOptions options;
    options.hostname = "mx1.example.test";
    GreylistPolicyHandler handler(engine, store, clock, options);
    const QByteArray header = handler.greylistHeader(75);
    QVERIFY2(header.startsWith("X-Greylist: delayed 75 seconds by greygate-" GREYGATE_VERSION
                               " at mx1.example.test; "),
             header.constData());
    // "Fri, 15 Jan 2027 08:00:00 +0000" in UTC; local zone and offset otherwise.
    const QByteArray date = header.mid(header.indexOf("; ") + 2);
    const QDateTime parsed = QDateTime::fromString(QString::fromLatin1(date), Qt::RFC2822Date);
    QVERIFY2(parsed.isValid(), date.constData());
    QCOMPARE(parsed.toSecsSinceEpoch(), 1'800'000'000);
    QVERIFY2(date.contains(" 2027 "), date.constData());
    const QByteArray day =
        QLocale::c().toString(QDateTime::fromSecsSinceEpoch(1'800'000'000), u"ddd, ").toLatin1();
    QVERIFY2(date.startsWith(day), date.constData()); // the optional day name, as postgrey
}

void GreylistPolicyHandlerTest::greylistCodeIsPutBeforeTheText()
{
    QTemporaryDir dir;
    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = dir.path();
    SqliteStore store(storeOptions);
    QString error;
    QVERIFY2(store.open(&error), qPrintable(error));
    ManualClock clock;
    GreylistEngine engine(GreylistConfig{}, clock);
    GreylistPolicyOptions options;
    options.greylistText = "Try later";
    options.greylistCode = "4.2.0";
    GreylistPolicyHandler handler(engine, store, clock, options);
    QCOMPARE(handler.decide(rcpt("bob@example.test", "i1")),
             QByteArray("DEFER_IF_PERMIT 4.2.0 Try later"));
    QVERIFY(handler.commit());
    store.close();
}

void GreylistPolicyHandlerTest::sweepClosesRetryWindowsAndCommitsWithoutTraffic()
{
    QTemporaryDir dir;
    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = dir.path();
    ManualClock clock;
    GreylistConfig config;
    {
        SqliteStore store(storeOptions);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        GreylistEngine engine(config, clock);
        GreylistPolicyHandler handler(engine, store, clock, GreylistPolicyOptions{});
        QVERIFY(handler.decide(rcpt("bob@example.test", "i1")).startsWith("DEFER_IF_PERMIT"));
        QVERIFY(handler.commit());
        clock.advanceSeconds(config.retryWindow + 1);
        QVERIFY(handler.sweepNow() >= 1);
        QCOMPARE(handler.pendingChanges(), 0); // committed by the sweep itself
        QCOMPARE(engine.tripletCount(), 0);
        const QList<RejectionEntry> rejections = store.rejections(RejectionQuery{}, &error);
        QCOMPARE(rejections.size(), 1);
        QCOMPARE(rejections.first().reason, QByteArray("Sender Failed to Retry"));
        store.close();
    }
}

void GreylistPolicyHandlerTest::blockedSendersGoToTheRejectionLogOncePerTripletAndMinute()
{
    QTemporaryDir dir;
    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = dir.path();
    ManualClock clock;
    SqliteStore store(storeOptions);
    QString error;
    QVERIFY2(store.open(&error), qPrintable(error));
    GreylistEngine engine(GreylistConfig{}, clock);
    GreylistPolicyHandler handler(engine, store, clock, GreylistPolicyOptions{});
    QVERIFY2(handler.policies().load(store, &error), qPrintable(error));
    const std::optional<PolicyDocument> doc = PolicyJson::parse(
        R"({"groups": [{"name": "Blocked Senders", "members": ["alice@sender.example"]}]})",
        &error);
    QVERIFY2(doc, qPrintable(error));
    QVERIFY(handler
                .changePolicies([&](PolicySet &set) {
                    return set.importDocument(*doc, QStringLiteral("test"), clock.now());
                })
                .ok());
    QSignalSpy failedToRetry(&handler, &GreylistPolicyHandler::rejectionsCommitted);

    // A flood within one minute: every attempt is rejected, one row is written.
    for (int i = 0; i < 5; ++i)
        QVERIFY(handler.decide(rcpt("bob@example.test", "i1")).startsWith("REJECT 5.7.1"));
    QVERIFY(handler.decide(rcpt("carol@example.test", "i1")).startsWith("REJECT 5.7.1"));
    QVERIFY(handler.commit());
    clock.advanceSeconds(60); // the next minute: the same triplet gets a row again
    QVERIFY(handler.decide(rcpt("bob@example.test", "i2")).startsWith("REJECT 5.7.1"));
    QVERIFY(handler.commit());

    RejectionQuery all;
    all.limit = 100;
    QList<RejectionEntry> rows = store.rejections(all, &error);
    QCOMPARE(rows.size(), 3);
    std::sort(rows.begin(), rows.end(), [](const RejectionEntry &a, const RejectionEntry &b) {
        return std::tie(a.time, a.key.recipient) < std::tie(b.time, b.key.recipient);
    });
    const QByteArray expected[] = {"bob@example.test", "carol@example.test", "bob@example.test"};
    for (qsizetype i = 0; i < rows.size(); ++i) {
        QCOMPARE(rows[i].reason, QByteArray("Blocked Sender"));
        QCOMPARE(rows[i].key.client, QByteArray("198.51.100.7"));
        QCOMPARE(rows[i].key.sender, QByteArray("alice@sender.example"));
        QCOMPARE(rows[i].key.recipient, expected[i]);
    }
    QCOMPARE(rows[2].time, rows[0].time + 60);
    QCOMPARE(handler.stats().rejected, 7u);
    QCOMPARE(handler.stats().blockedLogged, 3u);
    QCOMPARE(handler.stats().blockedNotLogged, 4u);
    // Not failures to retry: neither counted nor signalled as such.
    QCOMPARE(failedToRetry.size(), 0);
    QCOMPARE(handler.stats().failedToRetry, 0u);
    store.close();
}

QTEST_GUILESS_MAIN(GreylistPolicyHandlerTest)
#include "tst_greylist_policy_handler.moc"
