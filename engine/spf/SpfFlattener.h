// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SpfBypassTable.h"
#include "dns/DnsLookup.h"

#include <functional>
#include <memory>

namespace greygate {

// A domain's SPF record as the address ranges it passes: ip4/ip6 terms as written, a and
// mx terms resolved to their addresses (with the term's prefix lengths), include and
// redirect followed. Only pass (+) terms count; ptr, exists and terms with macros cannot be
// flattened and are listed in `skipped`. Bounded like an evaluation: at most 10 records
// visited and kMaxQueries queries.
class SpfFlattener : public std::enable_shared_from_this<SpfFlattener>
{
public:
    struct Result
    {
        bool ok = false; // false: a DNS failure or no usable record (error says which)
        QList<SpfBypassTable::Range> ranges;
        QList<QByteArray> skipped;
        QByteArray error;
    };
    using Callback = std::function<void(Result &&)>;

    static constexpr int kMaxRecords = 10;
    static constexpr int kMaxQueries = 60;

    // done is called exactly once (maybe before this returns).
    static void flatten(DnsLookup &dns, const QByteArray &domain, Callback done);

private:
    SpfFlattener(DnsLookup &dns, Callback done);
    void visit(const QByteArray &domain);
    void ask(const QByteArray &name, DnsType type, std::function<void(const DnsAnswer &)> next);
    void release();
    void fail(const QByteArray &error);

    DnsLookup &m_dns;
    Callback m_done;
    Result m_result;
    int m_pending = 0;
    int m_records = 0;
    int m_queries = 0;
};

} // namespace greygate
