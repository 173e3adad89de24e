// SPDX-License-Identifier: GPL-3.0-or-later
#include "GreylistPolicyHandler.h"

#include "PolicydLog.h"
#include "greylist/GreylistEngine.h"
#include "store/Store.h"
#include "util/ByteAppend.h"
#include "util/LogLine.h"
#include "util/Logger.h"
#include "util/Version.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QLocale>
#include <QPointer>
#include <QVarLengthArray>

namespace greygate {

namespace {

// Beyond this many unsaved changes (the store has been failing for a long time) the oldest
// are dropped rather than letting memory grow without bound.
constexpr qsizetype kMaxRetainedChanges = 100'000;

constexpr Seconds kAutoAllowRefresh = 86400;

template <qsizetype N> bool equals(QByteArrayView value, const char (&literal)[N])
{
    return value.size() == N - 1 && std::memcmp(value.data(), literal, N - 1) == 0;
}

QByteArray lowerDomain(QByteArrayView recipient)
{
    const qsizetype at = recipient.lastIndexOf('@');
    return at < 0 ? QByteArray() : recipient.sliced(at + 1).toByteArray().toLower();
}

} // namespace

GreylistPolicyHandler::GreylistPolicyHandler(GreylistEngine &engine, Store &store,
                                             const Clock &clock,
                                             const GreylistPolicyOptions &options, QObject *parent)
    : QObject(parent)
    , m_engine(engine)
    , m_store(store)
    , m_clock(clock)
    , m_options(options)
    , m_learner(options.autoAllowLifetime)
    , m_headerSent(options.instanceMemory)
    , m_blockedLogged(options.instanceMemory)
{
    m_rejectAction = QByteArrayLiteral("REJECT 5.7.1 ") + m_options.rejectText;
    m_deferPrefix = QByteArrayLiteral("DEFER_IF_PERMIT ");
    if (!m_options.greylistCode.isEmpty())
        m_deferPrefix.append(m_options.greylistCode).append(' ');
    m_sweepTimer.setInterval(m_options.sweepIntervalMs);
    connect(&m_sweepTimer, &QTimer::timeout, this, &GreylistPolicyHandler::sweepNow);
}

QByteArray GreylistPolicyHandler::refuse(QByteArray why)
{
    ++m_stats.refused;
    m_error = std::move(why);
    return {};
}

QByteArray GreylistPolicyHandler::decide(const PolicyRequest &request)
{
    std::optional<TripletKey> key;
    QByteArray action = decidePolicies(request, &key);
    return key ? greylist(request, *key) : action;
}

void GreylistPolicyHandler::decideAsync(const PolicyRequest &request, PolicyAnswerCallback done)
{
    std::optional<TripletKey> key;
    PolicyAnswer answer;
    answer.action = decidePolicies(request, &key);
    if (key && !m_decider && !m_spfKeyer)
        answer.action = greylist(request, *key);
    if (!key || (!m_decider && !m_spfKeyer)) {
        if (answer.action.isEmpty())
            answer.error = m_error;
        answer.outcome = m_last;
        done(std::move(answer));
        return;
    }
    // Only what the answer needs is kept: the request is the server's and goes on.
    PolicyRequest kept;
    kept.clientAddress = request.clientAddress;
    kept.sender = request.sender;
    kept.recipient = request.recipient;
    kept.instance = request.instance;
    if (!m_spfKeyer) {
        DecisionOutcome outcome = m_last;
        outcome.key = key->client;
        outcome.keyWhy = ipKeyWhy();
        greylistAsync(kept, *key, outcome, std::move(done));
        return;
    }
    // SPF-keyed triplets: the policies above decided on the request as it is; only the
    // greylisting key changes. Any SPF result but the configured ones keeps the IP key.
    m_spfKeyer->key(request.clientAddress, request.sender, request.heloName,
                    [self = QPointer<GreylistPolicyHandler>(this), kept = std::move(kept),
                     key = std::move(*key), outcome = m_last,
                     done = std::move(done)](SpfKeying &&keying) mutable {
                        if (!self) {
                            PolicyAnswer late;
                            late.action = QByteArrayLiteral("DUNNO"); // shutting down
                            done(std::move(late));
                            return;
                        }
                        if (keying.client) {
                            ++self->m_stats.spfKeyed;
                            key.client = *keying.client;
                        } else {
                            ++self->m_stats.spfFallback;
                        }
                        qCDebug(lcPolicyd).noquote() << LogLine("triplet key")
                                                            .add("client", kept.clientAddress)
                                                            .add("sender", kept.sender)
                                                            .add("key", key.client)
                                                            .add("why", keying.explanation)
                                                            .text();
                        outcome.key = key.client;
                        outcome.keyWhy = std::move(keying.explanation);
                        self->greylistAsync(kept, key, outcome, std::move(done));
                    });
}

void GreylistPolicyHandler::greylistAsync(const PolicyRequest &kept, const TripletKey &key,
                                          DecisionOutcome outcome, PolicyAnswerCallback done)
{
    if (!m_decider) {
        // The local engine: its change joins the batch that the server's commit (which
        // always follows an answer) makes durable.
        PolicyAnswer late;
        late.outcome = outcome;
        late.action = answer(kept, m_engine.decide(key, m_batch), &late.outcome);
        done(std::move(late));
        return;
    }
    // The policy part of the outcome travels with the request: other decisions may run
    // before this one's answer comes back.
    m_decider->decide(key, [self = QPointer<GreylistPolicyHandler>(this), kept = kept, outcome,
                            done = std::move(done)](const Decision *decision) {
        PolicyAnswer late;
        late.outcome = outcome;
        if (!self)
            late.action = QByteArrayLiteral("DUNNO"); // shutting down: the server is gone too
        else if (decision)
            late.action = self->answer(kept, *decision, &late.outcome);
        else
            late.action = self->unavailable(&late.outcome);
        done(std::move(late));
    });
}

QByteArray GreylistPolicyHandler::unavailable(DecisionOutcome *outcome)
{
    // The shared state cannot be reached in time (--redis-fail): accept without greylisting
    // (open) or defer so the sender retries later (closed). Logged where it failed.
    if (m_decider->failOpen()) {
        outcome->kind = DecisionOutcome::Kind::FailedOpen;
        ++m_stats.failedOpen;
        return QByteArrayLiteral("DUNNO");
    }
    outcome->kind = DecisionOutcome::Kind::FailedClosed;
    ++m_stats.failedClosed;
    return m_deferPrefix +
           QByteArrayLiteral("Greylisting state unavailable, please try again later");
}

QByteArray GreylistPolicyHandler::decidePolicies(const PolicyRequest &request,
                                                 std::optional<TripletKey> *greylistKey)
{
    m_last.kind = DecisionOutcome::Kind::None;
    m_last.headerAdded = false;
    m_last.key = QByteArray();
    m_last.keyWhy = QByteArray();
    m_last.sender = QByteArray();
    m_last.recipient = QByteArray();
    if (!equals(request.request, "smtpd_access_policy"))
        return refuse(request.has(PolicyRequest::Request)
                          ? QByteArrayLiteral("request is not smtpd_access_policy")
                          : QByteArrayLiteral("no request attribute"));
    if (!equals(request.protocolState, "RCPT")) {
        ++m_stats.notRcpt;
        return QByteArrayLiteral("DUNNO");
    }
    if (!request.has(PolicyRequest::ClientAddress))
        return refuse(QByteArrayLiteral("RCPT request without client_address"));
    if (!request.has(PolicyRequest::Sender))
        return refuse(QByteArrayLiteral("RCPT request without sender"));
    if (!request.has(PolicyRequest::Recipient) || request.recipient.isEmpty())
        return refuse(QByteArrayLiteral("RCPT request without recipient"));

    std::optional<TripletKey> key =
        m_engine.normaliser().normalise(request.clientAddress, request.sender, request.recipient);
    if (!key)
        return refuse(QByteArrayLiteral("client_address, sender or recipient unusable for a "
                                        "triplet"));
    ++m_uncommittedDecisions;
    // The engine's table cells for this triplet load while the policies are evaluated.
    m_lookup = m_engine.prefetch(*key);

    // The normalised sender, so that VERP, SRS, BATV and +tag forms of an address match the
    // policies and auto allow entries written for the address itself.
    PolicyQuery query;
    query.clientAddress = request.clientAddress;
    query.sender = key->sender;
    query.recipient = key->recipient;
    query.saslUsername = request.saslUsername;
    if (m_headerFrom) {
        query.headerFrom = *m_headerFrom;
        query.headerFromKnown = true;
    }
    query.now = m_clock.now();
    const PolicyIndex &index = m_policies.currentIndex();
    const PolicyDecision decision = index.evaluate(query, &m_policies.set().autoAllow());
    m_last.reason = decision.reason;
    m_last.ref = decision.reason == DecisionReason::Policy ? decision.policyId : decision.groupId;
    m_last.attempts = 0;

    if (decision.outcome == PolicyOutcome::Reject) {
        m_last.kind = DecisionOutcome::Kind::Blocked;
        ++m_stats.rejected;
        logPolicy("policy reject", request, decision);
        logBlocked(request.clientAddress, *key, query.now);
        return m_rejectAction;
    }
    if (AutoAllowLearner::isOutbound(query, index)) {
        // The external recipient is recorded in the form its replies' sender will take.
        const QByteArray external = m_engine.normaliser().normaliseSender(request.recipient);
        PolicyQuery outbound = query;
        outbound.recipient = external;
        const std::optional<AutoAllowEntry> entry = m_learner.learn(outbound, index);
        // A pair written to often refreshes its expiry at most once a day, not one store
        // write per outbound mail.
        const AutoAllowEntry *known =
            entry ? m_policies.set().autoAllow().find(entry->externalAddress.toUtf8(),
                                                      entry->internalAddress.toUtf8(), query.now)
                  : nullptr;
        if (entry && (!known || known->expiresAt + kAutoAllowRefresh <= entry->expiresAt)) {
            if (m_policies.learn(*entry, m_batch))
                ++m_stats.learned;
            else
                qCWarning(lcPolicyd).noquote() << LogLine("auto allow table full: not learned")
                                                      .add("internal", entry->internalAddress)
                                                      .add("external", entry->externalAddress)
                                                      .text();
        }
        m_last.kind = DecisionOutcome::Kind::Outbound;
        ++m_stats.outbound;
        return QByteArrayLiteral("DUNNO");
    }
    if (decision.outcome == PolicyOutcome::Bypass) {
        m_last.kind = DecisionOutcome::Kind::Bypassed;
        ++m_stats.bypassed;
        logPolicy("policy bypass", request, decision);
        return QByteArrayLiteral("DUNNO");
    }
    if (m_poolBypasses.active()) {
        const qsizetype at = key->sender.lastIndexOf('@');
        if (at >= 0 && m_poolBypasses.allows(
                           QByteArrayView(key->sender).sliced(at + 1),
                           QHostAddress(QString::fromLatin1(request.clientAddress)), query.now)) {
            m_last.kind = DecisionOutcome::Kind::Bypassed;
            m_last.keyWhy =
                QByteArrayLiteral("pool bypass for ") + QByteArrayView(key->sender).sliced(at + 1);
            ++m_stats.bypassed;
            ++m_stats.poolBypassed;
            logPolicy("pool bypass", request, decision);
            return QByteArrayLiteral("DUNNO");
        }
    }
    *greylistKey = std::move(key);
    return {};
}

void GreylistPolicyHandler::logBlocked(const QByteArray &client, const TripletKey &key, Seconds now)
{
    // The Rejection Viewer shows blocked senders beside failures to retry, so each blocked
    // attempt is a rejection, committed with the decision. At most one row per triplet and
    // minute: a blocked sender retrying in a loop is counted, not written again and again.
    // The set of recent rows is bounded; a triplet that fell out of it may get a second row
    // within its minute, which is harmless.
    const QByteArray slot =
        QByteArray::number(now / 60) + '\0' + client + '\0' + key.sender + '\0' + key.recipient;
    if (!m_blockedLogged.insert(slot)) {
        ++m_stats.blockedNotLogged;
        return;
    }
    RejectionEntry r;
    r.time = now;
    r.reason = kBlockedReason;
    r.key = key;
    r.key.client = client;
    r.attempts = 1;
    r.firstSeen = now;
    m_batch.rejections.append(std::move(r));
    ++m_stats.blockedLogged;
}

void GreylistPolicyHandler::logPolicy(const char *message, const PolicyRequest &request,
                                      const PolicyDecision &d)
{
    LogLine line(message);
    switch (d.reason) {
    case DecisionReason::Policy:
        line.add("reason", "policy").add("policy", d.policyId);
        break;
    case DecisionReason::BlockedSender:
        line.add("reason", "blocked_sender").add("group", d.groupId);
        break;
    case DecisionReason::PermittedSender:
        line.add("reason", "permitted_sender").add("group", d.groupId);
        break;
    case DecisionReason::AutoAllow:
        line.add("reason", "auto_allow");
        break;
    case DecisionReason::DefaultGreylist:
        line.add("reason", "default");
        break;
    }
    qCInfo(lcPolicyd).noquote() << line.add("client", request.clientAddress)
                                       .add("sender", request.sender)
                                       .add("recipient", request.recipient)
                                       .text();
}

void GreylistPolicyHandler::notePoolRetry(const PolicyRequest &request, const TripletKey *ipKey)
{
    // Grouped by the IP-based network whatever the triplet's key: the point is to see the
    // pool behind retries that an IP key would not match. An IP-keyed decision's triplet
    // already has it and the normalised sender and recipient: not normalised again.
    std::optional<QByteArray> network;
    if (ipKey)
        network = ipKey->client;
    else
        network = m_engine.normaliser().clientKey(request.clientAddress);
    if (!network)
        return;
    const TripletNormaliser &n = m_engine.normaliser();
    const std::optional<PoolRetry> retry = m_poolRetries.noteDeferred(
        ipKey ? ipKey->sender : n.normaliseSender(request.sender),
        ipKey ? ipKey->recipient : n.normaliseRecipient(request.recipient), request.clientAddress,
        *network, m_clock.now());
    if (!retry)
        return;
    ++m_stats.poolRetries;
    qCInfo(lcPolicyd).noquote() << LogLine("pool retry")
                                       .add("summary", retry->summary())
                                       .add("sender", retry->sender)
                                       .add("recipient", retry->recipient)
                                       .text();
    Q_EMIT poolRetryDetected(*retry);
}

bool GreylistPolicyHandler::headerFirstFor(const PolicyRequest &request)
{
    // "instance/client" on the stack: the set copies it into its own storage when new.
    QVarLengthArray<char, 128> key;
    key.append(request.instance.constData(), request.instance.size());
    key.append('/');
    key.append(request.clientAddress.constData(), request.clientAddress.size());
    return m_headerSent.insert(QByteArrayView(key.constData(), key.size()));
}

QByteArray GreylistPolicyHandler::ipKeyWhy() const
{
    // Static bytes: the IP path must not allocate per decision for its explanation.
    static const QByteArray subnet = QByteArrayLiteral("IP-based triplet: the client network");
    static const QByteArray address = QByteArrayLiteral("IP-based triplet: the client address");
    return m_engine.config().lookupBySubnet ? subnet : address;
}

QByteArray GreylistPolicyHandler::greylist(const PolicyRequest &request, const TripletKey &key)
{
    m_last.key = key.client;
    m_last.keyWhy = ipKeyWhy();
    m_last.sender = key.sender;
    m_last.recipient = key.recipient;
    const Decision decision = m_engine.decide(key, m_batch, &m_lookup);
    m_lookup = TripletLookupHint();
    return answer(request, decision, &m_last, &key);
}

QByteArray GreylistPolicyHandler::answer(const PolicyRequest &request, const Decision &decision,
                                         DecisionOutcome *outcome, const TripletKey *ipKey)
{
    outcome->attempts = decision.attempts;
    switch (decision.verdict) {
    case Verdict::Defer: {
        outcome->kind = DecisionOutcome::Kind::Deferred;
        ++m_stats.deferred;
        notePoolRetry(request, ipKey);
        QByteArray &action = answerBuffer();
        appendBytes(action, {m_deferPrefix});
        appendExpandedText(action, m_options.greylistText, decision.waitSeconds, request.recipient);
        return action;
    }
    case Verdict::PassedNow: {
        outcome->kind = DecisionOutcome::Kind::PassedNow;
        outcome->delayedSeconds = decision.delayedSeconds; // delay.stats, in both stores
        ++m_stats.passedNow;
        // One header per message: the other recipients of the same instance pass too
        // (each its own triplet) but must not add the header again. Keyed with the client
        // because instance values are only unique per smtpd process.
        if (request.instance.isEmpty() || headerFirstFor(request)) {
            // The message's "greylisting passed" line is the recorder's (DecisionRecorder),
            // written once the answer is out.
            outcome->headerAdded = true;
            return greylistHeader(decision.delayedSeconds, "PREPEND ");
        }
        return QByteArrayLiteral("DUNNO");
    }
    case Verdict::PassedKnown:
    case Verdict::ClientWhitelisted:
        outcome->kind = decision.verdict == Verdict::PassedKnown
                            ? DecisionOutcome::Kind::PassedKnown
                            : DecisionOutcome::Kind::Whitelisted;
        ++m_stats.accepted;
        return QByteArrayLiteral("DUNNO");
    }
    return QByteArrayLiteral("DUNNO");
}

ChangeOutcome
GreylistPolicyHandler::changePolicies(const std::function<ChangeOutcome(PolicySet &)> &change)
{
    ChangeOutcome outcome = m_policies.change(change, m_batch);
    if (!outcome.ok() || outcome.changes.isEmpty())
        return outcome;
    // With decisions waiting, the server's commit at the end of this pass carries the change
    // (committing here would let a failure go unnoticed for those decisions' answers).
    if (m_uncommittedDecisions == 0 && !commit()) {
        outcome.code = ChangeError::Invalid;
        outcome.error = QStringLiteral("the change could not be saved (the store failed; it "
                                       "is retried with the next commit)");
    }
    return outcome;
}

int GreylistPolicyHandler::expireAutoAllowNow()
{
    const Seconds now = m_clock.now();
    m_lastAutoAllowExpiry = now;
    const int expired = m_policies.expire(now, m_batch);
    m_stats.autoAllowExpired += quint64(expired);
    if (expired > 0 && m_uncommittedDecisions == 0)
        commit();
    return expired;
}

bool GreylistPolicyHandler::commit()
{
    m_uncommittedDecisions = 0;
    if (m_batch.isEmpty())
        return true;
    // Changes beyond those a failed commit left behind: the decisions since then made them.
    const bool newChanges = m_batch.size() > m_retainedChanges;
    QString error;
    QElapsedTimer timer;
    timer.start();
    const bool committed = m_store.commit(m_batch, &error);
    ++m_stats.storeCommits;
    m_stats.storeCommitNanoseconds += quint64(timer.nsecsElapsed());
    m_lastCommitFailed = !committed;
    if (!committed) {
        ++m_stats.failedCommits;
        // The engine already holds these changes in memory; keeping the batch means the
        // next successful commit records them too, so memory and store converge again.
        if (m_batch.size() > kMaxRetainedChanges) {
            qCCritical(lcPolicyd).noquote()
                << LogLine("dropping unsaved changes after repeated store failures")
                       .add("changes", qint64(m_batch.size()))
                       .text();
            m_batch.clear();
        }
        m_retainedChanges = m_batch.size();
        qCCritical(lcPolicyd).noquote() << LogLine("store commit failed")
                                               .add("store", m_store.kind())
                                               .add("error", error)
                                               .add("changes", qint64(m_batch.size()))
                                               .text();
        // Decisions that changed nothing (DUNNO outside RCPT) do not depend on the store;
        // any decision that changed something must not be answered.
        return !newChanges;
    }
    QList<RejectionEntry> rejections = std::move(m_batch.rejections);
    // The SQLite store copies the records into lists of its own (recycled by its applier),
    // so these stay unshared and the next batch appends into their room: no allocation per
    // commit. A store that shares them instead leaves this an allocation per list, as before.
    m_batch.clearKeepingCapacity();
    m_retainedChanges = 0;
    // Blocked Senders' rows are already in the event stream as blocked attempts: only the
    // sweeps' failures to retry are counted and signalled as such.
    rejections.removeIf([](const RejectionEntry &r) { return r.reason == kBlockedReason; });
    if (!rejections.isEmpty()) {
        m_stats.failedToRetry += quint64(rejections.size());
        Q_EMIT rejectionsCommitted(rejections);
    }
    return true;
}

void GreylistPolicyHandler::startSweeping()
{
    m_sweepTimer.start();
}

void GreylistPolicyHandler::stopSweeping()
{
    m_sweepTimer.stop();
}

int GreylistPolicyHandler::sweepNow()
{
    const int visited = m_engine.sweep(m_options.sweepMaxVisits, m_batch);
    m_stats.swept += quint64(visited);
    m_poolBypasses.expire(m_clock.now());
    if (m_clock.now() - m_lastAutoAllowExpiry >= m_options.autoAllowExpiryInterval) {
        m_lastAutoAllowExpiry = m_clock.now();
        m_stats.autoAllowExpired += quint64(m_policies.expire(m_lastAutoAllowExpiry, m_batch));
    }
    if (m_uncommittedDecisions == 0 && !m_batch.isEmpty())
        commit(); // a failure is logged there; the batch is retried on the next commit
    return visited;
}

QByteArray GreylistPolicyHandler::expandText(QByteArrayView text, qint64 waitSeconds,
                                             QByteArrayView recipient)
{
    QByteArray out;
    appendExpandedText(out, text, waitSeconds, recipient);
    return out;
}

void GreylistPolicyHandler::appendExpandedText(QByteArray &out, QByteArrayView text,
                                               qint64 waitSeconds, QByteArrayView recipient)
{
    out.reserve(out.size() + text.size() + 16);
    for (qsizetype i = 0; i < text.size(); ++i) {
        // The text up to the next '%' in one piece, not a byte at a time.
        const qsizetype percent = text.indexOf('%', i);
        const qsizetype runEnd = percent < 0 ? text.size() : percent;
        if (runEnd > i) {
            appendBytes(out, {text.sliced(i, runEnd - i)});
            i = runEnd;
            if (i == text.size())
                break;
        }
        if (i + 1 == text.size()) {
            out.append('%');
            continue;
        }
        switch (text[++i]) {
        case 's':
            out.append(QByteArray::number(waitSeconds));
            break;
        case 'm':
            out.append(QByteArray::number((waitSeconds + 59) / 60));
            break;
        case 'r':
            out.append(lowerDomain(recipient));
            break;
        case '%':
            out.append('%');
            break;
        default: // not a placeholder: kept as written
            out.append('%').append(text[i]);
            break;
        }
    }
}

QByteArray &GreylistPolicyHandler::answerBuffer() const
{
    if (m_answer.isDetached())
        m_answer.resize(0); // capacity kept
    else
        m_answer = QByteArray(); // still held by a caller (or never made): a new one
    return m_answer;
}

QByteArray GreylistPolicyHandler::greylistHeader(qint64 delayedSeconds, QByteArrayView prefix) const
{
    // RFC 5322 date in local time with its numeric offset and the day name, as postgrey
    // writes it ("Tue, 12 Mar 2024 10:00:00 +0100"); the C locale keeps names English.
    const Seconds now = m_clock.now();
    if (now != m_dateSecond) {
        const QDateTime when = QDateTime::fromSecsSinceEpoch(now);
        const int offset = when.offsetFromUtc() / 60;
        const QString date = QLocale::c().toString(when, u"ddd, d MMM yyyy hh:mm:ss ") +
                             (offset < 0 ? u'-' : u'+') +
                             QString::number(qAbs(offset) / 60).rightJustified(2, u'0') +
                             QString::number(qAbs(offset) % 60).rightJustified(2, u'0');
        // Everything after the delay changes once a second at most: built then, not per
        // header.
        m_date = QByteArrayLiteral(" seconds by ") + versionString() + QByteArrayLiteral(" at ") +
                 m_options.hostname + QByteArrayLiteral("; ") + date.toLatin1();
        m_dateSecond = now;
    }
    // One allocation: the prefix, the delay's digits (on the stack) and the cached rest.
    char digits[24];
    const QByteArrayView delay = LogLine::decimal(delayedSeconds, digits);
    static constexpr QByteArrayView kDelayed("X-Greylist: delayed ");
    QByteArray &out = answerBuffer();
    appendBytes(out, {prefix, kDelayed, delay, m_date});
    return out;
}

} // namespace greygate
