// SPDX-License-Identifier: GPL-3.0-or-later
#include "BinaryEvents.h"

#include "JsonText.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace greygate::protocol {

namespace {

// Wire values of the event types (engine/events Event.h, EventType).
enum : quint8
{
    Attempt,
    QueueChange,
    PolicyChange,
    GroupChange,
    AutoAllowChange,
    FailedToRetry,
    Message,
    Alert,
    PoolRetry,
};

// Reads one record (or the header) and remembers the first thing wrong with it, so that
// each field read stays one line and the result is checked once.
class Reader
{
public:
    explicit Reader(QByteArrayView bytes)
        : m_bytes(bytes)
    {}

    bool ok() const { return m_error == nullptr; }
    const char *error() const { return m_error; }
    bool atEnd() const { return m_pos >= m_bytes.size(); }
    qsizetype pos() const { return m_pos; }

    quint64 varint()
    {
        quint64 value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_pos >= m_bytes.size())
                return fail("truncated number");
            const auto byte = quint8(m_bytes[m_pos++]);
            if (shift == 63 && byte > 1)
                return fail("number beyond 64 bits");
            value |= quint64(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                return value;
        }
        return fail("number beyond 64 bits");
    }
    qint64 zigzag()
    {
        const quint64 v = varint();
        return qint64(v >> 1) ^ -qint64(v & 1);
    }
    quint8 byte()
    {
        if (m_pos >= m_bytes.size())
            return quint8(fail("truncated record"));
        return quint8(m_bytes[m_pos++]);
    }
    // A string field: literal bytes, or a dictionary entry.
    QByteArrayView bytes()
    {
        const quint64 v = varint();
        if (v & 1) {
            const QByteArrayView word = BinaryEvents::dictionary(v >> 1);
            if (word.isEmpty())
                fail("an unknown dictionary string");
            return word;
        }
        return take(v >> 1, "a string beyond its record");
    }
    // A record: its length, then its bytes.
    QByteArrayView record() { return take(varint(), "a record beyond its frame"); }
    QByteArrayView take(quint64 size, const char *why)
    {
        if (size > quint64(m_bytes.size() - m_pos)) {
            fail(why);
            return {};
        }
        const QByteArrayView view = m_bytes.sliced(m_pos, qsizetype(size));
        m_pos += qsizetype(size);
        return view;
    }
    quint64 fail(const char *why)
    {
        if (!m_error)
            m_error = why;
        m_pos = m_bytes.size();
        return 0;
    }

private:
    QByteArrayView m_bytes;
    qsizetype m_pos = 0;
    const char *m_error = nullptr;
};

// One event object as JSON text, field by field; Qt parses a frame's worth at once.
class Object
{
public:
    explicit Object(QByteArray *out)
        : m_out(out)
    {
        m_out->append('{');
    }
    void close() { m_out->append('}'); }

    void number(const char *key, qint64 value)
    {
        this->key(key);
        JsonText::appendNumber(m_out, value);
    }
    void name(const char *key, const char *value)
    {
        this->key(key);
        m_out->append('"');
        m_out->append(value);
        m_out->append('"');
    }
    void string(const char *key, QByteArrayView utf8)
    {
        this->key(key);
        JsonText::appendString(m_out, utf8);
    }
    void boolean(const char *key, bool value)
    {
        this->key(key);
        m_out->append(value ? "true" : "false");
    }
    QByteArray *raw(const char *key)
    {
        this->key(key);
        return m_out;
    }

private:
    void key(const char *key)
    {
        if (!m_first)
            m_out->append(',');
        m_first = false;
        m_out->append('"');
        m_out->append(key);
        m_out->append("\":");
    }

    QByteArray *m_out;
    bool m_first = true;
};

void smtpFields(Reader &r, Object &o, quint64 flags)
{
    if (flags & BinaryEvents::Smtp) {
        o.name("source", "smtp");
        if (flags & BinaryEvents::HasHelo)
            o.string("helo", r.bytes());
        o.boolean("tls", flags & BinaryEvents::Tls);
    }
}

void triplet(Reader &r, Object &o)
{
    o.string("client", r.bytes());
    o.string("sender", r.bytes());
    o.string("recipient", r.bytes());
}

// The fields of an attempt after its id, type and time, in the order they are written.
void attempt(Reader &r, Object &o)
{
    const quint64 flags = r.varint();
    const char *outcome = BinaryEvents::outcomeName(r.byte());
    const quint8 decidedBy = r.byte();
    if (!outcome || decidedBy > 6) {
        r.fail("unknown outcome or decider");
        return;
    }
    o.name("outcome", outcome);
    o.number("attempts", qint64(r.varint()));
    const qint64 ref = (flags & BinaryEvents::HasRef) ? r.zigzag() : 0;
    if (flags & BinaryEvents::HasRef)
        o.number("ref", ref);
    o.string("policy", BinaryEvents::deciderKey(decidedBy, ref).toLatin1());
    if (flags & BinaryEvents::HasReason)
        o.string("reason", r.bytes());
    if (flags & BinaryEvents::HasShadow) {
        const qint64 policy = r.zigzag();
        const char *effect = BinaryEvents::shadowName(r.byte());
        if (!effect || !*effect) {
            r.fail("unknown shadow effect");
            return;
        }
        Object shadow(o.raw("shadow"));
        shadow.number("policy", policy);
        shadow.name("effect", effect);
        shadow.close();
    }
    if (flags & BinaryEvents::HasKey)
        o.string("key", r.bytes());
    if (flags & BinaryEvents::HasKeyWhy)
        o.string("keyWhy", r.bytes());
    smtpFields(r, o, flags);
    triplet(r, o);
}

void change(Reader &r, Object &o)
{
    o.string("subject", r.bytes());
    o.string("action", r.bytes());
    o.string("who", r.bytes());
    o.number("version", r.zigzag());
}

void message(Reader &r, Object &o)
{
    const quint64 flags = r.varint();
    smtpFields(r, o, flags);
    triplet(r, o);
    o.number("recipients", qint64(r.varint()));
    o.number("bytes", r.zigzag());
    o.string("reply", r.bytes());
}

void alert(Reader &r, Object &o)
{
    o.string("kind", r.bytes());
    o.string("subject", r.bytes());
    o.string("message", r.bytes());
    o.number("alertId", r.zigzag());
    o.boolean("cleared", r.byte() != 0);
}

void poolRetry(Reader &r, Object &o)
{
    o.string("domain", r.bytes());
    o.string("sender", r.bytes());
    o.string("recipient", r.bytes());
    QByteArray *out = o.raw("addresses");
    out->append('[');
    bool first = true;
    for (const QByteArray &a : r.bytes().toByteArray().split(',')) {
        if (a.isEmpty())
            continue;
        if (!first)
            out->append(',');
        first = false;
        JsonText::appendString(out, QString::fromLatin1(a).toUtf8()); // addresses: Latin-1
    }
    out->append(']');
    o.number("ips", qint64(r.varint()));
    o.number("networks", r.zigzag());
    o.string("summary", r.bytes());
}

// One record's body as its object's JSON text, appended to *out; false for a type this
// decoder does not know (a newer server's: skipped, its id consumed, nothing written).
bool record(Reader &r, quint64 id, QByteArray *out)
{
    const quint8 type = r.byte();
    const char *name = BinaryEvents::typeName(type);
    if (!name)
        return false;
    Object o(out);
    o.number("id", qint64(id));
    o.name("type", name);
    o.number("time", r.zigzag());
    switch (type) {
    case Attempt:
        attempt(r, o);
        break;
    case QueueChange:
    case FailedToRetry:
        triplet(r, o);
        if (type == FailedToRetry) {
            o.number("attempts", qint64(r.varint()));
        } else {
            o.string("action", r.bytes());
            o.string("who", r.bytes());
        }
        break;
    case PolicyChange:
    case GroupChange:
    case AutoAllowChange:
        change(r, o);
        break;
    case Message:
        message(r, o);
        break;
    case Alert:
        alert(r, o);
        break;
    case PoolRetry:
        poolRetry(r, o);
        break;
    }
    o.close();
    return true;
}

} // namespace

namespace {

constexpr QByteArrayView kDictionary[] = {
    "IP-based triplet: the client network",
    "IP-based triplet: the client address",
    "IP-based triplet",
};

} // namespace

QByteArrayView BinaryEvents::dictionary(quint64 index)
{
    return index < std::size(kDictionary) ? kDictionary[index] : QByteArrayView();
}

void BinaryEvents::Writer::word(QByteArrayView bytes)
{
    for (size_t i = 0; i < std::size(kDictionary); ++i) {
        if (kDictionary[i] == bytes) {
            varint((quint64(i) << 1) | 1);
            return;
        }
    }
    this->bytes(bytes);
}

void BinaryEvents::Writer::text(QStringView text)
{
    for (const QChar c : text) {
        if (c.unicode() >= 0x80) {
            bytes(text.toUtf8());
            return;
        }
    }
    varint(quint64(text.size()) << 1);
    for (const QChar c : text)
        *p++ = char(c.unicode());
}

void BinaryEvents::appendHeader(QByteArray *out, quint64 firstId, quint64 count)
{
    char header[2 + 2 * Writer::kMaxVarint];
    Writer w{header};
    w.byte(quint8(kMarker));
    w.byte(kVersion);
    w.varint(firstId);
    w.varint(count);
    out->append(header, w.p - header);
}

bool BinaryEvents::decode(QByteArrayView frame, QJsonArray *events, QString *error, quint64 *lastId)
{
    Reader r(frame);
    if (r.byte() != quint8(kMarker) || r.byte() != kVersion) {
        *error = QStringLiteral("not a binary event frame of version %1").arg(kVersion);
        return false;
    }
    const quint64 firstId = r.varint();
    const quint64 count = r.varint();
    if (!r.ok() || firstId == 0 || count == 0 || count > kMaxCount ||
        firstId > kMaxId - count + 1) {
        *error = QStringLiteral("malformed binary event frame header");
        return false;
    }
    // The objects as JSON text, parsed by Qt in one go: building QJsonObjects field by field
    // costs Qt 6 more than twice as much (a container per string value).
    QByteArray text;
    text.reserve(frame.size() * 2 + 64);
    text.append('[');
    for (quint64 i = 0; i < count; ++i) {
        const QByteArrayView body = r.record();
        if (!r.ok() || body.isEmpty() || body.size() > kMaxRecordBytes) {
            *error =
                QStringLiteral("binary event %1 of %2 overruns its frame").arg(i + 1).arg(count);
            return false;
        }
        Reader fields(body);
        const qsizetype before = text.size();
        if (before > 1)
            text.append(',');
        // Bytes after the fields this version knows are a newer server's additions.
        if (!record(fields, firstId + i, &text))
            text.truncate(before);
        if (!fields.ok()) {
            *error = QStringLiteral("binary event %1: %2")
                         .arg(firstId + i)
                         .arg(QLatin1StringView(fields.error()));
            return false;
        }
    }
    if (!r.atEnd()) {
        *error = QStringLiteral("bytes after the last binary event");
        return false;
    }
    text.append(']');
    QJsonParseError parse;
    const QJsonDocument document = QJsonDocument::fromJson(text, &parse);
    if (!document.isArray()) { // cannot happen: every string is escaped, every number whole
        *error = QStringLiteral("binary events decoded to invalid JSON: ") + parse.errorString();
        return false;
    }
    if (lastId)
        *lastId = firstId + count - 1;
    if (events->isEmpty()) {
        *events = document.array();
    } else {
        for (const QJsonValue &v : document.array())
            events->append(v);
    }
    return true;
}

const char *BinaryEvents::typeName(quint8 type)
{
    static const char *const names[] = {"attempt", "queue",     "policy",
                                        "group",   "autoallow", "failedToRetry",
                                        "message", "alert",     "poolRetry"};
    return type < std::size(names) ? names[type] : nullptr;
}

const char *BinaryEvents::outcomeName(quint8 outcome)
{
    static const char *const names[] = {"deferred", "passed",   "passedKnown", "whitelisted",
                                        "bypassed", "outbound", "blocked"};
    return outcome < std::size(names) ? names[outcome] : nullptr;
}

const char *BinaryEvents::shadowName(quint8 effect)
{
    static const char *const names[] = {"", "greylist", "bypass"};
    return effect < std::size(names) ? names[effect] : nullptr;
}

QString BinaryEvents::deciderKey(quint8 decidedBy, qint64 ref)
{
    switch (decidedBy) {
    case 0:
        return QStringLiteral("none");
    case 1:
        return QString::number(ref);
    case 2:
    case 3:
        return QStringLiteral("group:") + QString::number(ref);
    case 4:
        return QStringLiteral("autoallow");
    case 5:
        return QStringLiteral("outbound");
    default:
        return QStringLiteral("other");
    }
}

} // namespace greygate::protocol
