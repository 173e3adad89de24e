// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace greygate {

class GreylistPolicyHandler;
class TripletNormaliser;
struct Event;

// The would-be effect of shadow policies on one recorded attempt (Event::shadow,
// docs/policies.md, "Shadow policies"): the daemon's composition installs it on the event
// log (EventLog::setAttemptAnnotator), so shadow tallies, metrics and the attempts ring have
// it with or without the control API. The header From is the one the handler is deciding
// with (the SMTP proxy sets it at the end of the headers), so header-From shadow policies
// are evaluated like enforcing ones.
class ShadowAnnotator
{
public:
    ShadowAnnotator(GreylistPolicyHandler &handler, const TripletNormaliser &normaliser)
        : m_handler(handler)
        , m_normaliser(normaliser)
    {}

    void operator()(Event &attempt) const { annotate(attempt, m_handler, m_normaliser); }
    static void annotate(Event &attempt, GreylistPolicyHandler &handler,
                         const TripletNormaliser &normaliser);

private:
    GreylistPolicyHandler &m_handler;
    const TripletNormaliser &m_normaliser;
};

} // namespace greygate
