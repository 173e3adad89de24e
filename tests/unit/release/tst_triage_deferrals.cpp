// SPDX-License-Identifier: GPL-3.0-or-later
// The triage keeps each greylisted triplet's client address, whether a deferral reaches it as
// it is decided (with the decision's normalised triplet) or only as an event in the tick.
#include "alerts/TriageFacts.h"
#include "events/Event.h"
#include "greylist/GreylistConfig.h"
#include "greylist/TripletNormaliser.h"

#include <QTest>

using namespace greygate;

namespace {

Event deferral(quint64 id, const char *client, const char *sender, const char *recipient,
               const char *name = "")
{
    Event e;
    e.id = id;
    e.type = EventType::Attempt;
    e.outcome = AttemptOutcome::Deferred;
    e.client = client;
    e.sender = sender;
    e.recipient = recipient;
    e.clientName = name;
    return e;
}

} // namespace

class TriageDeferralsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aDeferralIsKeptByItsNormalisedTripletFromTheEventAlone()
    {
        const TripletNormaliser normaliser{GreylistConfig{}};
        TriageFacts facts;
        facts.setNormaliser(&normaliser);
        facts.noteAttempt(deferral(1, "192.0.2.7", "Inv+Tag@Partner.test", "Alice@corp.test",
                                   "MX1.Partner.test"));
        QCOMPARE(facts.addressOf("192.0.2.0/24", "inv@partner.test", "alice@corp.test"),
                 std::optional<QByteArray>("192.0.2.7"));
        QCOMPARE(facts.name("192.0.2.7")->name, QByteArray("mx1.partner.test"));
    }

    void aDeferralKeptAsDecidedIsNotNormalisedAgainInTheTick()
    {
        const TripletNormaliser normaliser{GreylistConfig{}};
        TriageFacts facts;
        facts.setNormaliser(&normaliser);
        // The decision's triplet is what counts: a network the normaliser would not give
        // shows that the tick took the kept one and did not normalise the event again.
        facts.noteDeferred(5, "192.0.2.7", "MX1.Partner.test", "decided-network",
                           "inv@partner.test", "alice@corp.test");
        facts.noteAttempt(deferral(5, "192.0.2.7", "inv@partner.test", "alice@corp.test"));
        QCOMPARE(facts.addressOf("decided-network", "inv@partner.test", "alice@corp.test"),
                 std::optional<QByteArray>("192.0.2.7"));
        QVERIFY(!facts.addressOf("192.0.2.0/24", "inv@partner.test", "alice@corp.test"));
        QCOMPARE(facts.name("192.0.2.7")->name, QByteArray("mx1.partner.test"));
        // An event not kept as decided (an earlier id skipped, a later one not tapped) is
        // normalised from the event as before.
        facts.noteAttempt(deferral(6, "198.51.100.9", "bob@other.test", "carol@corp.test"));
        QCOMPARE(facts.addressOf("198.51.100.0/24", "bob@other.test", "carol@corp.test"),
                 std::optional<QByteArray>("198.51.100.9"));
    }

    // The addresses live in a flat table of at least kMaxAddresses slots, the oldest of a
    // bucket replaced: far more greylisted triplets than that keep the newest, forget (all
    // but a rare few in a bucket that drew few keys) the oldest, and a triplet tried again from
    // another address shows the latest.
    void theNewestAddressesAreKeptWithinTheBound()
    {
        const TripletNormaliser normaliser{GreylistConfig{}};
        TriageFacts facts;
        facts.setNormaliser(&normaliser);
        constexpr int kTriplets = 3 * int(TriageFacts::kMaxAddresses);
        const auto sender = [](int i) -> QByteArray {
            return "s" + QByteArray::number(i) + "@partner.test";
        };
        const auto client = [](int i) -> QByteArray {
            return "10.0." + QByteArray::number(i % 200) + ".9";
        };
        for (int i = 0; i < kTriplets; ++i)
            facts.noteDeferred(quint64(i), client(i), "mx.partner.test", "10.0.0.0/24", sender(i),
                               "alice@corp.test");
        int newest = 0;
        for (int i = kTriplets - 1000; i < kTriplets; ++i)
            newest += facts.addressOf("10.0.0.0/24", sender(i), "alice@corp.test") ==
                      std::optional<QByteArray>(client(i));
        QCOMPARE(newest, 1000);
        int oldest = 0;
        for (int i = 0; i < 1000; ++i)
            oldest += facts.addressOf("10.0.0.0/24", sender(i), "alice@corp.test").has_value();
        QVERIFY2(oldest <= 10, QByteArray::number(oldest).constData()); // a bucket that got few
        facts.noteDeferred(1, "203.0.113.5", "", "10.0.0.0/24", sender(kTriplets - 1),
                           "alice@corp.test");
        QCOMPARE(facts.addressOf("10.0.0.0/24", sender(kTriplets - 1), "alice@corp.test"),
                 std::optional<QByteArray>("203.0.113.5"));
        QCOMPARE(facts.name(client(7))->name, QByteArray("mx.partner.test"));
    }

    void withoutTheEnginesKeyingNothingIsKept()
    {
        TriageFacts facts;
        facts.noteDeferred(1, "192.0.2.7", "", "192.0.2.0/24", "a@b.test", "c@d.test");
        facts.noteAttempt(deferral(1, "192.0.2.7", "a@b.test", "c@d.test"));
        QVERIFY(!facts.addressOf("192.0.2.0/24", "a@b.test", "c@d.test"));
    }
};

QTEST_GUILESS_MAIN(TriageDeferralsTest)
#include "tst_triage_deferrals.moc"
