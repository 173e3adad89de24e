// SPDX-License-Identifier: GPL-3.0-or-later
#include "GreylistEngine.h"

#include "store/Store.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace greygate {

namespace {

constexpr quint32 kPassedBit = 0x80000000u;
constexpr quint32 kMaxAttempts = 0x7fffffffu;
constexpr quint32 kMaxTime = std::numeric_limits<quint32>::max();

// The expiry heap is a min-heap: std::*_heap build max-heaps, so compare with '>'.
struct LaterDeadline
{
    template <typename D> bool operator()(const D &a, const D &b) const
    {
        return a.deadline > b.deadline;
    }
};

quint32 saturatingAdd(quint32 t, Seconds span)
{
    const qint64 sum = qint64(t) + span;
    return sum >= qint64(kMaxTime) ? kMaxTime : quint32(sum);
}

quint32 attemptsOf(quint32 attemptsAndStatus)
{
    return attemptsAndStatus & ~kPassedBit;
}

bool isPassed(quint32 attemptsAndStatus)
{
    return (attemptsAndStatus & kPassedBit) != 0;
}

void countAttempt(quint32 &attemptsAndStatus)
{
    if (attemptsOf(attemptsAndStatus) < kMaxAttempts)
        ++attemptsAndStatus;
}

const QByteArray &failedToRetryReason()
{
    static const QByteArray reason = QByteArrayLiteral("Sender Failed to Retry");
    return reason;
}

} // namespace

GreylistEngine::GreylistEngine(const GreylistConfig &config, const Clock &clock)
    : m_config(config)
    , m_clock(clock)
    , m_normaliser(config)
{
    // Spans beyond what a 32-bit time can hold mean "forever"; negative ones mean nothing.
    for (Seconds *span : {&m_config.delay, &m_config.retryWindow, &m_config.passedLifetime})
        *span = std::clamp<Seconds>(*span, 0, kMaxTime);
    m_config.ipv4Prefix = std::clamp(m_config.ipv4Prefix, 0, 32);
    m_config.ipv6Prefix = std::clamp(m_config.ipv6Prefix, 0, 128);
}

namespace {

// Same bytes as TripletKey::joined(); resize() keeps the capacity of an unshared buffer.
void joinInto(const TripletKey &key, QByteArray &out)
{
    const qsizetype a = key.client.size(), b = key.sender.size(), c = key.recipient.size();
    out.resize(a + b + c + 2);
    char *p = out.data();
    std::memcpy(p, key.client.constData(), size_t(a));
    p[a] = '\x1f';
    std::memcpy(p + a + 1, key.sender.constData(), size_t(b));
    p[a + 1 + b] = '\x1f';
    std::memcpy(p + a + b + 2, key.recipient.constData(), size_t(c));
}

} // namespace

quint32 GreylistEngine::stored(Seconds t)
{
    return quint32(std::clamp<Seconds>(t, 0, kMaxTime));
}

TripletState GreylistEngine::expand(const CompactTriplet &c)
{
    TripletState s;
    s.firstSeen = c.firstSeen;
    s.lastSeen = c.lastSeen;
    s.passedAt = c.passedAt;
    s.attempts = attemptsOf(c.attemptsAndStatus);
    s.status = isPassed(c.attemptsAndStatus) ? TripletStatus::Passed : TripletStatus::Deferred;
    return s;
}

GreylistEngine::CompactTriplet GreylistEngine::compact(const TripletState &s)
{
    CompactTriplet c;
    c.firstSeen = stored(s.firstSeen);
    c.lastSeen = stored(s.lastSeen);
    c.passedAt = stored(s.passedAt);
    c.attemptsAndStatus = std::min(s.attempts, kMaxAttempts);
    if (s.status == TripletStatus::Passed)
        c.attemptsAndStatus |= kPassedBit;
    return c;
}

quint32 GreylistEngine::tripletDeadline(const CompactTriplet &c) const
{
    return isPassed(c.attemptsAndStatus) ? saturatingAdd(c.lastSeen, m_config.passedLifetime)
                                         : saturatingAdd(c.firstSeen, m_config.retryWindow);
}

quint32 GreylistEngine::clientDeadline(const CompactClient &c) const
{
    return saturatingAdd(c.lastSeen, m_config.passedLifetime);
}

// Every live entry has one heap item whose deadline is the entry's `queued`, never later
// than its real deadline. Deadlines mostly move later (a refresh), which costs nothing here:
// the sweep finds the item early and re-queues it. Only an earlier deadline needs a push.
void GreylistEngine::schedule(quint32 ref, quint32 deadline, quint32 &queued)
{
    if (queued != 0 && deadline >= queued)
        return;
    queued = deadline;
    m_due.push_back(Due{deadline, ref});
    std::push_heap(m_due.begin(), m_due.end(), LaterDeadline{});
}

// A batch may already hold a removal of the key (a sweep, or an expiry found at decision
// time, then the key seen again in the same group commit). Stores apply upserts before
// removals, so that removal must go or the new record would be lost. Removals are rare: the
// scan costs nothing on the usual path.
void GreylistEngine::record(quint32 slot, const TripletKey &key, WriteBatch &changes) const
{
    if (!changes.removeTriplets.isEmpty())
        changes.removeTriplets.removeAll(m_triplets.key(slot));
    changes.upsertTriplets.append(TripletRecord{key, expand(m_triplets.value(slot))});
}

// client: the slot's key as the decision's triplet holds it, shared rather than copied
// from the table.
void GreylistEngine::recordClient(quint32 slot, const QByteArray &client, WriteBatch &changes) const
{
    Q_ASSERT(m_clients.key(slot) == client);
    const CompactClient &c = m_clients.value(slot);
    if (!changes.removeClients.isEmpty())
        changes.removeClients.removeAll(client);
    changes.upsertClients.append(ClientRecord{client, c.passes, Seconds(c.lastSeen)});
}

bool GreylistEngine::load(Store &store, QString *error)
{
    m_triplets.clear();
    m_clients.clear();
    m_due.clear();
    // Items are appended unordered and heapified once at the end: O(n) for a million.
    const auto onTriplet = [this](TripletRecord &&record) {
        const QByteArray joined = record.key.joined();
        if (joined.size() > KeyedSlotTable<CompactTriplet>::kMaxKeyBytes ||
            m_triplets.size() >= kClientRef)
            return;
        quint32 slot = m_triplets.find(joined);
        if (slot == KeyedSlotTable<CompactTriplet>::npos)
            slot = m_triplets.insert(joined, CompactTriplet{});
        CompactTriplet &c = m_triplets.value(slot);
        c = compact(record.state);
        c.queued = tripletDeadline(c);
        m_due.push_back(Due{c.queued, slot});
    };
    const auto onClient = [this](ClientRecord &&record) {
        if (record.client.size() > KeyedSlotTable<CompactClient>::kMaxKeyBytes)
            return;
        quint32 slot = m_clients.find(record.client);
        if (slot == KeyedSlotTable<CompactClient>::npos)
            slot = m_clients.insert(record.client, CompactClient{});
        CompactClient &c = m_clients.value(slot);
        c.passes = record.passes;
        c.lastSeen = stored(record.lastSeen);
        c.lastCounted = c.lastSeen; // unknown after a restart: assume the latest
        c.queued = clientDeadline(c);
        m_due.push_back(Due{c.queued, slot | kClientRef});
    };
    const bool ok = store.load(onTriplet, onClient, error);
    std::make_heap(m_due.begin(), m_due.end(), LaterDeadline{});
    return ok;
}

std::optional<Decision> GreylistEngine::decide(QByteArrayView clientAddress, QByteArrayView sender,
                                               QByteArrayView recipient, WriteBatch &changes)
{
    std::optional<TripletKey> key = m_normaliser.normalise(clientAddress, sender, recipient);
    if (!key)
        return std::nullopt;
    return decide(*key, changes);
}

namespace {

// The flat key in a buffer kept across decisions (an engine lives on one thread, and the
// buffer is used only within one call): a lookup allocates nothing.
QByteArrayView joinedScratch(const TripletKey &key)
{
    thread_local QByteArray scratch;
    joinInto(key, scratch);
    return scratch;
}

} // namespace

TripletLookupHint GreylistEngine::prefetch(const TripletKey &key) const
{
    TripletLookupHint hint;
    hint.client = key.client.constData();
    hint.sender = key.sender.constData();
    hint.recipient = key.recipient.constData();
    if (m_config.autoWhitelistClients > 0) {
        hint.clientHash = m_clients.hashOf(key.client);
        m_clients.prefetch(hint.clientHash);
    }
    hint.tripletHash = m_triplets.hashOf(joinedScratch(key));
    m_triplets.prefetch(hint.tripletHash);
    return hint;
}

Decision GreylistEngine::decide(const TripletKey &key, WriteBatch &changes,
                                const TripletLookupHint *hint)
{
    const Seconds now = m_clock.now();
    const QByteArrayView joined = joinedScratch(key);
    // Both tables are far larger than the caches with a million triplets: both index cells
    // are asked for before either lookup waits on its own (earlier still with a hint).
    const bool clients = m_config.autoWhitelistClients > 0;
    const TripletLookupHint hashes = hint && hint->isFor(key) ? *hint : prefetch(key);
    Q_ASSERT(hashes.tripletHash == m_triplets.hashOf(joined));
    const quint32 clientHash = hashes.clientHash;
    const quint32 tripletHash = hashes.tripletHash;
    // The client's slot, found once for the whitelist and for a pass's count (notePass).
    quint32 clientSlot = clients ? m_clients.find(key.client, clientHash) : m_clients.npos;
    if (clients && clientWhitelisted(clientSlot, key.client, now, changes)) {
        // A triplet deferred before its client was whitelisted has just been retried and
        // accepted: drop it, or its window would close as a false "Sender Failed to Retry".
        if (const quint32 slot = m_triplets.find(joined, tripletHash);
            slot != KeyedSlotTable<CompactTriplet>::npos &&
            !isPassed(m_triplets.value(slot).attemptsAndStatus)) {
            changes.removeTriplets.append(joined.toByteArray());
            m_triplets.remove(slot);
        }
        Decision d;
        d.verdict = Verdict::ClientWhitelisted;
        return d;
    }
    if (joined.size() > KeyedSlotTable<CompactTriplet>::kMaxKeyBytes ||
        m_triplets.size() >= kClientRef - 1) {
        // Cannot be held (only a caller bypassing the normaliser's bounds gets here): a
        // temporary failure is the answer that loses no mail.
        Decision d;
        d.firstSeen = now;
        d.waitSeconds = m_config.delay;
        return d;
    }
    const quint32 slot = m_triplets.find(joined, tripletHash);
    if (slot == KeyedSlotTable<CompactTriplet>::npos)
        return startAfresh(m_triplets.insert(joined, CompactTriplet{}, tripletHash), key, now,
                           changes);
    return decideKnown(slot, clientSlot, key, now, changes);
}

Decision GreylistEngine::startAfresh(quint32 slot, const TripletKey &key, Seconds now,
                                     WriteBatch &changes)
{
    CompactTriplet &c = m_triplets.value(slot);
    c.firstSeen = c.lastSeen = stored(now);
    c.passedAt = 0;
    c.attemptsAndStatus = 1;
    schedule(slot, tripletDeadline(c), c.queued);
    record(slot, key, changes);

    Decision d;
    d.verdict = Verdict::Defer;
    d.attempts = 1;
    d.firstSeen = c.firstSeen;
    d.waitSeconds = m_config.delay;
    return d;
}

Decision GreylistEngine::decideKnown(quint32 slot, quint32 clientSlot, const TripletKey &key,
                                     Seconds now, WriteBatch &changes)
{
    CompactTriplet &c = m_triplets.value(slot);
    Decision d;
    if (isPassed(c.attemptsAndStatus)) {
        if (now >= Seconds(tripletDeadline(c)))
            return startAfresh(slot, key, now, changes); // lifetime over: greylisted again
        const bool persist = refreshDue(c.lastSeen, now);
        c.lastSeen = stored(now);
        countAttempt(c.attemptsAndStatus);
        if (persist)
            record(slot, key, changes);
        notePass(clientSlot, key.client, now, changes);
        d.verdict = Verdict::PassedKnown;
        d.attempts = attemptsOf(c.attemptsAndStatus);
        d.firstSeen = c.firstSeen;
        return d;
    }

    const Seconds elapsed = now - Seconds(c.firstSeen);
    if (elapsed >= m_config.retryWindow) {
        // The window closed unseen by the sweep: log it here, once, and start over.
        failedToRetry(m_triplets.key(slot), c, changes);
        return startAfresh(slot, key, now, changes);
    }
    c.lastSeen = stored(now);
    countAttempt(c.attemptsAndStatus);
    d.attempts = attemptsOf(c.attemptsAndStatus);
    d.firstSeen = c.firstSeen;
    if (elapsed < m_config.delay) {
        record(slot, key, changes);
        d.verdict = Verdict::Defer;
        d.waitSeconds = m_config.delay - std::max<Seconds>(elapsed, 0);
        return d;
    }
    c.passedAt = c.lastSeen;
    c.attemptsAndStatus |= kPassedBit;
    schedule(slot, tripletDeadline(c), c.queued);
    record(slot, key, changes);
    notePass(clientSlot, key.client, now, changes);
    d.verdict = Verdict::PassedNow;
    d.delayedSeconds = elapsed;
    return d;
}

void GreylistEngine::failedToRetry(QByteArrayView joined, const CompactTriplet &state,
                                   WriteBatch &changes)
{
    RejectionEntry entry;
    entry.time = Seconds(state.firstSeen) + m_config.retryWindow;
    entry.reason = failedToRetryReason();
    const QByteArray flat = joined.toByteArray();
    entry.key = TripletKey::split(flat).value_or(TripletKey{flat, {}, {}});
    entry.attempts = attemptsOf(state.attemptsAndStatus);
    entry.firstSeen = state.firstSeen;
    changes.rejections.append(std::move(entry));
}

bool GreylistEngine::clientWhitelisted(quint32 &slot, const QByteArray &client, Seconds now,
                                       WriteBatch &changes)
{
    if (slot == KeyedSlotTable<CompactClient>::npos)
        return false;
    CompactClient &c = m_clients.value(slot);
    if (now >= Seconds(clientDeadline(c))) {
        // Inactive for the whole lifetime: forgotten, it has to earn the whitelist again.
        changes.removeClients.append(client);
        m_clients.remove(slot);
        slot = KeyedSlotTable<CompactClient>::npos;
        return false;
    }
    if (c.passes < m_config.autoWhitelistClients)
        return false;
    const bool persist = refreshDue(c.lastSeen, now);
    c.lastSeen = stored(now);
    if (persist)
        recordClient(slot, client, changes);
    return true;
}

// Runs after clientWhitelisted() in the same decision, so an expired client is already gone
// (slot npos) and the client table has not changed since slot was found.
void GreylistEngine::notePass(quint32 slot, const QByteArray &client, Seconds now,
                              WriteBatch &changes)
{
    if (m_config.autoWhitelistClients == 0)
        return;
    if (slot == KeyedSlotTable<CompactClient>::npos) {
        if (client.size() > KeyedSlotTable<CompactClient>::kMaxKeyBytes ||
            m_clients.size() >= kClientRef - 1)
            return;
        slot = m_clients.insert(client, CompactClient{});
        CompactClient &c = m_clients.value(slot);
        c.passes = 1;
        c.lastSeen = c.lastCounted = stored(now);
        schedule(slot | kClientRef, clientDeadline(c), c.queued);
        recordClient(slot, client, changes);
        return;
    }
    CompactClient &c = m_clients.value(slot);
    bool persist = refreshDue(c.lastSeen, now);
    c.lastSeen = stored(now);
    // One message to many recipients passes many triplets at once: count it once per delay.
    if (now - Seconds(c.lastCounted) >= m_config.delay && c.passes < kMaxAttempts) {
        ++c.passes;
        c.lastCounted = c.lastSeen;
        persist = true;
    }
    if (persist)
        recordClient(slot, client, changes);
}

bool GreylistEngine::refreshDue(quint32 previousLastSeen, Seconds now)
{
    // A use that only moves lastSeen (and the attempt count) of a passed triplet or a
    // whitelisted client is written at most once per clock hour: the first use in a new
    // hour is written, later ones in that hour stay in memory. The stored lastSeen is then
    // never more than an hour behind, which after a crash shortens a 36-day lifetime by at
    // most that hour, and repeat traffic stops costing a store write per message.
    return Seconds(previousLastSeen) / kRefreshPersistSeconds != now / kRefreshPersistSeconds;
}

int GreylistEngine::sweep(int maxVisits, WriteBatch &changes)
{
    const quint32 now = stored(m_clock.now());
    int visited = 0;
    while (visited < maxVisits && !m_due.empty() && m_due.front().deadline <= now) {
        std::pop_heap(m_due.begin(), m_due.end(), LaterDeadline{});
        const Due due = m_due.back();
        m_due.pop_back();
        ++visited;

        if (due.ref & kClientRef) {
            const quint32 slot = due.ref & ~kClientRef;
            if (!m_clients.isLive(slot) || m_clients.value(slot).queued != due.deadline)
                continue; // stale: the entry is gone or has a newer item
            CompactClient &c = m_clients.value(slot);
            if (const quint32 deadline = clientDeadline(c); deadline > now) {
                c.queued = deadline; // refreshed since it was queued
                m_due.push_back(Due{deadline, due.ref});
                std::push_heap(m_due.begin(), m_due.end(), LaterDeadline{});
                continue;
            }
            changes.removeClients.append(m_clients.key(slot).toByteArray());
            m_clients.remove(slot);
            continue;
        }

        const quint32 slot = due.ref;
        if (!m_triplets.isLive(slot) || m_triplets.value(slot).queued != due.deadline)
            continue;
        CompactTriplet &c = m_triplets.value(slot);
        if (const quint32 deadline = tripletDeadline(c); deadline > now) {
            c.queued = deadline;
            m_due.push_back(Due{deadline, due.ref});
            std::push_heap(m_due.begin(), m_due.end(), LaterDeadline{});
            continue;
        }
        if (!isPassed(c.attemptsAndStatus))
            failedToRetry(m_triplets.key(slot), c, changes);
        changes.removeTriplets.append(m_triplets.key(slot).toByteArray());
        m_triplets.remove(slot);
    }
    return visited;
}

std::optional<Seconds> GreylistEngine::nextDeadline() const
{
    if (m_due.empty())
        return std::nullopt;
    return Seconds(m_due.front().deadline);
}

std::optional<TripletState> GreylistEngine::triplet(const TripletKey &key) const
{
    const quint32 slot = m_triplets.find(key.joined());
    if (slot == KeyedSlotTable<CompactTriplet>::npos)
        return std::nullopt;
    return expand(m_triplets.value(slot));
}

std::optional<ClientRecord> GreylistEngine::client(const QByteArray &clientKey) const
{
    const quint32 slot = m_clients.find(clientKey);
    if (slot == KeyedSlotTable<CompactClient>::npos)
        return std::nullopt;
    const CompactClient &c = m_clients.value(slot);
    return ClientRecord{clientKey, c.passes, Seconds(c.lastSeen)};
}

size_t GreylistEngine::memoryBytes() const
{
    return m_triplets.memoryBytes() + m_clients.memoryBytes() + m_due.capacity() * sizeof(Due);
}

} // namespace greygate
