// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DnsRecord.h"

#include <QHash>
#include <list>

namespace greygate {

// Answers kept for their TTL (the smallest of the records'), at most maxEntries of them,
// the least recently used evicted first. Negative answers (NXDOMAIN, no data) are kept for
// the SOA's negative TTL (RFC 2308 §5) and not at all without an SOA; failures (SERVFAIL,
// timeouts) briefly (RFC 2308 §7.1), so that a dead server is not asked for every
// message. Every TTL is capped. Time is passed in, so tests walk it by hand.
class DnsCache
{
public:
    struct Limits
    {
        qsizetype maxEntries = 10'000;
        qint64 maxTtl = 86'400;        // RFC 8767's one day
        qint64 maxNegativeTtl = 3'600; // RFC 2308 §5 suggests one to three hours at most
        qint64 failureTtl = 5;         // RFC 2308 §7.1 allows up to five minutes
    };

    DnsCache();
    explicit DnsCache(const Limits &limits);

    // The answer for (name, type) when one is still fresh at `now` (seconds): fromCache set,
    // and each record's TTL what is left of it.
    std::optional<DnsAnswer> find(const QByteArray &name, DnsType type, qint64 now);
    // negativeTtl: the SOA's, when the answer had one.
    void insert(const QByteArray &name, DnsType type, const DnsAnswer &answer,
                std::optional<quint32> negativeTtl, qint64 now);
    void clear();
    qsizetype size() const { return m_entries.size(); }

private:
    struct Entry
    {
        DnsAnswer answer;
        qint64 stored = 0;
        qint64 expires = 0;
        std::list<QByteArray>::iterator use;
    };

    static QByteArray keyOf(const QByteArray &name, DnsType type);

    Limits m_limits;
    QHash<QByteArray, Entry> m_entries;
    std::list<QByteArray> m_use; // most recently used first
};

} // namespace greygate
