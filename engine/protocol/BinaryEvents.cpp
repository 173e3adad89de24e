// SPDX-License-Identifier: GPL-3.0-or-later
#include "BinaryEvents.h"

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
    QString text()
    {
        const QByteArrayView view = bytes();
        return QString::fromUtf8(view);
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

QJsonObject smtpFields(Reader &r, QJsonObject o, quint64 flags)
{
    if (flags & BinaryEvents::Smtp) {
        o.insert(QLatin1StringView("source"), QLatin1StringView("smtp"));
        if (flags & BinaryEvents::HasHelo)
            o.insert(QLatin1StringView("helo"), r.text());
        o.insert(QLatin1StringView("tls"), bool(flags & BinaryEvents::Tls));
    }
    return o;
}

void triplet(Reader &r, QJsonObject *o)
{
    o->insert(QLatin1StringView("client"), r.text());
    o->insert(QLatin1StringView("sender"), r.text());
    o->insert(QLatin1StringView("recipient"), r.text());
}

// The fields of an attempt after its id, type and time, in the order they are written.
void attempt(Reader &r, QJsonObject *o)
{
    const quint64 flags = r.varint();
    const char *outcome = BinaryEvents::outcomeName(r.byte());
    const quint8 decidedBy = r.byte();
    if (!outcome || decidedBy > 6) {
        r.fail("unknown outcome or decider");
        return;
    }
    o->insert(QLatin1StringView("outcome"), QLatin1StringView(outcome));
    o->insert(QLatin1StringView("attempts"), qint64(r.varint()));
    const qint64 ref = (flags & BinaryEvents::HasRef) ? r.zigzag() : 0;
    if (flags & BinaryEvents::HasRef)
        o->insert(QLatin1StringView("ref"), ref);
    o->insert(QLatin1StringView("policy"), BinaryEvents::deciderKey(decidedBy, ref));
    if (flags & BinaryEvents::HasReason)
        o->insert(QLatin1StringView("reason"), r.text());
    if (flags & BinaryEvents::HasShadow) {
        const qint64 policy = r.zigzag();
        const char *effect = BinaryEvents::shadowName(r.byte());
        if (!effect || !*effect) {
            r.fail("unknown shadow effect");
            return;
        }
        o->insert(QLatin1StringView("shadow"),
                  QJsonObject{{QLatin1StringView("policy"), policy},
                              {QLatin1StringView("effect"), QLatin1StringView(effect)}});
    }
    if (flags & BinaryEvents::HasKey)
        o->insert(QLatin1StringView("key"), r.text());
    if (flags & BinaryEvents::HasKeyWhy)
        o->insert(QLatin1StringView("keyWhy"), r.text());
    *o = smtpFields(r, std::move(*o), flags);
    triplet(r, o);
}

void change(Reader &r, QJsonObject *o)
{
    o->insert(QLatin1StringView("subject"), r.text());
    o->insert(QLatin1StringView("action"), r.text());
    o->insert(QLatin1StringView("who"), r.text());
    o->insert(QLatin1StringView("version"), r.zigzag());
}

void message(Reader &r, QJsonObject *o)
{
    const quint64 flags = r.varint();
    *o = smtpFields(r, std::move(*o), flags);
    triplet(r, o);
    o->insert(QLatin1StringView("recipients"), qint64(r.varint()));
    o->insert(QLatin1StringView("bytes"), r.zigzag());
    o->insert(QLatin1StringView("reply"), r.text());
}

void alert(Reader &r, QJsonObject *o)
{
    o->insert(QLatin1StringView("kind"), r.text());
    o->insert(QLatin1StringView("subject"), r.text());
    o->insert(QLatin1StringView("message"), r.text());
    o->insert(QLatin1StringView("alertId"), r.zigzag());
    o->insert(QLatin1StringView("cleared"), r.byte() != 0);
}

void poolRetry(Reader &r, QJsonObject *o)
{
    o->insert(QLatin1StringView("domain"), r.text());
    o->insert(QLatin1StringView("sender"), r.text());
    o->insert(QLatin1StringView("recipient"), r.text());
    QJsonArray addresses;
    for (const QByteArray &a : r.bytes().toByteArray().split(',')) {
        if (!a.isEmpty())
            addresses.append(QString::fromLatin1(a));
    }
    o->insert(QLatin1StringView("addresses"), addresses);
    o->insert(QLatin1StringView("ips"), qint64(r.varint()));
    o->insert(QLatin1StringView("networks"), r.zigzag());
    o->insert(QLatin1StringView("summary"), r.text());
}

// One record's body into its object; false for a type this decoder does not know (a newer
// server's: skipped, its id consumed).
bool record(Reader &r, quint64 id, QJsonObject *o)
{
    const quint8 type = r.byte();
    const char *name = BinaryEvents::typeName(type);
    if (!name)
        return false;
    *o = QJsonObject{{QLatin1StringView("id"), qint64(id)},
                     {QLatin1StringView("type"), QLatin1StringView(name)},
                     {QLatin1StringView("time"), r.zigzag()}};
    switch (type) {
    case Attempt:
        attempt(r, o);
        break;
    case QueueChange:
    case FailedToRetry:
        triplet(r, o);
        if (type == FailedToRetry) {
            o->insert(QLatin1StringView("attempts"), qint64(r.varint()));
        } else {
            o->insert(QLatin1StringView("action"), r.text());
            o->insert(QLatin1StringView("who"), r.text());
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
    QJsonArray decoded;
    for (quint64 i = 0; i < count; ++i) {
        const QByteArrayView body = r.record();
        if (!r.ok() || body.isEmpty() || body.size() > kMaxRecordBytes) {
            *error =
                QStringLiteral("binary event %1 of %2 overruns its frame").arg(i + 1).arg(count);
            return false;
        }
        Reader fields(body);
        QJsonObject o;
        const bool known = record(fields, firstId + i, &o);
        if (!fields.ok()) {
            *error = QStringLiteral("binary event %1: %2")
                         .arg(firstId + i)
                         .arg(QLatin1StringView(fields.error()));
            return false;
        }
        // Bytes after the fields this version knows are a newer server's additions.
        if (known)
            decoded.append(o);
    }
    if (!r.atEnd()) {
        *error = QStringLiteral("bytes after the last binary event");
        return false;
    }
    if (lastId)
        *lastId = firstId + count - 1;
    if (events->isEmpty()) {
        *events = std::move(decoded);
    } else {
        for (const QJsonValue &v : std::as_const(decoded))
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
