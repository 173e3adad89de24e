// SPDX-License-Identifier: GPL-3.0-or-later
#include "greylist/GreylistEngine.h"
#include "store/Store.h"

#include <QHash>
#include <QSet>
#include <QTest>

using namespace greygate;

namespace {

constexpr Seconds kHour = 3600;
constexpr Seconds kDay = 86400;
constexpr Seconds kWindow = 12 * kHour;
constexpr Seconds kLifetime = 36 * kDay;

// A Store kept in memory: the real SQLite store has its own tests. Committing every batch
// here and comparing with the engine shows the batches carry every state change.
class MemoryStore final : public Store
{
public:
    QHash<QByteArray, TripletRecord> triplets;
    QHash<QByteArray, ClientRecord> clients;
    QList<RejectionEntry> rejectionLog;
    QHash<QPair<int, QByteArray>, DocumentRecord> documents;
    QList<AuditRecord> auditLog;
    quint64 revision = 0;

    QString kind() const override { return QStringLiteral("memory"); }
    bool open(QString *) override { return true; }
    void close() override {}
    bool load(const std::function<void(TripletRecord &&)> &onTriplet,
              const std::function<void(ClientRecord &&)> &onClient, QString *) override
    {
        for (TripletRecord record : std::as_const(triplets))
            onTriplet(std::move(record));
        for (ClientRecord record : std::as_const(clients))
            onClient(std::move(record));
        return true;
    }
    // Upserts before removals, as SqliteStore (and its snapshot) apply a batch.
    bool commit(const WriteBatch &batch, QString *) override
    {
        for (const TripletRecord &record : batch.upsertTriplets)
            triplets.insert(record.key.joined(), record);
        for (const QByteArray &key : batch.removeTriplets)
            triplets.remove(key);
        for (const ClientRecord &record : batch.upsertClients)
            clients.insert(record.client, record);
        for (const QByteArray &key : batch.removeClients)
            clients.remove(key);
        rejectionLog.append(batch.rejections);
        for (const DocumentRecord &document : batch.documents) {
            const QPair<int, QByteArray> id(int(document.kind), document.id);
            if (document.removed)
                documents.remove(id);
            else
                documents.insert(id, document);
            revision = qMax(revision, document.revision);
        }
        auditLog.append(batch.audit);
        return true;
    }
    bool loadDocuments(const std::function<void(DocumentRecord &&)> &onDocument, QString *) override
    {
        for (DocumentRecord document : std::as_const(documents))
            onDocument(std::move(document));
        return true;
    }
    bool documentRevision(quint64 *result, QString *) override
    {
        *result = revision;
        return true;
    }
    QList<AuditRecord> audit(const AuditQuery &, QString *) override { return auditLog; }
    bool pruneBefore(Seconds, Seconds, QString *) override { return true; }
    QList<RejectionEntry> rejections(const RejectionQuery &, QString *) override
    {
        return rejectionLog;
    }
    bool checkIntegrity(QString *) override { return true; }
};

TripletKey key(const char *sender = "alice@example.org", const char *recipient = "bob@example.net",
               const char *client = "192.0.2.0/24")
{
    return TripletKey{client, sender, recipient};
}

TripletState deferredState(Seconds firstSeen, Seconds lastSeen, quint32 attempts)
{
    return TripletState{firstSeen, lastSeen, 0, attempts, TripletStatus::Deferred};
}

TripletState passedState(Seconds firstSeen, Seconds lastSeen, Seconds passedAt, quint32 attempts)
{
    return TripletState{firstSeen, lastSeen, passedAt, attempts, TripletStatus::Passed};
}

} // namespace

class TstGreylistTiming : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void first_sight_is_deferred_and_recorded();
    void retry_passes_from_the_minimum_delay_on_data();
    void retry_passes_from_the_minimum_delay_on();
    void retry_window_closes_at_twelve_hours_data();
    void retry_window_closes_at_twelve_hours();
    void failed_to_retry_is_logged_once_when_the_sweep_sees_it_first();
    void a_key_removed_then_seen_again_in_one_batch_is_kept();
    void failed_to_retry_is_logged_once_when_a_late_retry_sees_it_first();
    void passed_triplet_never_logs_failed_to_retry();
    void passed_entry_is_refreshed_by_use_and_expires_after_the_lifetime();
    void passed_entry_is_removed_by_the_sweep_once_its_lifetime_is_over();
    void refreshes_of_a_passed_entry_are_written_once_per_clock_hour();
    void client_is_auto_whitelisted_after_n_passes_and_not_before();
    void many_recipients_of_one_message_count_once();
    void auto_whitelist_disabled_with_zero_keeps_no_clients();
    void whitelisted_client_is_forgotten_after_the_lifetime_without_activity();
    void sweep_visits_at_most_the_limit_and_only_what_is_due();
    void load_restores_state_and_closes_windows_that_closed_while_down();
    void malformed_input_is_refused_without_a_state_change();
    void engine_and_committed_store_agree_under_churn();

private:
    Decision step(const TripletKey &k);
    void commit();
    void verifyStoreMatchesEngine();

    ManualClock m_clock;
    GreylistConfig m_config;
    std::unique_ptr<GreylistEngine> m_engine;
    MemoryStore m_store;
    WriteBatch m_batch;
};

void TstGreylistTiming::init()
{
    m_clock.set(1'800'000'000);
    m_config = GreylistConfig{};
    m_config.autoWhitelistClients = 0; // timing tests first; AWL tests turn it on
    m_engine = std::make_unique<GreylistEngine>(m_config, m_clock);
    m_store = MemoryStore{};
    m_batch.clear();
}

Decision TstGreylistTiming::step(const TripletKey &k)
{
    m_batch.clear();
    return m_engine->decide(k, m_batch);
}

void TstGreylistTiming::commit()
{
    QVERIFY(m_store.commit(m_batch, nullptr));
    m_batch.clear();
}

void TstGreylistTiming::verifyStoreMatchesEngine()
{
    QCOMPARE(qsizetype(m_store.triplets.size()), m_engine->tripletCount());
    for (const TripletRecord &record : std::as_const(m_store.triplets)) {
        const std::optional<TripletState> state = m_engine->triplet(record.key);
        QVERIFY(state);
        if (state->status == TripletStatus::Deferred) {
            QCOMPARE(*state, record.state);
            continue;
        }
        // A passed triplet's refreshes are written once per clock hour: the stored copy may
        // trail memory by less than an hour, never by a state change.
        QCOMPARE(record.state.status, state->status);
        QCOMPARE(record.state.firstSeen, state->firstSeen);
        QCOMPARE(record.state.passedAt, state->passedAt);
        QVERIFY(record.state.lastSeen <= state->lastSeen);
        QVERIFY(state->lastSeen - record.state.lastSeen < 3600);
        QVERIFY(record.state.attempts <= state->attempts);
    }
    QCOMPARE(qsizetype(m_store.clients.size()), m_engine->clientCount());
    for (const ClientRecord &record : std::as_const(m_store.clients)) {
        const std::optional<ClientRecord> client = m_engine->client(record.client);
        QVERIFY(client);
        QCOMPARE(client->passes, record.passes);
        QVERIFY(record.lastSeen <= client->lastSeen);
        QVERIFY(client->lastSeen - record.lastSeen < 3600);
    }
}

void TstGreylistTiming::first_sight_is_deferred_and_recorded()
{
    const Seconds t0 = m_clock.now();
    const Decision d = step(key());
    QCOMPARE(d.verdict, Verdict::Defer);
    QCOMPARE(d.attempts, 1u);
    QCOMPARE(d.firstSeen, t0);
    QCOMPARE(d.waitSeconds, Seconds(60));
    QVERIFY(!d.accepted());

    QCOMPARE(m_batch.size(), 1);
    QCOMPARE(m_batch.upsertTriplets.size(), 1);
    QCOMPARE(m_batch.upsertTriplets.front().key, key());
    QCOMPARE(m_batch.upsertTriplets.front().state, deferredState(t0, t0, 1));
    commit();
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::retry_passes_from_the_minimum_delay_on_data()
{
    QTest::addColumn<Seconds>("after");
    QTest::addColumn<Verdict>("verdict");
    QTest::newRow("1 s: deferred") << Seconds(1) << Verdict::Defer;
    QTest::newRow("59 s: deferred") << Seconds(59) << Verdict::Defer;
    QTest::newRow("exactly 60 s: passed") << Seconds(60) << Verdict::PassedNow;
    QTest::newRow("61 s: passed") << Seconds(61) << Verdict::PassedNow;
}

void TstGreylistTiming::retry_passes_from_the_minimum_delay_on()
{
    QFETCH(Seconds, after);
    QFETCH(Verdict, verdict);
    const Seconds t0 = m_clock.now();
    step(key());
    commit();
    m_clock.advanceSeconds(after);
    const Seconds t1 = m_clock.now();
    const Decision d = step(key());
    QCOMPARE(d.verdict, verdict);
    QCOMPARE(d.attempts, 2u);
    QCOMPARE(d.firstSeen, t0);
    QCOMPARE(m_batch.size(), 1);
    QCOMPARE(m_batch.upsertTriplets.size(), 1);
    if (verdict == Verdict::Defer) {
        QCOMPARE(d.waitSeconds, 60 - after);
        QCOMPARE(m_batch.upsertTriplets.front().state, deferredState(t0, t1, 2));
    } else {
        QCOMPARE(d.delayedSeconds, after);
        QCOMPARE(m_batch.upsertTriplets.front().state, passedState(t0, t1, t1, 2));
    }
    commit();
    verifyStoreMatchesEngine();

    // Deferred again at 59 s, a retry after the delay still passes.
    if (verdict == Verdict::Defer) {
        m_clock.set(t0 + 60);
        QCOMPARE(step(key()).verdict, Verdict::PassedNow);
        QCOMPARE(m_batch.upsertTriplets.front().state, passedState(t0, t0 + 60, t0 + 60, 3));
    }
}

void TstGreylistTiming::retry_window_closes_at_twelve_hours_data()
{
    QTest::addColumn<Seconds>("after");
    QTest::addColumn<bool>("passes");
    QTest::newRow("12 h - 1 s: passed") << kWindow - 1 << true;
    QTest::newRow("exactly 12 h: restarted") << kWindow << false;
    QTest::newRow("12 h + 1 s: restarted") << kWindow + 1 << false;
    QTest::newRow("3 days: restarted") << 3 * kDay << false;
}

void TstGreylistTiming::retry_window_closes_at_twelve_hours()
{
    QFETCH(Seconds, after);
    QFETCH(bool, passes);
    const Seconds t0 = m_clock.now();
    step(key());
    commit();
    m_clock.advanceSeconds(30);
    step(key()); // an early retry: counted
    commit();
    m_clock.set(t0 + after);
    const Seconds t1 = m_clock.now();
    const Decision d = step(key());
    if (passes) {
        QCOMPARE(d.verdict, Verdict::PassedNow);
        QCOMPARE(d.delayedSeconds, after);
        QCOMPARE(m_batch.size(), 1);
        QCOMPARE(m_batch.upsertTriplets.front().state, passedState(t0, t1, t1, 3));
    } else {
        QCOMPARE(d.verdict, Verdict::Defer);
        QCOMPARE(d.attempts, 1u);
        QCOMPARE(d.firstSeen, t1);
        QCOMPARE(d.waitSeconds, Seconds(60));
        QCOMPARE(m_batch.size(), 2);
        QCOMPARE(m_batch.upsertTriplets.size(), 1);
        QCOMPARE(m_batch.upsertTriplets.front().state, deferredState(t1, t1, 1));
        QCOMPARE(m_batch.rejections.size(), 1);
        const RejectionEntry &r = m_batch.rejections.front();
        QCOMPARE(r.reason, QByteArray("Sender Failed to Retry"));
        QCOMPARE(r.time, t0 + kWindow);
        QCOMPARE(r.key, key());
        QCOMPARE(r.attempts, 2u);
        QCOMPARE(r.firstSeen, t0);
    }
    commit();
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::a_key_removed_then_seen_again_in_one_batch_is_kept()
{
    // One group commit may hold a removal of a key and a later decision's new record of it:
    // the record must win, whatever order a store applies the lists in.
    m_config.autoWhitelistClients = 1;
    m_engine = std::make_unique<GreylistEngine>(m_config, m_clock);
    const Seconds t0 = m_clock.now();
    step(key());
    commit();
    m_clock.set(t0 + kWindow);
    QCOMPARE(m_engine->sweep(100, m_batch), 1);
    QCOMPARE(m_batch.removeTriplets, QList<QByteArray>{key().joined()});
    QCOMPARE(m_engine->decide(key(), m_batch).verdict, Verdict::Defer); // a first sight again
    QVERIFY(m_batch.removeTriplets.isEmpty());
    commit();
    QCOMPARE(m_engine->tripletCount(), 1);
    verifyStoreMatchesEngine();

    // A client forgotten at decision time (a lifetime without activity), then passing again
    // within the same batch.
    m_clock.advanceMinutes(2);
    QCOMPARE(step(key()).verdict, Verdict::PassedNow);
    commit();
    QCOMPARE(m_engine->clientCount(), 1);
    m_clock.advanceSeconds(kLifetime);
    QCOMPARE(step(key("v@y.example")).verdict, Verdict::Defer);
    QCOMPARE(m_batch.removeClients, QList<QByteArray>{"192.0.2.0/24"});
    m_clock.advanceMinutes(2);
    QCOMPARE(m_engine->decide(key("v@y.example"), m_batch).verdict, Verdict::PassedNow);
    QVERIFY(m_batch.removeClients.isEmpty());
    commit();
    QCOMPARE(m_engine->clientCount(), 1);
    QCOMPARE(qsizetype(m_store.clients.size()), 1);
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::failed_to_retry_is_logged_once_when_the_sweep_sees_it_first()
{
    const Seconds t0 = m_clock.now();
    step(key());
    commit();
    QCOMPARE(m_engine->nextDeadline(), t0 + kWindow);

    m_clock.set(t0 + kWindow - 1);
    QCOMPARE(m_engine->sweep(100, m_batch), 0);
    QVERIFY(m_batch.isEmpty());

    m_clock.set(t0 + kWindow);
    QCOMPARE(m_engine->sweep(100, m_batch), 1);
    QCOMPARE(m_batch.rejections.size(), 1);
    QCOMPARE(m_batch.rejections.front().time, t0 + kWindow);
    QCOMPARE(m_batch.rejections.front().key, key());
    QCOMPARE(m_batch.rejections.front().attempts, 1u);
    QCOMPARE(m_batch.removeTriplets, QList<QByteArray>{key().joined()});
    QCOMPARE(m_batch.size(), 2);
    commit();
    QCOMPARE(m_engine->tripletCount(), 0);
    verifyStoreMatchesEngine();

    // A late retry is a first sight: no second rejection, now or from later sweeps.
    m_clock.advanceHours(1);
    const Decision d = step(key());
    QCOMPARE(d.verdict, Verdict::Defer);
    QCOMPARE(d.attempts, 1u);
    QVERIFY(m_batch.rejections.isEmpty());
    commit();
    m_clock.advanceHours(2);
    QCOMPARE(m_engine->sweep(100, m_batch), 0);
    QVERIFY(m_batch.isEmpty());
    QCOMPARE(m_store.rejectionLog.size(), 1);
}

void TstGreylistTiming::failed_to_retry_is_logged_once_when_a_late_retry_sees_it_first()
{
    const Seconds t0 = m_clock.now();
    step(key());
    commit();
    m_clock.set(t0 + kWindow + 1);
    step(key());
    QCOMPARE(m_batch.rejections.size(), 1);
    commit();

    // The sweep reaches the old deadline later: the triplet restarted, nothing to log.
    m_clock.set(t0 + kWindow + 2);
    m_engine->sweep(100, m_batch);
    QVERIFY(m_batch.isEmpty());
    m_clock.set(t0 + 2 * kWindow);
    m_engine->sweep(100, m_batch);
    QVERIFY(m_batch.isEmpty());
    QCOMPARE(m_store.rejectionLog.size(), 1);
    verifyStoreMatchesEngine();

    // The second window, never retried, closes once more: one entry for it, dated by it.
    m_clock.set(t0 + 2 * kWindow + 1);
    QCOMPARE(m_engine->sweep(100, m_batch), 1);
    QCOMPARE(m_batch.rejections.size(), 1);
    QCOMPARE(m_batch.rejections.front().firstSeen, t0 + kWindow + 1);
    QCOMPARE(m_batch.rejections.front().time, t0 + 2 * kWindow + 1);
    commit();
    QCOMPARE(m_store.rejectionLog.size(), 2);
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::passed_triplet_never_logs_failed_to_retry()
{
    const Seconds t0 = m_clock.now();
    step(key());
    m_clock.advanceSeconds(61);
    QCOMPARE(step(key()).verdict, Verdict::PassedNow);
    commit();
    for (Seconds at : {kWindow - 1, kWindow, kWindow + 1, 5 * kDay}) {
        m_clock.set(t0 + at);
        m_engine->sweep(1000, m_batch);
        QVERIFY(m_batch.isEmpty());
    }
    m_clock.set(t0 + 61 + kLifetime);
    QCOMPARE(m_engine->sweep(1000, m_batch), 1);
    QVERIFY(m_batch.rejections.isEmpty());
    QCOMPARE(m_batch.removeTriplets.size(), 1);
    commit();
    QVERIFY(m_store.rejectionLog.isEmpty());
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::passed_entry_is_refreshed_by_use_and_expires_after_the_lifetime()
{
    const Seconds t0 = m_clock.now();
    step(key());
    m_clock.advanceSeconds(61);
    step(key());
    commit();

    m_clock.advanceDays(30);
    Decision d = step(key());
    QCOMPARE(d.verdict, Verdict::PassedKnown);
    QCOMPARE(d.attempts, 3u);
    QCOMPARE(m_batch.size(), 1);
    QCOMPARE(m_batch.upsertTriplets.front().state, passedState(t0, m_clock.now(), t0 + 61, 3));
    commit();

    // 60 days after passing, but only 30 after the last use: still known.
    m_clock.advanceDays(30);
    QCOMPARE(step(key()).verdict, Verdict::PassedKnown);
    commit();
    const Seconds lastUse = m_clock.now();
    m_clock.set(lastUse + kLifetime - 1);
    m_engine->sweep(1000, m_batch);
    QVERIFY(m_batch.isEmpty());
    QCOMPARE(step(key()).verdict, Verdict::PassedKnown);
    commit();

    // A full lifetime without use: greylisted afresh, never a rejection.
    m_clock.advanceSeconds(kLifetime);
    d = step(key());
    QCOMPARE(d.verdict, Verdict::Defer);
    QCOMPARE(d.attempts, 1u);
    QCOMPARE(m_batch.size(), 1);
    QCOMPARE(m_batch.upsertTriplets.front().state, deferredState(m_clock.now(), m_clock.now(), 1));
    commit();
    QVERIFY(m_store.rejectionLog.isEmpty());
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::refreshes_of_a_passed_entry_are_written_once_per_clock_hour()
{
    const Seconds t0 = m_clock.now(); // on an hour boundary
    QCOMPARE(t0 % 3600, 0);
    step(key());
    m_clock.advanceSeconds(61);
    QCOMPARE(step(key()).verdict, Verdict::PassedNow);
    QCOMPARE(m_batch.upsertTriplets.size(), 1); // a state change: always written
    commit();

    // Later uses in the same clock hour stay in memory only.
    m_clock.advanceMinutes(10);
    QCOMPARE(step(key()).verdict, Verdict::PassedKnown);
    QVERIFY(m_batch.upsertTriplets.isEmpty());
    QCOMPARE(m_engine->triplet(key())->lastSeen, m_clock.now());
    QCOMPARE(m_engine->triplet(key())->attempts, 3u);
    commit();
    verifyStoreMatchesEngine();

    // The first use in the next hour writes the refresh, with the attempts counted since.
    m_clock.set(t0 + 3600 + 5);
    QCOMPARE(step(key()).verdict, Verdict::PassedKnown);
    QCOMPARE(m_batch.upsertTriplets.size(), 1);
    QCOMPARE(m_batch.upsertTriplets.front().state, passedState(t0, t0 + 3605, t0 + 61, 4));
    commit();
    QCOMPARE(m_store.triplets.value(key().joined()).state, *m_engine->triplet(key()));
}

void TstGreylistTiming::passed_entry_is_removed_by_the_sweep_once_its_lifetime_is_over()
{
    step(key());
    m_clock.advanceSeconds(100);
    step(key());
    commit();
    const Seconds passedAt = m_clock.now();
    m_clock.advanceDays(10);
    step(key()); // refreshed: the lifetime counts from here
    commit();
    const Seconds lastUse = m_clock.now();

    m_clock.set(passedAt + kLifetime);
    m_engine->sweep(1000, m_batch);
    QVERIFY(m_batch.isEmpty());
    QCOMPARE(m_engine->nextDeadline(), lastUse + kLifetime);
    m_clock.set(lastUse + kLifetime);
    QCOMPARE(m_engine->sweep(1000, m_batch), 1);
    QCOMPARE(m_batch.removeTriplets, QList<QByteArray>{key().joined()});
    QCOMPARE(m_batch.size(), 1);
    commit();
    QCOMPARE(m_engine->tripletCount(), 0);
    QCOMPARE(m_engine->nextDeadline(), std::nullopt);
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::client_is_auto_whitelisted_after_n_passes_and_not_before()
{
    m_config.autoWhitelistClients = 3;
    m_engine = std::make_unique<GreylistEngine>(m_config, m_clock);
    const Seconds earlyAt = m_clock.now();
    QCOMPARE(step(key("early@e.example")).verdict, Verdict::Defer);
    commit();
    const QList<QByteArray> senders = {"s0@a.example", "s1@b.example", "s2@c.example"};
    for (qsizetype i = 0; i < senders.size(); ++i) {
        const TripletKey k = key(senders[i].constData());
        QCOMPARE(step(k).verdict, Verdict::Defer);
        commit();
        m_clock.advanceMinutes(10);
        QCOMPARE(step(k).verdict, Verdict::PassedNow);
        QCOMPARE(m_batch.upsertClients.size(), 1);
        QCOMPARE(m_batch.upsertClients.front().client, QByteArray("192.0.2.0/24"));
        QCOMPARE(m_batch.upsertClients.front().passes, quint32(i + 1));
        QCOMPARE(m_batch.upsertClients.front().lastSeen, m_clock.now());
        commit();
        verifyStoreMatchesEngine();
        m_clock.advanceMinutes(10);
    }
    // Three passes: a new triplet of that network is accepted at once, and not recorded.
    const Decision d = step(key("new@d.example", "carol@example.net"));
    QCOMPARE(d.verdict, Verdict::ClientWhitelisted);
    QVERIFY(d.accepted());
    QVERIFY(m_batch.upsertTriplets.isEmpty());
    QCOMPARE(m_batch.upsertClients.size(), 1);
    QCOMPARE(m_batch.upsertClients.front().passes, 3u);
    QCOMPARE(m_batch.size(), 1);
    commit();
    QVERIFY(!m_engine->triplet(key("new@d.example", "carol@example.net")));
    // A triplet deferred before the whitelisting, retried now: accepted and dropped, so its
    // window cannot close into a false "Sender Failed to Retry".
    QVERIFY(m_engine->triplet(key("early@e.example")));
    m_clock.advanceMinutes(1);
    QCOMPARE(step(key("early@e.example")).verdict, Verdict::ClientWhitelisted);
    QCOMPARE(m_batch.removeTriplets, QList<QByteArray>{key("early@e.example").joined()});
    commit();
    QVERIFY(!m_engine->triplet(key("early@e.example")));
    m_clock.set(earlyAt + kWindow + 1);
    m_engine->sweep(1000, m_batch);
    QVERIFY(m_batch.rejections.isEmpty());
    commit();
    // Another network is not whitelisted.
    QCOMPARE(step(key("new@d.example", "carol@example.net", "198.51.100.0/24")).verdict,
             Verdict::Defer);
    commit();
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::many_recipients_of_one_message_count_once()
{
    m_config.autoWhitelistClients = 2;
    m_engine = std::make_unique<GreylistEngine>(m_config, m_clock);
    QList<TripletKey> keys;
    for (int i = 0; i < 10; ++i)
        keys.append(key("list@example.org",
                        QByteArray("user" + QByteArray::number(i) + "@example.net").constData()));
    for (const TripletKey &k : keys)
        QCOMPARE(step(k).verdict, Verdict::Defer);
    m_clock.advanceMinutes(5);
    for (const TripletKey &k : keys) {
        QCOMPARE(step(k).verdict, Verdict::PassedNow);
        commit();
    }
    QCOMPARE(m_engine->client("192.0.2.0/24")->passes, 1u);
    // Not whitelisted yet: a new recipient is greylisted.
    QCOMPARE(step(key("list@example.org", "new@example.net")).verdict, Verdict::Defer);
    commit();
    // The next message, later, counts: now whitelisted.
    m_clock.advanceHours(1);
    QCOMPARE(step(keys.front()).verdict, Verdict::PassedKnown);
    QCOMPARE(m_engine->client("192.0.2.0/24")->passes, 2u);
    commit();
    QCOMPARE(step(key("list@example.org", "other@example.net")).verdict,
             Verdict::ClientWhitelisted);
    commit();
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::auto_whitelist_disabled_with_zero_keeps_no_clients()
{
    for (int i = 0; i < 20; ++i) {
        const TripletKey k =
            key(QByteArray("s" + QByteArray::number(i) + "@x.example").constData());
        step(k);
        m_clock.advanceMinutes(2);
        QCOMPARE(step(k).verdict, Verdict::PassedNow);
        QVERIFY(m_batch.upsertClients.isEmpty());
    }
    QCOMPARE(m_engine->clientCount(), 0);
}

void TstGreylistTiming::whitelisted_client_is_forgotten_after_the_lifetime_without_activity()
{
    m_config.autoWhitelistClients = 1;
    m_engine = std::make_unique<GreylistEngine>(m_config, m_clock);
    step(key());
    m_clock.advanceMinutes(2);
    QCOMPARE(step(key()).verdict, Verdict::PassedNow);
    commit();
    m_clock.advanceDays(20);
    QCOMPARE(step(key("x@y.example")).verdict, Verdict::ClientWhitelisted); // activity
    commit();
    const Seconds lastActivity = m_clock.now();

    m_clock.set(lastActivity + kLifetime - 1);
    QCOMPARE(step(key("z@y.example")).verdict, Verdict::ClientWhitelisted);
    commit();
    // Swept once a lifetime passed without activity.
    m_clock.advanceSeconds(kLifetime);
    m_engine->sweep(1000, m_batch);
    QCOMPARE(m_batch.removeClients, QList<QByteArray>{"192.0.2.0/24"});
    commit();
    QCOMPARE(m_engine->clientCount(), 0);
    QCOMPARE(step(key("w@y.example")).verdict, Verdict::Defer);
    commit();
    verifyStoreMatchesEngine();

    // And forgotten at decision time when the sweep has not run yet.
    m_clock.advanceMinutes(2);
    QCOMPARE(step(key("w@y.example")).verdict, Verdict::PassedNow);
    commit();
    m_clock.advanceSeconds(kLifetime);
    QCOMPARE(step(key("v@y.example")).verdict, Verdict::Defer);
    QCOMPARE(m_batch.removeClients, QList<QByteArray>{"192.0.2.0/24"});
    commit();
    verifyStoreMatchesEngine();
}

void TstGreylistTiming::sweep_visits_at_most_the_limit_and_only_what_is_due()
{
    const Seconds t0 = m_clock.now();
    for (int i = 0; i < 100; ++i)
        step(key(QByteArray("s" + QByteArray::number(i) + "@x.example").constData()));
    m_clock.advanceSeconds(1);
    for (int i = 0; i < 5; ++i)
        step(key(QByteArray("late" + QByteArray::number(i) + "@x.example").constData()));
    m_batch.clear();

    m_clock.set(t0 + kWindow);
    QCOMPARE(m_engine->sweep(30, m_batch), 30);
    QCOMPARE(m_batch.rejections.size(), 30);
    QCOMPARE(m_engine->sweep(1000, m_batch), 70); // the later five are not due yet
    QCOMPARE(m_batch.rejections.size(), 100);
    QCOMPARE(m_engine->tripletCount(), 5);
    QCOMPARE(m_engine->sweep(1000, m_batch), 0);
    QCOMPARE(m_engine->nextDeadline(), t0 + 1 + kWindow);
}

void TstGreylistTiming::load_restores_state_and_closes_windows_that_closed_while_down()
{
    m_config.autoWhitelistClients = 2;
    const Seconds now = m_clock.now();
    const TripletKey closed = key("closed@x.example");
    const TripletKey pending = key("pending@x.example");
    const TripletKey passed = key("passed@x.example");
    const TripletKey stale = key("stale@x.example");
    MemoryStore store;
    store.triplets.insert(closed.joined(),
                          {closed, deferredState(now - 13 * kHour, now - 13 * kHour, 2)});
    store.triplets.insert(pending.joined(), {pending, deferredState(now - 30, now - 30, 1)});
    store.triplets.insert(passed.joined(),
                          {passed, passedState(now - 5 * kDay, now - kDay, now - 5 * kDay, 4)});
    store.triplets.insert(
        stale.joined(), {stale, passedState(now - 50 * kDay, now - 40 * kDay, now - 50 * kDay, 2)});
    store.clients.insert("198.51.100.0/24", ClientRecord{"198.51.100.0/24", 2, now - kDay});
    store.clients.insert("203.0.113.0/24", ClientRecord{"203.0.113.0/24", 9, now - 37 * kDay});

    GreylistEngine engine(m_config, m_clock);
    QString error;
    QVERIFY(engine.load(store, &error));
    QCOMPARE(engine.tripletCount(), 4);
    QCOMPARE(engine.clientCount(), 2);
    QCOMPARE(*engine.triplet(passed), store.triplets.value(passed.joined()).state);

    WriteBatch batch;
    QCOMPARE(engine.sweep(1000, batch), 3);
    QCOMPARE(batch.rejections.size(), 1);
    QCOMPARE(batch.rejections.front().key, closed);
    QCOMPARE(batch.rejections.front().time, now - 13 * kHour + kWindow);
    QCOMPARE(batch.rejections.front().attempts, 2u);
    QCOMPARE(batch.removeTriplets.size(), 2);
    QVERIFY(batch.removeTriplets.contains(closed.joined()));
    QVERIFY(batch.removeTriplets.contains(stale.joined()));
    QCOMPARE(batch.removeClients, QList<QByteArray>{"203.0.113.0/24"});
    QVERIFY(store.commit(batch, nullptr));
    batch.clear();
    QCOMPARE(engine.sweep(1000, batch), 0);

    // What survived behaves as if the daemon had never stopped.
    m_clock.advanceSeconds(30);
    QCOMPARE(engine.decide(pending, batch).verdict, Verdict::PassedNow);
    QCOMPARE(engine.decide(passed, batch).verdict, Verdict::PassedKnown);
    QCOMPARE(engine.decide(key("new@x.example", "r@example.net", "198.51.100.0/24"), batch).verdict,
             Verdict::ClientWhitelisted);
    QCOMPARE(engine.decide(closed, batch).verdict, Verdict::Defer);
    QVERIFY(batch.rejections.isEmpty());
}

void TstGreylistTiming::malformed_input_is_refused_without_a_state_change()
{
    QVERIFY(!m_engine->decide("not-an-ip", "a@example.org", "b@example.net", m_batch));
    QVERIFY(!m_engine->decide("192.0.2.1", "a\x1f@example.org", "b@example.net", m_batch));
    QVERIFY(!m_engine->decide("192.0.2.1", "a@example.org", QByteArray(600, 'b'), m_batch));
    QVERIFY(m_batch.isEmpty());
    QCOMPARE(m_engine->tripletCount(), 0);

    const std::optional<Decision> d =
        m_engine->decide("192.0.2.9", "<Bounce-77@Example.org>", "<Bob@Example.net>", m_batch);
    QVERIFY(d);
    QCOMPARE(d->verdict, Verdict::Defer);
    QCOMPARE(m_batch.upsertTriplets.front().key,
             TripletKey({"192.0.2.0/24", "bounce-#@example.org", "bob@example.net"}));
}

// Many triplets coming and going through every path: the table's deletions, slot reuse and
// the expiry heap's lazy re-validation must keep memory and the committed store identical.
void TstGreylistTiming::engine_and_committed_store_agree_under_churn()
{
    m_config.autoWhitelistClients = 3;
    m_config.passedLifetime = 2 * kDay;
    m_engine = std::make_unique<GreylistEngine>(m_config, m_clock);
    quint32 rng = 12345;
    const auto next = [&rng](quint32 bound) {
        rng = rng * 1103515245u + 12345u;
        return (rng >> 8) % bound;
    };
    for (int round = 0; round < 4000; ++round) {
        const QByteArray client = "10.0." + QByteArray::number(next(8)) + ".0/24";
        const QByteArray sender = "s" + QByteArray::number(next(40)) + "@x.example";
        const QByteArray recipient = "r" + QByteArray::number(next(10)) + "@y.example";
        m_batch.clear();
        m_engine->decide(TripletKey{client, sender, recipient}, m_batch);
        commit();
        m_clock.advanceSeconds(Seconds(next(3 * kHour)));
        if (round % 7 == 0) {
            m_engine->sweep(int(next(50)), m_batch);
            commit();
        }
    }
    verifyStoreMatchesEngine();
    m_clock.advanceDays(10);
    while (m_engine->sweep(100, m_batch) == 100)
        commit();
    commit();
    QCOMPARE(m_engine->tripletCount(), 0);
    QCOMPARE(m_engine->clientCount(), 0);
    verifyStoreMatchesEngine();
    QVERIFY(!m_store.rejectionLog.isEmpty());
    // Exactly one rejection per closed window: no two share a triplet and a first sight.
    QSet<QByteArray> seen;
    for (const RejectionEntry &r : std::as_const(m_store.rejectionLog)) {
        const QByteArray id = r.key.joined() + '@' + QByteArray::number(r.firstSeen);
        QVERIFY2(!seen.contains(id), id.constData());
        seen.insert(id);
    }
}

QTEST_GUILESS_MAIN(TstGreylistTiming)
#include "tst_greylist_timing.moc"
