// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DnsRecord.h"

#include <QByteArray>
#include <QList>
#include <optional>

namespace greygate {

// A DNS message (RFC 1035 §4): queries are built here, answers parsed here. Answers come
// from the network and are hostile: every length is checked against the message, a
// compression pointer must point backwards (so a loop cannot exist) and at most
// kMaxPointerJumps are followed, names are at most 255 bytes with labels of at most 63, and
// at most kMaxRecords records are decoded. Anything else makes parse() return nullopt.
class DnsMessage
{
public:
    static constexpr int kMaxPointerJumps = 64;
    static constexpr int kMaxRecords = 256;
    static constexpr qsizetype kMaxNameBytes = 253; // text form, without the final dot
    static constexpr quint16 kEdnsPayload = 1232;   // the DNS flag day's UDP size

    quint16 id = 0;
    bool response = false;
    bool truncated = false;
    quint8 rcode = 0;
    QByteArray questionName; // lower-case, no final dot
    quint16 questionType = 0;
    QList<DnsRecord> answers; // only the types Greygate knows (A, AAAA, MX, PTR, TXT, CNAME)
    // The authority section's SOA, for negative caching (RFC 2308 §5): min(TTL, MINIMUM).
    std::optional<quint32> negativeTtl;

    // A recursive query for one question, with an EDNS0 OPT record offering kEdnsPayload
    // bytes. nullopt when the name cannot be encoded (empty label, label over 63 bytes,
    // name over 253 bytes).
    static std::optional<QByteArray> query(quint16 id, QByteArrayView name, DnsType type);
    static std::optional<DnsMessage> parse(QByteArrayView bytes, QByteArray *error = nullptr);

    // The records of `type` answering `name`, following CNAMEs within the answer (at most 8).
    QList<DnsRecord> recordsFor(QByteArrayView name, DnsType type) const;

    // "example.com" -> true; what may be asked (labels 1..63 bytes, at most 253 in all).
    static bool isValidName(QByteArrayView name);
};

} // namespace greygate
