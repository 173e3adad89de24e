// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyRequest.h"

#include <QByteArray>

namespace greygate {

// What the policy server asks to turn a request into an answer. The server calls decide()
// for every complete request it has read in one pass over its connections, then commit()
// once (group commit), and only then writes the answers: nothing is said to Postfix about a
// state change that is not durable yet.
class PolicyHandler
{
public:
    virtual ~PolicyHandler() = default;

    // The reply's action, without "action=" and without the line end: "DUNNO",
    // "DEFER_IF_PERMIT Greylisted, ...", "PREPEND X-Greylist: ...".
    // An empty result means the request itself is a protocol error (not a policy request,
    // a RCPT without a recipient...): the server logs protocolError() and closes only that
    // connection, as it does for input the parser rejects.
    virtual QByteArray decide(const PolicyRequest &request) = 0;

    // Makes every decision since the last commit durable. False is an internal error: the
    // server then closes the connections of those requests without answering, so Postfix
    // applies its own default instead of a decision that was not recorded.
    virtual bool commit() = 0;

    // Why the last decide() returned an empty result.
    virtual QByteArray protocolError() const { return QByteArrayLiteral("request refused"); }
};

} // namespace greygate
