// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "GreylistPolicyOptions.h"
#include "PolicyHandler.h"
#include "PolicyState.h"
#include "RecentSet.h"
#include "greylist/Clock.h"
#include "policy/AutoAllowLearner.h"
#include "spf/PoolRetryDetector.h"
#include "spf/SpfBypassTable.h"
#include "spf/SpfTripletKeyer.h"
#include "store/WriteBatch.h"

#include <QObject>
#include <QTimer>
#include <optional>

namespace greygate {

class GreylistEngine;
class Store;

// Postfix policy answers from the policies and the greylisting engine:
//   not request=smtpd_access_policy          -> protocol error (the connection is closed)
//   protocol_state other than RCPT           -> DUNNO (greylisting decides per recipient)
//   RCPT without client_address, sender or recipient -> protocol error
// then the policies (PolicyIndex::evaluate, docs/policies.md), on the normalised sender:
//   Blocked Senders                          -> REJECT 5.7.1 <reject text>
//   outbound (sasl_username, or an internal sender from an internal network)
//                                            -> DUNNO, auto allow learned, never greylisted
//   Permitted Senders, Auto Allow, a bypass policy -> DUNNO, the reason logged
// and otherwise greylisting:
//   Defer                                    -> DEFER_IF_PERMIT [code ]<text>
//   PassedNow                                -> PREPEND X-Greylist: delayed N seconds by
//                                               greygate-<version> at <host>; <date>
//                                               (once per message instance; DUNNO after)
//   PassedKnown, ClientWhitelisted           -> DUNNO
// DEFER_IF_PERMIT rather than DEFER: a later restriction that rejects outright still wins,
// as with postgrey. Every change (triplets, learned auto allow, policy changes) goes to one
// WriteBatch that commit() hands to the Store. It also runs the engine's expiry sweep and
// the auto allow expiry on a timer, so expiry is never on the hot path.
class GreylistPolicyHandler : public QObject, public PolicyHandler
{
    Q_OBJECT

public:
    struct Stats
    {
        quint64 deferred = 0;
        quint64 passedNow = 0;
        quint64 accepted = 0; // PassedKnown and ClientWhitelisted
        quint64 notRcpt = 0;
        quint64 refused = 0; // protocol errors
        quint64 failedCommits = 0;
        quint64 swept = 0;
        quint64 rejected = 0; // Blocked Senders
        quint64 bypassed = 0; // Permitted Senders, Auto Allow, bypass policies
        quint64 outbound = 0; // not greylisted: outbound mail
        quint64 learned = 0;  // auto allow entries learned or refreshed
        quint64 autoAllowExpired = 0;
        quint64 failedToRetry = 0;          // "Sender Failed to Retry" rejections committed
        quint64 storeCommits = 0;           // Store::commit calls (successful or not)
        quint64 storeCommitNanoseconds = 0; // their total duration (the metrics' latency)
        quint64 failedOpen = 0;       // shared state unreachable: accepted (--redis-fail=open)
        quint64 failedClosed = 0;     // shared state unreachable: deferred (--redis-fail=closed)
        quint64 blockedLogged = 0;    // "Blocked Sender" rows written to the rejection log
        quint64 blockedNotLogged = 0; // more blocked attempts of a triplet in the same minute
        quint64 spfKeyed = 0;         // triplets keyed by an SPF-verified domain (--triplet-key)
        quint64 spfFallback = 0;      // SPF asked but the IP-based triplet kept
        quint64 poolRetries = 0;      // pool retries detected (poolRetryDetected)
        quint64 poolBypassed = 0;     // not greylisted: a pool bypass covered the client
    };

    // The rejection log's reason for a Blocked Senders attempt (the Rejection Viewer).
    static inline const QByteArray kBlockedReason = QByteArrayLiteral("Blocked Sender");

    GreylistPolicyHandler(GreylistEngine &engine, Store &store, const Clock &clock,
                          const GreylistPolicyOptions &options, QObject *parent = nullptr);

    QByteArray decide(const PolicyRequest &request) override;
    bool commit() override;
    // With a decider set (the shared Redis store), the policies are still evaluated here, in
    // memory, and greylisting is decided by the decider; the server then uses decideAsync().
    // Set before the server is made; the decider outlives the handler's use of it.
    void setAsyncDecider(AsyncTripletDecider *decider) { m_decider = decider; }
    bool isAsynchronous() const override { return m_decider != nullptr || m_spfKeyer != nullptr; }
    // SPF-keyed triplets (--triplet-key=spf, docs/spf.md): the client part of a greylisted
    // triplet becomes "spf:<domain>" when the sender's SPF authorises the client; decisions
    // then come back asynchronously (DNS). Set before the server is made; the keyer outlives
    // the handler's use of it. nullptr (the default) keys by IP.
    void setSpfKeyer(SpfTripletKeyer *keyer) { m_spfKeyer = keyer; }
    SpfTripletKeyer *spfKeyer() const { return m_spfKeyer; }
    // DecisionOutcome::keyWhy of an IP-keyed triplet ("IP-based triplet: the client network").
    QByteArray ipKeyWhy() const;
    // True for the first passed recipient of a message (instance and client): it gets the
    // X-Greylist header.
    bool headerFirstFor(const PolicyRequest &request);
    void decideAsync(const PolicyRequest &request, PolicyAnswerCallback done) override;
    QByteArray protocolError() const override { return m_error; }

    // The periodic sweep: every sweepIntervalMs, one bounded engine sweep, committed.
    void startSweeping();
    void stopSweeping();
    // One sweep now; returns the entries visited. Its changes are committed at once unless
    // decisions are waiting for the server's commit, which then carries them too.
    int sweepNow();

    // The policies this handler evaluates. Load them (PolicyState::load) before serving.
    PolicyState &policies() { return m_policies; }
    // An admin's change (the --policies import, later the control API): applied, then
    // committed at once, or, when decisions are waiting for the server's commit at the end
    // of this event-loop pass, with them. A failed commit is reported
    // as ChangeError::Invalid with the store's error; the change stays in memory and the
    // batch is retried by the next commit, as for decisions.
    ChangeOutcome changePolicies(const std::function<ChangeOutcome(PolicySet &)> &change);
    // Removes expired auto allow entries now (the sweep does it every
    // autoAllowExpiryInterval); their removal is committed like a sweep's.
    int expireAutoAllowNow();

    // The SMTP proxy decides a recipient again at the end of the message headers, with the
    // header From known (docs/policies.md, "Address basis"): decide() calls made while it is
    // set evaluate the policies with it. Unset (nullopt) for the policy server.
    void setHeaderFrom(std::optional<QByteArray> from) { m_headerFrom = std::move(from); }
    // The header From of the decision being made (the shadow annotation reads it too).
    const std::optional<QByteArray> &headerFrom() const { return m_headerFrom; }

    const Stats &stats() const { return m_stats; }
    // What the last decide() decided (Kind::None when it was not a RCPT decision), with the
    // policy that decided: the policies are evaluated once, with the header From when set.
    // The asynchronous path carries the same in PolicyAnswer::outcome instead.
    const DecisionOutcome &lastDecision() const { return m_last; }

    // Pool retries (docs/spf.md): deferred attempts of one sender and recipient from several
    // networks are grouped; a group reaching the thresholds is signalled once
    // (poolRetryDetected). A pool bypass lets a sender domain through without greylisting
    // while it comes from the ranges given (its SPF record flattened by SpfFlattener), until
    // it expires; Blocked Senders and the other policies still apply first.
    qint64 addPoolBypass(const QByteArray &domain, const QList<SpfBypassTable::Range> &ranges,
                         qint64 lifetimeSeconds)
    {
        return m_poolBypasses.add(domain, ranges, m_clock.now(), lifetimeSeconds);
    }
    bool removePoolBypass(qint64 id) { return m_poolBypasses.remove(id); }
    QList<SpfBypassTable::Bypass> poolBypasses() const
    {
        return m_poolBypasses.list(m_clock.now());
    }
    QList<PoolRetry> poolRetries() const { return m_poolRetries.detected(m_clock.now()); }
    qsizetype pendingChanges() const { return m_batch.size(); }
    // False from a failed store commit until the next successful one (GET /healthz).
    bool storeHealthy() const { return !m_lastCommitFailed; }

Q_SIGNALS:
    // The "Sender Failed to Retry" rejections of the sweeps (retry windows that closed
    // without a retry), emitted once they are committed to the store: the event log counts
    // and publishes them (DecisionRecorder). Emitted from commit(), synchronously.
    void rejectionsCommitted(const QList<greygate::RejectionEntry> &rejections);
    // A sender retrying one message from several networks ("outlook.com retrying from 6 IPs
    // in 3 networks"), once per group; emitted from the deciding call.
    void poolRetryDetected(const greygate::PoolRetry &retry);

public:
    // The deferral text with its placeholders filled in (public for tests).
    static QByteArray expandText(QByteArrayView text, qint64 waitSeconds, QByteArrayView recipient);
    // "X-Greylist: delayed N seconds by greygate-V at HOST; DATE", after `prefix`.
    QByteArray greylistHeader(qint64 delayedSeconds, QByteArrayView prefix = {}) const;

private:
    QByteArray refuse(QByteArray why);
    // The policies' answer, or empty with *greylistKey set when greylisting decides (or
    // empty without it for a protocol error).
    QByteArray decidePolicies(const PolicyRequest &request, std::optional<TripletKey> *greylistKey);
    QByteArray greylist(const PolicyRequest &request, const TripletKey &key);
    // *outcome gets the verdict and attempts (its policy part is decidePolicies()').
    // ipKey: the triplet when it is IP-keyed (the synchronous path), for notePoolRetry.
    QByteArray answer(const PolicyRequest &request, const Decision &decision,
                      DecisionOutcome *outcome, const TripletKey *ipKey = nullptr);
    QByteArray unavailable(DecisionOutcome *outcome);
    void notePoolRetry(const PolicyRequest &request, const TripletKey *ipKey);
    // The greylisting part of decideAsync(), once the key is final: the shared decider's
    // verdict, or the local engine's.
    void greylistAsync(const PolicyRequest &request, const TripletKey &key, DecisionOutcome outcome,
                       PolicyAnswerCallback done);
    void logPolicy(const char *message, const PolicyRequest &request, const PolicyDecision &d);
    // A Blocked Senders attempt into the rejection log, in the decision's batch: the
    // client's own address (not its subnet: nothing is greylisted here), the normalised
    // sender and recipient.
    void logBlocked(const QByteArray &client, const TripletKey &key, Seconds now);
    static void appendExpandedText(QByteArray &out, QByteArrayView text, qint64 waitSeconds,
                                   QByteArrayView recipient);
    // m_answer, emptied for the next answer built in it (see there).
    QByteArray &answerBuffer() const;

    GreylistEngine &m_engine;
    Store &m_store;
    const Clock &m_clock;
    GreylistPolicyOptions m_options;
    QByteArray m_deferPrefix;  // "DEFER_IF_PERMIT " plus the code and a space
    QByteArray m_rejectAction; // "REJECT 5.7.1 " plus the text
    PolicyState m_policies;
    AutoAllowLearner m_learner;
    Seconds m_lastAutoAllowExpiry = 0;
    RecentSet m_headerSent;
    // decidePolicies()'s triplet hashes, for greylist() of that triplet.
    TripletLookupHint m_lookup;
    RecentSet m_blockedLogged; // triplet and minute of the recent "Blocked Sender" rows
    // The header's date changes once a second; formatting it (and glibc's time zone check
    // behind it) for every passed message showed in profiles.
    mutable Seconds m_dateSecond = -1;
    mutable QByteArray m_date;
    // Deferrals and headers are built here and returned shared: the server copies them into
    // its output and drops its reference, so the next one reuses the capacity instead of
    // allocating (a caller still holding the last answer only makes the next one allocate).
    mutable QByteArray m_answer;
    WriteBatch m_batch;
    int m_uncommittedDecisions = 0;
    qsizetype m_retainedChanges = 0; // left in m_batch by a failed commit
    bool m_lastCommitFailed = false;
    QByteArray m_error;
    QTimer m_sweepTimer;
    AsyncTripletDecider *m_decider = nullptr;
    SpfTripletKeyer *m_spfKeyer = nullptr;
    PoolRetryDetector m_poolRetries;
    SpfBypassTable m_poolBypasses;
    std::optional<QByteArray> m_headerFrom; // setHeaderFrom()
    DecisionOutcome m_last;                 // lastDecision()
    Stats m_stats;
};

} // namespace greygate
