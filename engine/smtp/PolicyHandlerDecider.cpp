// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyHandlerDecider.h"

#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policy/PolicySet.h"
#include "policyd/GreylistPolicyHandler.h"

#include <memory>

namespace greygate {

namespace {

bool isStatusCode(QByteArrayView word)
{
    // "4.7.1", "4.2.0", "5.7.26": class.subject.detail
    const qsizetype dot1 = word.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : word.indexOf('.', dot1 + 1);
    if (dot1 != 1 || dot2 < 0 || (word[0] != '2' && word[0] != '4' && word[0] != '5'))
        return false;
    for (qsizetype i = 2; i < word.size(); ++i) {
        if (i != dot2 && (word[i] < '0' || word[i] > '9'))
            return false;
    }
    return dot2 > 2 && dot2 + 1 < word.size() && word.size() <= 11;
}

// "4.7.1 text" -> ("4.7.1", "text"); without a code the default is used.
SmtpReply replyFrom(int code, QByteArrayView defaultStatus, QByteArrayView text)
{
    const qsizetype space = text.indexOf(' ');
    if (space > 0 && isStatusCode(text.first(space)) && text[0] == char('0' + code / 100))
        return SmtpReply::make(code, text.first(space), text.sliced(space + 1));
    return SmtpReply::make(code, defaultStatus, text);
}

} // namespace

PolicyHandlerDecider::PolicyHandlerDecider(PolicyHandler &answering, GreylistPolicyHandler &handler,
                                           GreylistEngine &engine, const Clock &clock,
                                           QObject *parent)
    : QObject(parent)
    , m_answering(answering)
    , m_handler(handler)
    , m_engine(engine)
    , m_clock(clock)
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(0);
    connect(&m_flushTimer, &QTimer::timeout, this, &PolicyHandlerDecider::flush);
}

SmtpVerdict PolicyHandlerDecider::verdictFor(QByteArrayView action)
{
    SmtpVerdict v;
    if (action.startsWith("DEFER_IF_PERMIT ") || action.startsWith("DEFER ")) {
        v.kind = SmtpVerdict::Kind::Defer;
        v.reply = replyFrom(451, "4.7.1", action.sliced(action.indexOf(' ') + 1));
    } else if (action.startsWith("REJECT")) {
        v.kind = SmtpVerdict::Kind::Reject;
        const QByteArrayView text = action.size() > 7 ? action.sliced(7) : QByteArrayView();
        v.reply = replyFrom(550, "5.7.1", text.isEmpty() ? QByteArrayView("Rejected") : text);
    } else if (action.startsWith("PREPEND ")) {
        v.kind = SmtpVerdict::Kind::Accept;
        v.header = action.sliced(8).toByteArray();
    } else if (action == "DUNNO" || action == "OK") {
        v.kind = SmtpVerdict::Kind::Accept;
    } else {
        // An empty action is a request the engine refused (an unusable address): not the
        // client's fault in a way it can fix by retrying, but not a policy decision either.
        v.kind = SmtpVerdict::Kind::TempFail;
        v.reply = SmtpReply::make(451, "4.3.0", "Cannot decide for this recipient now");
    }
    return v;
}

bool PolicyHandlerDecider::headerFromPending(const SmtpRecipientQuery &query) const
{
    // Only a policy based on the header From can leave a recipient pending: without one (the
    // usual set) the read-only evaluation below, a normalisation and a walk of the policies
    // per recipient, would always say no.
    scanPolicies();
    if (!m_headerPolicies)
        return false;
    const std::optional<TripletKey> key =
        m_engine.normaliser().normalise(query.clientAddress, query.sender, query.recipient);
    if (!key)
        return false;
    PolicyQuery q;
    q.clientAddress = query.clientAddress;
    q.sender = key->sender;
    q.recipient = key->recipient;
    q.saslUsername = query.saslUsername;
    q.now = m_clock.now();
    const PolicyIndex &index = m_handler.policies().currentIndex();
    const PolicyDecision d = index.evaluate(q, &m_handler.policies().set().autoAllow());
    if (d.outcome == PolicyOutcome::Reject)
        return false;
    if (d.headerFromPending)
        return true;
    // Groups and Auto Allow decide before any policy, so no shadow policy could act there.
    return index.hasShadowPolicies() &&
           (d.reason == DecisionReason::Policy || d.reason == DecisionReason::DefaultGreylist) &&
           headerShadowPolicies();
}

void PolicyHandlerDecider::scanPolicies() const
{
    const PolicySet &set = m_handler.policies().set();
    if (set.revision() == m_shadowRevision)
        return;
    // Off the hot path: once per policy change.
    const PolicyDocument doc = set.document();
    m_headerPolicies = std::any_of(doc.policies.cbegin(), doc.policies.cend(), [](const Policy &p) {
        return p.fromBasis != AddressBasis::Envelope;
    });
    m_headerShadow = std::any_of(doc.policies.cbegin(), doc.policies.cend(), [](const Policy &p) {
        return p.mode == PolicyMode::Shadow && p.fromBasis != AddressBasis::Envelope;
    });
    m_shadowRevision = set.revision();
}

bool PolicyHandlerDecider::headerShadowPolicies() const
{
    scanPolicies();
    return m_headerShadow;
}

void PolicyHandlerDecider::decide(const SmtpRecipientQuery &query, QObject *context, Callback done)
{
    Waiting w{context, std::move(done), {}, true};
    if (!query.headerFromKnown && headerFromPending(query)) {
        w.verdict.kind = SmtpVerdict::Kind::Pending;
        w.verdict.reason = "header_from_pending";
        w.needsCommit = false;
    } else {
        PolicyRequest request;
        request.request = QByteArrayLiteral("smtpd_access_policy");
        request.protocolState = QByteArrayLiteral("RCPT");
        request.protocolName = query.protocol;
        request.clientAddress = query.clientAddress;
        request.clientName = query.clientName;
        request.heloName = query.heloName;
        request.sender = query.sender;
        request.recipient = query.recipient;
        request.instance = query.instance;
        request.saslUsername = query.saslUsername;
        request.present =
            PolicyRequest::Request | PolicyRequest::ProtocolState | PolicyRequest::ProtocolName |
            PolicyRequest::ClientAddress | PolicyRequest::ClientName | PolicyRequest::HeloName |
            PolicyRequest::Sender | PolicyRequest::Recipient | PolicyRequest::Instance;
        if (!query.saslUsername.isEmpty())
            request.present |= PolicyRequest::SaslUsername;
        if (m_handler.isAsynchronous()) {
            decideAsync(request, query, std::move(w));
            return;
        }
        const GreylistPolicyHandler::Stats before = m_handler.stats();
        if (query.headerFromKnown)
            m_handler.setHeaderFrom(query.headerFrom);
        const EventLog::Origin origin{EventSource::Smtp, query.heloName, query.tls};
        if (m_events)
            m_events->setOrigin(&origin);
        const QByteArray action = m_answering.decide(request);
        if (m_events)
            m_events->setOrigin(nullptr);
        m_handler.setHeaderFrom(std::nullopt);
        const GreylistPolicyHandler::Stats &after = m_handler.stats();
        w.verdict = verdictFor(action);
        // Literals: static data, where a char pointer assigned to QByteArray was an
        // allocation per recipient.
        w.verdict.reason = after.deferred != before.deferred     ? QByteArrayLiteral("greylisted")
                           : after.passedNow != before.passedNow ? QByteArrayLiteral("passed")
                           : after.accepted != before.accepted   ? QByteArrayLiteral("known")
                           : after.rejected != before.rejected   ? QByteArrayLiteral("blocked")
                           : after.bypassed != before.bypassed   ? QByteArrayLiteral("bypassed")
                           : after.outbound != before.outbound   ? QByteArrayLiteral("outbound")
                                                                 : QByteArrayLiteral("refused");
    }
    m_waiting.push_back(std::move(w));
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void PolicyHandlerDecider::decideAsync(const PolicyRequest &request,
                                       const SmtpRecipientQuery &query, Waiting w)
{
    // The shared store (Redis) decides greylisting later; the attempt is recorded when the
    // answer comes, through the DecisionRecorder as for the policy server, with this
    // session's origin. The policies are evaluated inside decideAsync(), so the header From
    // applies there.
    if (query.headerFromKnown)
        m_handler.setHeaderFrom(query.headerFrom);
    auto waiting = std::make_shared<Waiting>(std::move(w));
    auto answered =
        [self = QPointer<PolicyHandlerDecider>(this), waiting,
         origin = EventLog::Origin{EventSource::Smtp, query.heloName, query.tls},
         client = request.clientAddress, sender = request.sender, recipient = request.recipient,
         headerFrom = query.headerFromKnown ? std::optional<QByteArray>(query.headerFrom)
                                            : std::nullopt](PolicyAnswer &&answer) {
            if (!self)
                return; // shutting down: the sessions are gone too
            if (self->m_record) {
                if (self->m_events)
                    self->m_events->setOrigin(&origin);
                // The shadow annotation of the recorded attempt reads the header From.
                self->m_handler.setHeaderFrom(headerFrom);
                self->m_record(answer.outcome, client, sender, recipient);
                self->m_handler.setHeaderFrom(std::nullopt);
                if (self->m_events)
                    self->m_events->setOrigin(nullptr);
            }
            waiting->verdict = verdictFor(answer.action);
            waiting->verdict.reason = reasonFor(answer.outcome.kind, waiting->verdict.kind);
            self->m_waiting.push_back(std::move(*waiting));
            if (!self->m_flushTimer.isActive())
                self->m_flushTimer.start();
        };
    if (m_record)
        m_handler.decideAsync(request, std::move(answered));
    else
        m_answering.decideAsync(request, std::move(answered));
    m_handler.setHeaderFrom(std::nullopt);
}

QByteArray PolicyHandlerDecider::reasonFor(DecisionOutcome::Kind outcome, SmtpVerdict::Kind verdict)
{
    using K = DecisionOutcome::Kind;
    switch (outcome) {
    case K::Deferred:
    case K::FailedClosed:
        return QByteArrayLiteral("greylisted");
    case K::PassedNow:
        return QByteArrayLiteral("passed");
    case K::PassedKnown:
    case K::Whitelisted:
        return QByteArrayLiteral("known");
    case K::Blocked:
        return QByteArrayLiteral("blocked");
    case K::Bypassed:
    case K::FailedOpen:
        return QByteArrayLiteral("bypassed");
    case K::Outbound:
        return QByteArrayLiteral("outbound");
    case K::None:
        break;
    }
    return verdict == SmtpVerdict::Kind::Defer    ? QByteArrayLiteral("greylisted")
           : verdict == SmtpVerdict::Kind::Reject ? QByteArrayLiteral("blocked")
           : verdict == SmtpVerdict::Kind::Accept ? QByteArrayLiteral("accepted")
                                                  : QByteArrayLiteral("refused");
}

void PolicyHandlerDecider::flush()
{
    std::vector<Waiting> waiting;
    waiting.swap(m_waiting);
    bool needCommit = false;
    for (const Waiting &w : waiting)
        needCommit = needCommit || w.needsCommit;
    const bool committed = !needCommit || m_answering.commit();
    for (Waiting &w : waiting) {
        if (!committed && w.needsCommit) {
            w.verdict.kind = SmtpVerdict::Kind::TempFail;
            w.verdict.reply =
                SmtpReply::make(451, "4.3.0", "Temporary local problem, try again later");
            w.verdict.header.clear();
            w.verdict.reason = "store_failed";
        }
        if (w.context)
            w.done(w.verdict);
    }
}

} // namespace greygate
