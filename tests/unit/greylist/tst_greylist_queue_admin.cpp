// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's admin side (the control API's queue): paged, filtered, sorted queries with a
// total; release now; delete. Changes are checked through a real SQLite store and a reload.

#include "greylist/GreylistEngine.h"
#include "store/SqliteStore.h"

#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

namespace {

struct Rig
{
    ManualClock clock;
    GreylistConfig config;
    GreylistEngine engine{config, clock};

    Decision decide(const char *client, const char *sender, const char *recipient)
    {
        WriteBatch batch;
        return *engine.decide(QByteArrayView(client), QByteArrayView(sender),
                              QByteArrayView(recipient), batch);
    }
    TripletKey key(const char *client, const char *sender, const char *recipient) const
    {
        return *engine.normaliser().normalise(QByteArrayView(client), QByteArrayView(sender),
                                              QByteArrayView(recipient));
    }
};

QStringList recipients(const TripletPage &page)
{
    QStringList out;
    for (const TripletRecord &r : page.records)
        out.append(QString::fromUtf8(r.key.recipient));
    return out;
}

} // namespace

class GreylistQueueAdminTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void queryFiltersAndCountsTheTotal_data();
    void queryFiltersAndCountsTheTotal();
    void pagesFollowTheSortOrderWithoutOverlap();
    void pagesConcatenateToTheWholeOrderedList_data();
    void pagesConcatenateToTheWholeOrderedList();
    void releasedTripletPassesOnItsNextRetry();
    void releaseRefusesUnknownAndPassedTriplets();
    void deletedTripletIsGreylistedAfreshWithoutARejection();
    void releaseAndDeleteAreDurable();
    void expiresAtIsTheWindowOrTheLifetime();
};

void GreylistQueueAdminTest::queryFiltersAndCountsTheTotal_data()
{
    QTest::addColumn<int>("state");
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QByteArray>("recipient");
    QTest::addColumn<QByteArray>("domain");
    QTest::addColumn<int>("total");

    const int any = int(TripletQuery::State::Any);
    QTest::newRow("everything") << any << QByteArray() << QByteArray() << QByteArray()
                                << QByteArray() << 5;
    QTest::newRow("deferred") << int(TripletQuery::State::Deferred) << QByteArray() << QByteArray()
                              << QByteArray() << QByteArray() << 4;
    QTest::newRow("passed") << int(TripletQuery::State::Passed) << QByteArray() << QByteArray()
                            << QByteArray() << QByteArray() << 1;
    QTest::newRow("client network") << any << QByteArray("198.51.100.0/24") << QByteArray()
                                    << QByteArray() << QByteArray() << 2;
    QTest::newRow("sender substring")
        << any << QByteArray() << QByteArray("bulk") << QByteArray() << QByteArray() << 2;
    QTest::newRow("recipient substring")
        << any << QByteArray() << QByteArray() << QByteArray("carol") << QByteArray() << 1;
    QTest::newRow("domain of either side")
        << any << QByteArray() << QByteArray() << QByteArray() << QByteArray("corp.example") << 5;
    QTest::newRow("sender domain")
        << any << QByteArray() << QByteArray() << QByteArray() << QByteArray("news.example") << 2;
    QTest::newRow("domain is exact")
        << any << QByteArray() << QByteArray() << QByteArray() << QByteArray("example") << 0;
    QTest::newRow("combined") << int(TripletQuery::State::Deferred) << QByteArray("192.0.2.0/24")
                              << QByteArray("alice") << QByteArray() << QByteArray() << 1;
}

void GreylistQueueAdminTest::queryFiltersAndCountsTheTotal()
{
    QFETCH(int, state);
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, sender);
    QFETCH(QByteArray, recipient);
    QFETCH(QByteArray, domain);
    QFETCH(int, total);

    Rig rig;
    rig.decide("192.0.2.1", "alice@mail.example", "bob@corp.example");
    rig.decide("192.0.2.1", "alice@mail.example", "dave@corp.example");
    rig.clock.advanceSeconds(61);
    rig.decide("192.0.2.1", "alice@mail.example", "bob@corp.example"); // passes
    rig.decide("198.51.100.9", "bulk@news.example", "carol@corp.example");
    rig.decide("198.51.100.10", "bulk@news.example", "erin@corp.example");
    rig.decide("203.0.113.5", "", "postmaster@corp.example");

    TripletQuery q;
    q.state = TripletQuery::State(state);
    q.client = client;
    q.sender = sender;
    q.recipient = recipient;
    q.domain = domain;
    const TripletPage page = rig.engine.query(q);
    QCOMPARE(page.total, total);
    QCOMPARE(page.records.size(), total);
}

void GreylistQueueAdminTest::pagesFollowTheSortOrderWithoutOverlap()
{
    Rig rig;
    for (int i = 0; i < 7; ++i) {
        const QByteArray recipient = "user" + QByteArray::number(i) + "@corp.example";
        WriteBatch batch;
        for (int a = 0; a <= i % 3; ++a)
            rig.engine.decide("192.0.2.1", "a@b.example", recipient, batch);
        rig.clock.advanceSeconds(1);
    }
    TripletQuery q;
    q.sort = TripletQuery::SortKey::FirstSeen;
    q.descending = false;
    q.limit = 3;
    QCOMPARE(recipients(rig.engine.query(q)),
             (QStringList{u"user0@corp.example"_qs, u"user1@corp.example"_qs,
                          u"user2@corp.example"_qs}));
    q.offset = 6;
    const TripletPage last = rig.engine.query(q);
    QCOMPARE(last.total, 7);
    QCOMPARE(recipients(last), QStringList{u"user6@corp.example"_qs});
    q.offset = 7;
    QVERIFY(rig.engine.query(q).records.isEmpty());

    // Attempts 1,2,3,1,2,3,1: descending, ties broken by key (ascending under reversal: the
    // larger key first), the whole order is deterministic.
    q.sort = TripletQuery::SortKey::Attempts;
    q.descending = true;
    q.offset = 0;
    q.limit = 100;
    QCOMPARE(
        recipients(rig.engine.query(q)),
        (QStringList{u"user5@corp.example"_qs, u"user2@corp.example"_qs, u"user4@corp.example"_qs,
                     u"user1@corp.example"_qs, u"user6@corp.example"_qs, u"user3@corp.example"_qs,
                     u"user0@corp.example"_qs}));
    q.sort = TripletQuery::SortKey::Recipient;
    q.descending = false;
    q.limit = 2;
    q.offset = 2;
    QCOMPARE(recipients(rig.engine.query(q)),
             (QStringList{u"user2@corp.example"_qs, u"user3@corp.example"_qs}));
}

void GreylistQueueAdminTest::pagesConcatenateToTheWholeOrderedList_data()
{
    QTest::addColumn<int>("sort");
    QTest::addColumn<bool>("descending");
    QTest::newRow("lastSeen desc") << int(TripletQuery::SortKey::LastSeen) << true;
    QTest::newRow("attempts asc") << int(TripletQuery::SortKey::Attempts) << false;
    QTest::newRow("sender desc") << int(TripletQuery::SortKey::Sender) << true;
    QTest::newRow("expiresAt asc") << int(TripletQuery::SortKey::ExpiresAt) << false;
}

// Deep pages are selected, not sorted up to their depth: whatever the page size, the pages
// read one after the other give exactly the list one query sorts whole, ties included.
void GreylistQueueAdminTest::pagesConcatenateToTheWholeOrderedList()
{
    QFETCH(int, sort);
    QFETCH(bool, descending);
    Rig rig;
    for (int i = 0; i < 400; ++i) {
        const QByteArray client = "192.0." + QByteArray::number(i % 5) + ".9";
        const QByteArray sender = "s" + QByteArray::number(i % 13) + "@b.example";
        const QByteArray recipient = "r" + QByteArray::number(i) + "@corp.example";
        WriteBatch batch;
        for (int a = 0; a <= i % 4; ++a)
            rig.engine.decide(client, sender, recipient, batch);
        if (i % 50 == 0) // many entries share a second: the tie-break decides
            rig.clock.advanceSeconds(1);
    }
    TripletQuery q;
    q.sort = TripletQuery::SortKey(sort);
    q.descending = descending;
    q.limit = 1000;
    QStringList whole;
    for (const TripletRecord &r : rig.engine.query(q).records)
        whole.append(QString::fromUtf8(r.key.joined()));
    QCOMPARE(whole.size(), 400);
    for (const int pageSize : {1, 7, 64, 399}) {
        QStringList paged;
        q.limit = pageSize;
        for (q.offset = 0; q.offset < 400; q.offset += pageSize) {
            for (const TripletRecord &r : rig.engine.query(q).records)
                paged.append(QString::fromUtf8(r.key.joined()));
        }
        QCOMPARE(paged, whole);
    }
}

void GreylistQueueAdminTest::releasedTripletPassesOnItsNextRetry()
{
    Rig rig;
    QCOMPARE(rig.decide("192.0.2.1", "a@b.example", "c@d.example").verdict, Verdict::Defer);
    rig.clock.advanceSeconds(5); // well inside the delay
    WriteBatch batch;
    QCOMPARE(rig.engine.release(rig.key("192.0.2.1", "a@b.example", "c@d.example"), batch),
             GreylistEngine::ReleaseResult::Released);
    QCOMPARE(batch.upsertTriplets.size(), 1);
    QCOMPARE(batch.upsertTriplets[0].state.status, TripletStatus::Passed);
    QCOMPARE(batch.upsertTriplets[0].state.passedAt, rig.clock.now());
    rig.clock.advanceSeconds(1);
    QCOMPARE(rig.decide("192.0.2.1", "a@b.example", "c@d.example").verdict, Verdict::PassedKnown);
    // The released triplet lives its passed lifetime, not the retry window.
    rig.clock.advanceDays(2);
    WriteBatch sweep;
    rig.engine.sweep(1000, sweep);
    QVERIFY(sweep.rejections.isEmpty());
    QVERIFY(rig.engine.triplet(rig.key("192.0.2.1", "a@b.example", "c@d.example")));
}

void GreylistQueueAdminTest::releaseRefusesUnknownAndPassedTriplets()
{
    Rig rig;
    WriteBatch batch;
    QCOMPARE(rig.engine.release(rig.key("192.0.2.1", "a@b.example", "c@d.example"), batch),
             GreylistEngine::ReleaseResult::NotFound);
    rig.decide("192.0.2.1", "a@b.example", "c@d.example");
    rig.clock.advanceSeconds(60);
    QCOMPARE(rig.decide("192.0.2.1", "a@b.example", "c@d.example").verdict, Verdict::PassedNow);
    QCOMPARE(rig.engine.release(rig.key("192.0.2.1", "a@b.example", "c@d.example"), batch),
             GreylistEngine::ReleaseResult::AlreadyPassed);
    QVERIFY(batch.isEmpty());
}

void GreylistQueueAdminTest::deletedTripletIsGreylistedAfreshWithoutARejection()
{
    Rig rig;
    rig.decide("192.0.2.1", "a@b.example", "c@d.example");
    rig.clock.advanceSeconds(30);
    rig.decide("192.0.2.1", "a@b.example", "c@d.example");
    const TripletKey key = rig.key("192.0.2.1", "a@b.example", "c@d.example");
    WriteBatch batch;
    QVERIFY(rig.engine.remove(key, batch));
    QCOMPARE(batch.removeTriplets, QList<QByteArray>{key.joined()});
    QVERIFY(!rig.engine.remove(key, batch));
    QCOMPARE(rig.engine.tripletCount(), 0);
    rig.clock.advanceSeconds(40);
    const Decision d = rig.decide("192.0.2.1", "a@b.example", "c@d.example");
    QCOMPARE(d.verdict, Verdict::Defer);
    QCOMPARE(d.attempts, 1u);
    // The old entry's deadline comes and goes: no "Sender Failed to Retry" for it, and the
    // new entry is still held.
    rig.clock.set(rig.clock.now() + 12 * 3600 - 50);
    WriteBatch sweep;
    rig.engine.sweep(1000, sweep);
    QVERIFY(sweep.rejections.isEmpty());
    QCOMPARE(rig.engine.tripletCount(), 1);
}

void GreylistQueueAdminTest::releaseAndDeleteAreDurable()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    SqliteStoreOptions options;
    options.dbdir = dir.path();
    QString error;
    Rig rig;
    {
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        WriteBatch batch;
        rig.engine.decide("192.0.2.1", "a@b.example", "c@d.example", batch);
        rig.engine.decide("192.0.2.1", "a@b.example", "e@d.example", batch);
        QVERIFY(store.commit(batch, &error));
        batch.clear();
        QCOMPARE(rig.engine.release(rig.key("192.0.2.1", "a@b.example", "c@d.example"), batch),
                 GreylistEngine::ReleaseResult::Released);
        QVERIFY(rig.engine.remove(rig.key("192.0.2.1", "a@b.example", "e@d.example"), batch));
        QVERIFY(store.commit(batch, &error));
        store.close();
    }
    SqliteStore store(options);
    QVERIFY2(store.open(&error), qPrintable(error));
    GreylistEngine reloaded(rig.config, rig.clock);
    QVERIFY(reloaded.load(store, &error));
    QCOMPARE(reloaded.tripletCount(), 1);
    const std::optional<TripletState> s =
        reloaded.triplet(rig.key("192.0.2.1", "a@b.example", "c@d.example"));
    QVERIFY(s);
    QCOMPARE(s->status, TripletStatus::Passed);
}

void GreylistQueueAdminTest::expiresAtIsTheWindowOrTheLifetime()
{
    Rig rig;
    TripletState s;
    s.firstSeen = 1000;
    s.lastSeen = 2000;
    QCOMPARE(rig.engine.expiresAt(s), 1000 + rig.config.retryWindow);
    s.status = TripletStatus::Passed;
    QCOMPARE(rig.engine.expiresAt(s), 2000 + rig.config.passedLifetime);
}

QTEST_GUILESS_MAIN(GreylistQueueAdminTest)
#include "tst_greylist_queue_admin.moc"
