// SPDX-License-Identifier: GPL-3.0-or-later
#include "DnsMessage.h"

#include <cstring>

namespace greygate {

namespace {

constexpr quint16 kClassIn = 1;
constexpr quint16 kTypeOpt = 41;
// RFC 2181 §8: a TTL with the top bit set is treated as zero.
constexpr quint32 kMaxTtl = 0x7fffffff;

class Reader
{
public:
    explicit Reader(QByteArrayView bytes)
        : m_bytes(bytes)
    {}

    bool u8(qsizetype at, quint8 *out) const
    {
        if (at < 0 || at >= m_bytes.size())
            return false;
        *out = quint8(m_bytes[at]);
        return true;
    }
    bool u16(qsizetype at, quint16 *out) const
    {
        if (at < 0 || at + 2 > m_bytes.size())
            return false;
        *out = quint16((quint8(m_bytes[at]) << 8) | quint8(m_bytes[at + 1]));
        return true;
    }
    bool u32(qsizetype at, quint32 *out) const
    {
        quint16 hi = 0, lo = 0;
        if (!u16(at, &hi) || !u16(at + 2, &lo))
            return false;
        *out = (quint32(hi) << 16) | lo;
        return true;
    }

    // Reads the (possibly compressed) name at `at`; *next is the offset after it in place.
    bool name(qsizetype at, QByteArray *out, qsizetype *next) const
    {
        out->clear();
        qsizetype pos = at;
        qsizetype after = -1;
        int jumps = 0;
        qsizetype wire = 0; // RFC 1035's 255-byte limit counts the length bytes too
        for (;;) {
            quint8 len = 0;
            if (!u8(pos, &len))
                return false;
            if ((len & 0xc0) == 0xc0) {
                quint16 pointer = 0;
                if (!u16(pos, &pointer))
                    return false;
                const qsizetype target = pointer & 0x3fff;
                // Only backwards: every name then ends, and no pointer loop can exist.
                if (target >= pos || ++jumps > DnsMessage::kMaxPointerJumps)
                    return false;
                if (after < 0)
                    after = pos + 2;
                pos = target;
                continue;
            }
            if ((len & 0xc0) != 0)
                return false; // the 0x40/0x80 label types are obsolete
            wire += len + 1;
            if (wire > 255)
                return false;
            if (len == 0) {
                *next = after < 0 ? pos + 1 : after;
                return true;
            }
            if (pos + 1 + len > m_bytes.size())
                return false;
            if (!out->isEmpty())
                out->append('.');
            for (qsizetype i = pos + 1; i <= pos + len; ++i) {
                const char c = m_bytes[i];
                // A dot inside a label or a control byte would change what the name says
                // once written as text; no name Greygate needs has one.
                if (c == '.' || quint8(c) <= 0x20 || quint8(c) >= 0x7f)
                    return false;
                out->append(c >= 'A' && c <= 'Z' ? char(c + 32) : c);
            }
            pos += 1 + len;
        }
    }

    QByteArrayView bytes() const { return m_bytes; }

private:
    QByteArrayView m_bytes;
};

bool fail(QByteArray *error, const char *why)
{
    if (error)
        *error = QByteArray(why);
    return false;
}

bool decodeRdata(const Reader &r, qsizetype at, quint16 length, DnsRecord *rec)
{
    const qsizetype end = at + length;
    qsizetype next = 0;
    switch (rec->type) {
    case DnsType::A:
        if (length != 4)
            return false;
        rec->address =
            QHostAddress(quint32((quint8(r.bytes()[at]) << 24) | (quint8(r.bytes()[at + 1]) << 16) |
                                 (quint8(r.bytes()[at + 2]) << 8) | quint8(r.bytes()[at + 3])));
        return true;
    case DnsType::AAAA: {
        if (length != 16)
            return false;
        Q_IPV6ADDR v6;
        std::memcpy(v6.c, r.bytes().data() + at, 16);
        rec->address = QHostAddress(v6);
        return true;
    }
    case DnsType::MX:
        if (length < 3 || !r.u16(at, &rec->preference))
            return false;
        return r.name(at + 2, &rec->target, &next) && next == end;
    case DnsType::PTR:
    case DnsType::CNAME:
        return r.name(at, &rec->target, &next) && next == end;
    case DnsType::TXT: {
        qsizetype pos = at;
        while (pos < end) {
            const qsizetype len = quint8(r.bytes()[pos]);
            if (pos + 1 + len > end)
                return false;
            rec->text.append(r.bytes().data() + pos + 1, len);
            pos += 1 + len;
        }
        return true;
    }
    case DnsType::SOA:
        return true;
    }
    return false;
}

bool knownType(quint16 t)
{
    switch (DnsType(t)) {
    case DnsType::A:
    case DnsType::AAAA:
    case DnsType::MX:
    case DnsType::PTR:
    case DnsType::TXT:
    case DnsType::CNAME:
        return true;
    case DnsType::SOA:
        return false;
    }
    return false;
}

} // namespace

const char *dnsTypeName(DnsType type)
{
    switch (type) {
    case DnsType::A:
        return "A";
    case DnsType::CNAME:
        return "CNAME";
    case DnsType::SOA:
        return "SOA";
    case DnsType::PTR:
        return "PTR";
    case DnsType::MX:
        return "MX";
    case DnsType::TXT:
        return "TXT";
    case DnsType::AAAA:
        return "AAAA";
    }
    return "?";
}

bool DnsMessage::isValidName(QByteArrayView name)
{
    if (name.endsWith('.'))
        name.chop(1);
    if (name.isEmpty() || name.size() > kMaxNameBytes)
        return false;
    qsizetype label = 0;
    for (const char c : name) {
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (quint8(c) <= 0x20 || quint8(c) >= 0x7f || ++label > 63)
            return false;
    }
    return label > 0;
}

std::optional<QByteArray> DnsMessage::query(quint16 id, QByteArrayView name, DnsType type)
{
    if (!isValidName(name))
        return std::nullopt;
    if (name.endsWith('.'))
        name.chop(1);
    QByteArray out;
    out.reserve(12 + name.size() + 2 + 4 + 11);
    const auto put16 = [&out](quint16 v) {
        out.append(char(v >> 8)).append(char(v & 0xff));
    };
    put16(id);
    put16(0x0100); // RD: a recursive resolver answers for us
    put16(1);      // one question
    put16(0);
    put16(0);
    put16(1); // the OPT record
    for (QByteArrayView rest = name;;) {
        const qsizetype dot = rest.indexOf('.');
        const QByteArrayView label = dot < 0 ? rest : rest.first(dot);
        out.append(char(label.size())).append(label.data(), label.size());
        if (dot < 0)
            break;
        rest = rest.sliced(dot + 1);
    }
    out.append('\0');
    put16(quint16(type));
    put16(kClassIn);
    out.append('\0'); // OPT: root name
    put16(kTypeOpt);
    put16(kEdnsPayload);
    put16(0); // extended RCODE, version
    put16(0); // flags
    put16(0); // no options
    return out;
}

std::optional<DnsMessage> DnsMessage::parse(QByteArrayView bytes, QByteArray *error)
{
    const Reader r(bytes);
    DnsMessage m;
    quint16 flags = 0, qd = 0, an = 0, ns = 0;
    if (!r.u16(0, &m.id) || !r.u16(2, &flags) || !r.u16(4, &qd) || !r.u16(6, &an) ||
        !r.u16(8, &ns)) {
        fail(error, "message shorter than its header");
        return std::nullopt;
    }
    m.response = (flags & 0x8000) != 0;
    m.truncated = (flags & 0x0200) != 0;
    m.rcode = quint8(flags & 0x000f);
    if (qd > 1) {
        fail(error, "more than one question");
        return std::nullopt;
    }
    qsizetype pos = 12;
    if (qd == 1) {
        quint16 qclass = 0;
        if (!r.name(pos, &m.questionName, &pos) || !r.u16(pos, &m.questionType) ||
            !r.u16(pos + 2, &qclass)) {
            fail(error, "malformed question");
            return std::nullopt;
        }
        pos += 4;
    }
    // A truncated answer is retried over TCP: what it holds is not needed.
    if (m.truncated)
        return m;
    const int total = an + ns;
    if (total > kMaxRecords) {
        fail(error, "too many records");
        return std::nullopt;
    }
    for (int i = 0; i < total; ++i) {
        DnsRecord rec;
        quint16 type = 0, klass = 0, length = 0;
        quint32 ttl = 0;
        if (!r.name(pos, &rec.name, &pos) || !r.u16(pos, &type) || !r.u16(pos + 2, &klass) ||
            !r.u32(pos + 4, &ttl) || !r.u16(pos + 8, &length) || pos + 10 + length > bytes.size()) {
            fail(error, "malformed resource record");
            return std::nullopt;
        }
        const qsizetype rdata = pos + 10;
        pos = rdata + length;
        rec.ttl = ttl > kMaxTtl ? 0 : ttl;
        if (klass != kClassIn)
            continue;
        if (i >= an) {
            // Authority: the SOA of a negative answer (RFC 2308 §5).
            quint32 minimum = 0;
            qsizetype next = 0;
            QByteArray ignored;
            if (DnsType(type) == DnsType::SOA && r.name(rdata, &ignored, &next) &&
                r.name(next, &ignored, &next) && next + 20 == rdata + length &&
                r.u32(next + 16, &minimum))
                m.negativeTtl = qMin(rec.ttl, minimum > kMaxTtl ? 0 : minimum);
            continue;
        }
        if (!knownType(type))
            continue;
        rec.type = DnsType(type);
        if (!decodeRdata(r, rdata, length, &rec)) {
            fail(error, "malformed record data");
            return std::nullopt;
        }
        m.answers.append(std::move(rec));
    }
    return m;
}

QList<DnsRecord> DnsMessage::recordsFor(QByteArrayView name, DnsType type) const
{
    QByteArray owner = name.toByteArray().toLower();
    if (owner.endsWith('.'))
        owner.chop(1);
    QList<DnsRecord> out;
    for (int hop = 0; hop < 8; ++hop) {
        const DnsRecord *alias = nullptr;
        for (const DnsRecord &rec : answers) {
            if (rec.name != owner)
                continue;
            if (rec.type == type)
                out.append(rec);
            else if (rec.type == DnsType::CNAME && !alias)
                alias = &rec;
        }
        if (!out.isEmpty() || !alias || type == DnsType::CNAME)
            return out;
        owner = alias->target;
    }
    return out;
}

} // namespace greygate
