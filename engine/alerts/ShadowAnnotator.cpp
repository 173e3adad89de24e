// SPDX-License-Identifier: GPL-3.0-or-later
#include "ShadowAnnotator.h"

#include "events/Event.h"
#include "greylist/TripletNormaliser.h"
#include "policy/PolicySet.h"
#include "policyd/GreylistPolicyHandler.h"

namespace greygate {

void ShadowAnnotator::annotate(Event &e, GreylistPolicyHandler &handler,
                               const TripletNormaliser &normaliser)
{
    const PolicyState &state = handler.policies();
    const PolicyIndex &index = state.currentIndex();
    // Blocked and outbound mail is decided before any policy: no shadow policy could act.
    if (!index.hasShadowPolicies() || e.outcome == AttemptOutcome::Outbound ||
        e.outcome == AttemptOutcome::Blocked)
        return;
    // The normalised sender and recipient, as the handler evaluates them.
    const std::optional<TripletKey> key = normaliser.normalise(e.client, e.sender, e.recipient);
    if (!key)
        return;
    PolicyQuery q;
    q.clientAddress = e.client;
    q.sender = key->sender;
    q.recipient = key->recipient;
    q.now = e.time;
    if (const std::optional<QByteArray> &from = handler.headerFrom()) {
        q.headerFrom = *from;
        q.headerFromKnown = true;
    }
    if (const std::optional<PolicyDecision> d = index.shadowDecision(q, &state.set().autoAllow())) {
        e.shadow =
            d->outcome == PolicyOutcome::Bypass ? ShadowEffect::Bypass : ShadowEffect::Greylist;
        e.shadowPolicy = d->policyId;
    } else {
        e.shadow = ShadowEffect::None;
        e.shadowPolicy = 0;
    }
}

} // namespace greygate
