// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Decision.h"
#include "GreylistConfig.h"
#include "KeyedSlotTable.h"
#include "Triplet.h"
#include "TripletNormaliser.h"
#include "TripletQuery.h"
#include "store/WriteBatch.h"

#include <optional>
#include <vector>

namespace greygate {

class Store;

// The greylisting state machine. It decides from memory and records every state change in
// the caller's WriteBatch; the caller commits the batch to the Store before it answers.
// Not thread-safe: one engine lives on one thread.
//
// Timing (elapsed = now - firstSeen of a deferred triplet):
//   first sight                         -> Defer, recorded
//   elapsed < delay                      -> Defer again, attempt counted
//   delay <= elapsed < retryWindow       -> PassedNow; the triplet is passed
//   elapsed >= retryWindow (never passed) -> one "Sender Failed to Retry" rejection dated
//                                           firstSeen + retryWindow, then greylisted afresh
//   passed, now - lastSeen < lifetime    -> PassedKnown, lastSeen refreshed
//   passed, now - lastSeen >= lifetime   -> expired, greylisted afresh
// Times are kept in memory as 32-bit unsigned seconds since the epoch (good until 2106).
class GreylistEngine
{
public:
    GreylistEngine(const GreylistConfig &config, const Clock &clock);

    const GreylistConfig &config() const { return m_config; }
    const TripletNormaliser &normaliser() const { return m_normaliser; }
    // For the sender rewriting table (TripletNormaliser::setSenderRewriter), on this thread.
    TripletNormaliser &normaliser() { return m_normaliser; }

    // Fills memory from the store (start-up), replacing what the engine held. Entries that
    // expired while the daemon was down are kept until the next sweep(), which handles them
    // exactly as if the daemon had run: a closed window still yields its single "Sender
    // Failed to Retry" rejection, expired entries are removed from the store.
    bool load(Store &store, QString *error);

    // One RCPT: normalises, decides, records the change. nullopt for input that cannot be
    // a triplet (a malformed client address, an over-long or control-character field).
    std::optional<Decision> decide(QByteArrayView clientAddress, QByteArrayView sender,
                                   QByteArrayView recipient, WriteBatch &changes);
    // With a million triplets the tables' cells are not in any cache: hashing the key and
    // asking for its cells as soon as it is known (before the policies are evaluated) lets
    // those misses overlap with that work. The hint carries the hashes to decide().
    TripletLookupHint prefetch(const TripletKey &key) const;
    // hint: from prefetch(); used only if it was made for this key (the same byte arrays).
    Decision decide(const TripletKey &key, WriteBatch &changes, const TripletLookupHint *hint);
    Decision decide(const TripletKey &key, WriteBatch &changes)
    {
        return decide(key, changes, nullptr);
    }

    // Expiry off the hot path: handles at most maxVisits entries whose deadline has come
    // (earliest first, from a deadline heap, never a scan of all entries): closes retry
    // windows (one "Sender Failed to Retry" rejection per triplet that never passed, and the
    // triplet is removed), removes expired passed triplets and clients. Returns the number
    // visited; less than maxVisits means nothing more is due now.
    int sweep(int maxVisits, WriteBatch &changes);
    // When the next sweep() has something to do (the earliest queued deadline); nullopt when
    // nothing is held. The daemon's timer can sleep until then.
    std::optional<Seconds> nextDeadline() const;

    std::optional<TripletState> triplet(const TripletKey &key) const;
    std::optional<ClientRecord> client(const QByteArray &clientKey) const;
    qsizetype tripletCount() const { return m_triplets.size(); }
    qsizetype clientCount() const { return m_clients.size(); }

    // Admin operations (the control API), off the hot path.
    // One page of triplets matching the query, sorted (ties broken by key, so paging is
    // stable). Walks every entry: tens of milliseconds for a million, on the caller's thread.
    TripletPage query(const TripletQuery &query) const;
    // When a triplet stops being held if nothing happens: the retry window's end for a
    // deferred one, the lifetime's end (from lastSeen) for a passed one.
    Seconds expiresAt(const TripletState &state) const;

    enum class ReleaseResult : quint8
    {
        Released,
        NotFound,
        AlreadyPassed,
    };
    // An admin's "release now": a deferred triplet becomes passed at once (passedAt and
    // lastSeen now), so the sender's next retry is accepted whatever the delay; recorded in
    // changes like a decision.
    ReleaseResult release(const TripletKey &key, WriteBatch &changes);
    // Forgets a triplet (deferred or passed): its next attempt is greylisted afresh. No
    // rejection is logged for it. False when it is not held.
    bool remove(const TripletKey &key, WriteBatch &changes);

    // Approximate bytes held for all entries (tables, key bytes, heap), for /metrics.
    size_t memoryBytes() const;

private:
    // 20 bytes; with the key pointer and hash a triplet slot is 32 bytes.
    struct CompactTriplet
    {
        quint32 firstSeen = 0;
        quint32 lastSeen = 0;
        quint32 passedAt = 0;
        quint32 attemptsAndStatus = 0; // bit 31: passed; the rest: attempts (saturating)
        quint32 queued = 0;            // deadline of this entry's live item in m_due
    };
    struct CompactClient
    {
        quint32 passes = 0;
        quint32 lastSeen = 0;    // last accepted delivery or whitelisted hit
        quint32 lastCounted = 0; // last time passes was incremented (memory only)
        quint32 queued = 0;
    };
    struct Due
    {
        quint32 deadline;
        quint32 ref; // a slot number; kClientRef set: a client slot
    };
    static constexpr quint32 kClientRef = 0x80000000u;

    static quint32 stored(Seconds t);
    static TripletState expand(const CompactTriplet &c);
    static CompactTriplet compact(const TripletState &s);
    quint32 tripletDeadline(const CompactTriplet &c) const;
    quint32 clientDeadline(const CompactClient &c) const;
    void schedule(quint32 ref, quint32 deadline, quint32 &queued);
    void record(quint32 slot, const TripletKey &key, WriteBatch &changes) const;
    void recordClient(quint32 slot, const QByteArray &client, WriteBatch &changes) const;
    static constexpr Seconds kRefreshPersistSeconds = 3600;
    static bool refreshDue(quint32 previousLastSeen, Seconds now);
    // slot: the client's (npos when absent); set to npos when an expired client is forgotten.
    bool clientWhitelisted(quint32 &slot, const QByteArray &client, Seconds now,
                           WriteBatch &changes);
    void notePass(quint32 slot, const QByteArray &client, Seconds now, WriteBatch &changes);
    void failedToRetry(QByteArrayView joined, const CompactTriplet &state, WriteBatch &changes);
    Decision startAfresh(quint32 slot, const TripletKey &key, Seconds now, WriteBatch &changes);
    Decision decideKnown(quint32 slot, quint32 clientSlot, const TripletKey &key, Seconds now,
                         WriteBatch &changes);

    GreylistConfig m_config;
    const Clock &m_clock;
    TripletNormaliser m_normaliser;
    KeyedSlotTable<CompactTriplet> m_triplets; // key: TripletKey::joined()
    KeyedSlotTable<CompactClient> m_clients;   // key: TripletKey::client
    std::vector<Due> m_due;                    // min-heap on deadline, lazily re-validated
};

} // namespace greygate
