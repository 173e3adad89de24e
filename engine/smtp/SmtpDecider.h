// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpDecision.h"

#include <QObject>
#include <functional>

namespace greygate {

// The proxy's view of the decision engine: asynchronous, so that an engine that answers
// later (a shared store over the network) fits behind it. The callback runs from the event
// loop, never inside decide(), and only once the decision is durable (decide, commit, then
// answer); it is dropped when `context` is destroyed first.
class SmtpDecider
{
public:
    using Callback = std::function<void(const SmtpVerdict &)>;

    virtual ~SmtpDecider() = default;

    // With query.headerFromKnown false, a recipient that a header-From policy might decide
    // gets Kind::Pending and nothing is recorded; the caller asks again with the header.
    virtual void decide(const SmtpRecipientQuery &query, QObject *context, Callback done) = 0;
};

} // namespace greygate
