// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DnsRecord.h"

#include <functional>

namespace greygate {

// Asynchronous DNS lookups, as the SPF evaluator needs them: DnsResolver does them over the
// network, tests script them. done is called exactly once, on the caller's thread, possibly
// before lookup() returns (a cached answer).
class DnsLookup
{
public:
    using Callback = std::function<void(const DnsAnswer &)>;
    virtual ~DnsLookup() = default;
    // name without the final dot; any case.
    virtual void lookup(const QByteArray &name, DnsType type, Callback done) = 0;
};

} // namespace greygate
