// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QtGlobal>

namespace greygate {

// The record types Greygate asks for (RFC 1035, RFC 3596). CNAME and SOA only appear in
// answers: a CNAME chain is followed inside one answer, an SOA gives the negative TTL.
enum class DnsType : quint16
{
    A = 1,
    CNAME = 5,
    SOA = 6,
    PTR = 12,
    MX = 15,
    TXT = 16,
    AAAA = 28,
};

// One resource record of an answer, decoded. Names are lower-case, without the final dot.
struct DnsRecord
{
    QByteArray name; // the owner name
    DnsType type = DnsType::A;
    quint32 ttl = 0;
    QHostAddress address;   // A, AAAA
    QByteArray target;      // MX exchange, PTR name, CNAME target
    quint16 preference = 0; // MX
    QByteArray text;        // TXT: the character-strings concatenated (RFC 7208 §3.3)
};

// What one lookup came back with. Ok with no records is "no data" (the name exists without
// records of that type); NxDomain is a name that does not exist. The other statuses are
// temporary failures: the caller cannot tell what the records are.
struct DnsAnswer
{
    enum class Status : quint8
    {
        Ok,
        NxDomain,
        ServerFailure, // SERVFAIL, REFUSED or another error RCODE
        Timeout,       // no usable answer within the timeouts and retries
        Malformed,     // the answer could not be parsed, or the name cannot be asked
        Busy,          // too many lookups in flight: refused locally
    };
    Status status = Status::Timeout;
    QList<DnsRecord> records; // of the type asked (CNAMEs already followed)
    QByteArray error;         // for the temporary failures, what happened
    bool fromCache = false;

    bool ok() const { return status == Status::Ok; }
    // NXDOMAIN or no data: RFC 7208's "void lookup".
    bool isVoid() const { return status == Status::NxDomain || (ok() && records.isEmpty()); }
    bool temporaryFailure() const { return !ok() && status != Status::NxDomain; }
};

const char *dnsTypeName(DnsType type);

} // namespace greygate
