// SPDX-License-Identifier: GPL-3.0-or-later
#include "JournalCodec.h"

#include "Crc32.h"

#include <QtEndian>
#include <algorithm>
#include <cstring>

// Payload, version 2. All integers little-endian, fixed width; bytes as u32 length + data,
// so every field is binary-safe (NUL, separators, invalid UTF-8 all round-trip).
//   u8  version (2)
//   u32 n, n x triplet upsert: bytes client, sender, recipient; i64 firstSeen, lastSeen,
//       passedAt; u32 attempts; u8 status
//   u32 n, n x triplet removal: bytes TripletKey::joined()
//   u32 n, n x client upsert: bytes client; u32 passes; i64 lastSeen
//   u32 n, n x client removal: bytes client
//   u32 n, n x rejection: i64 time; bytes reason, client, sender, recipient; u32 attempts;
//       i64 firstSeen
//   u32 n, n x document: u8 kind (DocumentKind); bytes id; u8 removed (0 or 1); u32 version;
//       u64 revision; bytes json
//   u32 n, n x audit entry: u64 revision; i64 time; bytes who, what, objectId, before, after
// Version 1 (written before policies were stored) is version 2 without the last two lists;
// journals of that version are still read, never written.

namespace greygate {

namespace {

constexpr quint8 kFormatVersion = 2;
constexpr quint8 kFormatVersion1 = 1;

// Writes into the record's bytes through a pointer: the record is sized once from
// encodedSize(), and appending field by field (a QByteArray::append call, its capacity check
// and its detach check per integer) was most of a commit's encoding cost.
class Writer
{
public:
    Writer(QByteArray &out, qsizetype pos)
        : m_out(out)
        , m_pos(pos)
    {}
    // Cuts the record to what was written.
    void finish() { m_out.resize(m_pos); }
    void u8(quint8 v) { put(&v, 1); }
    void u32(quint32 v) { fixed(v); }
    void i64(qint64 v) { fixed(v); }
    void u64(quint64 v) { fixed(v); }
    void bytes(const QByteArray &b)
    {
        u32(quint32(b.size()));
        put(b.constData(), b.size());
    }

private:
    template <typename T> void fixed(T v)
    {
        char buf[sizeof(T)];
        qToLittleEndian(v, buf);
        put(buf, sizeof(T));
    }
    void put(const void *data, qsizetype n)
    {
        if (m_pos + n > m_out.size())
            m_out.resize(std::max(m_pos + n, m_out.size() * 2)); // not when sized right
        if (n > 0)
            std::memcpy(m_out.data() + m_pos, data, size_t(n));
        m_pos += n;
    }
    QByteArray &m_out;
    qsizetype m_pos;
};

class Reader
{
public:
    Reader(const char *data, qsizetype size)
        : m_p(data)
        , m_end(data + size)
    {}
    bool ok() const { return m_ok; }
    bool atEnd() const { return m_p == m_end; }
    quint8 u8() { return fixed<quint8>(); }
    quint32 u32() { return fixed<quint32>(); }
    qint64 i64() { return fixed<qint64>(); }
    quint64 u64() { return fixed<quint64>(); }
    QByteArray bytes()
    {
        const quint32 n = u32();
        if (!m_ok || qsizetype(n) > m_end - m_p)
            return fail<QByteArray>();
        QByteArray b(m_p, n);
        m_p += n;
        return b;
    }
    // A count of entries each at least minSize bytes long: bounded by what is left, so a
    // corrupt count can never make us reserve gigabytes.
    quint32 count(qsizetype minSize)
    {
        const quint32 n = u32();
        if (!m_ok || qsizetype(n) > (m_end - m_p) / minSize)
            return fail<quint32>();
        return n;
    }

private:
    template <typename T> T fail()
    {
        m_ok = false;
        m_p = m_end;
        return T{};
    }
    template <typename T> T fixed()
    {
        if (m_end - m_p < qsizetype(sizeof(T)))
            return fail<T>();
        const T v = qFromLittleEndian<T>(m_p);
        m_p += sizeof(T);
        return v;
    }
    const char *m_p;
    const char *m_end;
    bool m_ok = true;
};

qsizetype encodedSize(const WriteBatch &b)
{
    qsizetype n = JournalCodec::kHeaderSize + 1 + 7 * 4;
    for (const TripletRecord &t : b.upsertTriplets)
        n += 12 + t.key.client.size() + t.key.sender.size() + t.key.recipient.size() + 29;
    for (const QByteArray &k : b.removeTriplets)
        n += 4 + k.size();
    for (const ClientRecord &c : b.upsertClients)
        n += 4 + c.client.size() + 12;
    for (const QByteArray &k : b.removeClients)
        n += 4 + k.size();
    for (const RejectionEntry &r : b.rejections)
        n += 16 + r.reason.size() + r.key.client.size() + r.key.sender.size() +
             r.key.recipient.size() + 20;
    for (const DocumentRecord &d : b.documents)
        n += 22 + d.id.size() + d.json.size();
    for (const AuditRecord &a : b.audit)
        n += 36 + a.who.size() + a.what.size() + a.objectId.size() + a.beforeJson.size() +
             a.afterJson.size();
    return n;
}

} // namespace

QByteArray JournalCodec::encode(const WriteBatch &batch)
{
    QByteArray out;
    encode(batch, out);
    return out;
}

void JournalCodec::encode(const WriteBatch &batch, QByteArray &out)
{
    out.resize(encodedSize(batch));
    std::memset(out.data(), 0, kHeaderSize);
    Writer w(out, kHeaderSize);
    w.u8(kFormatVersion);
    w.u32(quint32(batch.upsertTriplets.size()));
    for (const TripletRecord &t : batch.upsertTriplets) {
        w.bytes(t.key.client);
        w.bytes(t.key.sender);
        w.bytes(t.key.recipient);
        w.i64(t.state.firstSeen);
        w.i64(t.state.lastSeen);
        w.i64(t.state.passedAt);
        w.u32(t.state.attempts);
        w.u8(quint8(t.state.status));
    }
    w.u32(quint32(batch.removeTriplets.size()));
    for (const QByteArray &k : batch.removeTriplets)
        w.bytes(k);
    w.u32(quint32(batch.upsertClients.size()));
    for (const ClientRecord &c : batch.upsertClients) {
        w.bytes(c.client);
        w.u32(c.passes);
        w.i64(c.lastSeen);
    }
    w.u32(quint32(batch.removeClients.size()));
    for (const QByteArray &k : batch.removeClients)
        w.bytes(k);
    w.u32(quint32(batch.rejections.size()));
    for (const RejectionEntry &r : batch.rejections) {
        w.i64(r.time);
        w.bytes(r.reason);
        w.bytes(r.key.client);
        w.bytes(r.key.sender);
        w.bytes(r.key.recipient);
        w.u32(r.attempts);
        w.i64(r.firstSeen);
    }
    w.u32(quint32(batch.documents.size()));
    for (const DocumentRecord &d : batch.documents) {
        w.u8(quint8(d.kind));
        w.bytes(d.id);
        w.u8(d.removed ? 1 : 0);
        w.u32(d.version);
        w.u64(d.revision);
        w.bytes(d.json);
    }
    w.u32(quint32(batch.audit.size()));
    for (const AuditRecord &a : batch.audit) {
        w.u64(a.revision);
        w.i64(a.time);
        w.bytes(a.who);
        w.bytes(a.what);
        w.bytes(a.objectId);
        w.bytes(a.beforeJson);
        w.bytes(a.afterJson);
    }
    w.finish();
}

void JournalCodec::seal(QByteArray &record, quint64 sequence)
{
    char *h = record.data();
    const qsizetype length = record.size() - kHeaderSize;
    qToLittleEndian(kMagic, h);
    qToLittleEndian(quint32(length), h + 4);
    qToLittleEndian(sequence, h + 8);
    quint32 crc = crc32(h + kHeaderSize, length);
    crc = crc32Update(crc, h + 4, 12);
    qToLittleEndian(crc, h + 16);
}

JournalCodec::Header JournalCodec::parseHeader(const char *data)
{
    Header h;
    h.magic = qFromLittleEndian<quint32>(data);
    h.length = qFromLittleEndian<quint32>(data + 4);
    h.sequence = qFromLittleEndian<quint64>(data + 8);
    h.crc = qFromLittleEndian<quint32>(data + 16);
    return h;
}

bool JournalCodec::verify(const Header &header, const char *payload)
{
    char lengthAndSequence[12];
    qToLittleEndian(header.length, lengthAndSequence);
    qToLittleEndian(header.sequence, lengthAndSequence + 4);
    quint32 crc = crc32(payload, header.length);
    crc = crc32Update(crc, lengthAndSequence, 12);
    return crc == header.crc;
}

std::optional<WriteBatch> JournalCodec::decode(const char *payload, qsizetype size)
{
    Reader r(payload, size);
    const quint8 version = r.u8();
    if (version != kFormatVersion && version != kFormatVersion1)
        return std::nullopt;
    WriteBatch b;
    quint32 n = r.count(41);
    b.upsertTriplets.reserve(n);
    for (quint32 i = 0; i < n && r.ok(); ++i) {
        TripletRecord t;
        t.key.client = r.bytes();
        t.key.sender = r.bytes();
        t.key.recipient = r.bytes();
        t.state.firstSeen = r.i64();
        t.state.lastSeen = r.i64();
        t.state.passedAt = r.i64();
        t.state.attempts = r.u32();
        const quint8 status = r.u8();
        if (status > quint8(TripletStatus::Passed))
            return std::nullopt;
        t.state.status = TripletStatus(status);
        b.upsertTriplets.append(std::move(t));
    }
    n = r.count(4);
    b.removeTriplets.reserve(n);
    for (quint32 i = 0; i < n && r.ok(); ++i)
        b.removeTriplets.append(r.bytes());
    n = r.count(16);
    b.upsertClients.reserve(n);
    for (quint32 i = 0; i < n && r.ok(); ++i) {
        ClientRecord c;
        c.client = r.bytes();
        c.passes = r.u32();
        c.lastSeen = r.i64();
        b.upsertClients.append(std::move(c));
    }
    n = r.count(4);
    b.removeClients.reserve(n);
    for (quint32 i = 0; i < n && r.ok(); ++i)
        b.removeClients.append(r.bytes());
    n = r.count(36);
    b.rejections.reserve(n);
    for (quint32 i = 0; i < n && r.ok(); ++i) {
        RejectionEntry e;
        e.time = r.i64();
        e.reason = r.bytes();
        e.key.client = r.bytes();
        e.key.sender = r.bytes();
        e.key.recipient = r.bytes();
        e.attempts = r.u32();
        e.firstSeen = r.i64();
        b.rejections.append(std::move(e));
    }
    if (version >= 2) {
        n = r.count(22);
        b.documents.reserve(n);
        for (quint32 i = 0; i < n && r.ok(); ++i) {
            DocumentRecord d;
            const quint8 kind = r.u8();
            d.id = r.bytes();
            const quint8 removed = r.u8();
            d.version = r.u32();
            d.revision = r.u64();
            d.json = r.bytes();
            // Strict, so that whatever decodes encodes back to the same bytes.
            if (r.ok() && (!isDocumentKind(kind) || removed > 1))
                return std::nullopt;
            d.kind = DocumentKind(kind);
            d.removed = removed == 1;
            b.documents.append(std::move(d));
        }
        n = r.count(36);
        b.audit.reserve(n);
        for (quint32 i = 0; i < n && r.ok(); ++i) {
            AuditRecord a;
            a.revision = r.u64();
            a.time = r.i64();
            a.who = r.bytes();
            a.what = r.bytes();
            a.objectId = r.bytes();
            a.beforeJson = r.bytes();
            a.afterJson = r.bytes();
            b.audit.append(std::move(a));
        }
    }
    if (!r.ok() || !r.atEnd())
        return std::nullopt;
    return b;
}

} // namespace greygate
