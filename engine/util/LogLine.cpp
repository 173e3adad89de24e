// SPDX-License-Identifier: GPL-3.0-or-later
#include "LogLine.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace greygate {

namespace {

constexpr bool isPlain(char16_t u)
{
    // Characters that need no quoting in logfmt; everything else (space, '=', '"', control
    // characters, non-ASCII) is quoted so a parser never splits a value.
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '.' ||
           u == '-' || u == '_' || u == ':' || u == '/' || u == '@' || u == '+' || u == '[' ||
           u == ']' || u == ',' || u == '<' || u == '>';
}

// One character below U+0100 in a quoted value: how many bytes escape() writes for it.
constexpr int quotedLength(char16_t c)
{
    switch (c) {
    case '"':
    case '\\':
    case '\n':
    case '\r':
    case '\t':
        return 2;
    default:
        break;
    }
    if (c < 0x20 || c == 0x7f)
        return 4;
    return c >= 0x80 ? 2 : 1;
}

// Everything a value's scan must know about a byte, packed so that the scan is one load and
// one add per byte: its quoted length (bits 0-20), whether it needs quotes (bits 21-41) and
// whether it is not ASCII (bits 42-62). Every byte of every field of a logged decision goes
// through it. A chunk of kScanChunk bytes sums without a field carrying into the next.
constexpr int kNeedsQuotesShift = 21;
constexpr int kNotAsciiShift = 42;
constexpr quint64 kFieldMask = (quint64(1) << 21) - 1;
constexpr qsizetype kScanChunk = qsizetype(1) << 18; // 4 bytes each at most: 2^20 < 2^21

constexpr std::array<quint64, 256> kByteClass = [] {
    std::array<quint64, 256> table{};
    for (int b = 0; b < 256; ++b) {
        table[size_t(b)] = quint64(quotedLength(char16_t(b))) |
                           (quint64(!isPlain(char16_t(b))) << kNeedsQuotesShift) |
                           (quint64(b >= 0x80) << kNotAsciiShift);
    }
    return table;
}();

struct Scan
{
    qsizetype quotedLength = 0; // inside the quotes
    bool plain = false;         // written bare
    bool ascii = true;
};

Scan scan(QByteArrayView value)
{
    const uchar *p = reinterpret_cast<const uchar *>(value.data());
    const uchar *const end = p + value.size();
    qsizetype length = 0;
    qsizetype needsQuotes = 0;
    qsizetype notAscii = 0;
    while (p != end) {
        const uchar *const chunkEnd = end - p > kScanChunk ? p + kScanChunk : end;
        quint64 sum = 0;
        // Eight bytes a step: the loop's own compare and branch are paid once for them.
        for (; chunkEnd - p >= 8; p += 8) {
            sum += kByteClass[p[0]] + kByteClass[p[1]] + kByteClass[p[2]] + kByteClass[p[3]] +
                   kByteClass[p[4]] + kByteClass[p[5]] + kByteClass[p[6]] + kByteClass[p[7]];
        }
        if (chunkEnd - p >= 4) {
            sum += kByteClass[p[0]] + kByteClass[p[1]] + kByteClass[p[2]] + kByteClass[p[3]];
            p += 4;
        }
        for (; p != chunkEnd; ++p)
            sum += kByteClass[*p];
        length += qsizetype(sum & kFieldMask);
        needsQuotes += qsizetype((sum >> kNeedsQuotesShift) & kFieldMask);
        notAscii += qsizetype(sum >> kNotAsciiShift);
    }
    return {length, !value.isEmpty() && needsQuotes == 0, notAscii == 0};
}

// The room writeScanned() takes.
qsizetype writtenSize(QByteArrayView value, const Scan &scan)
{
    return scan.plain ? value.size() : scan.quotedLength + 2;
}

// One character below U+0100 of a quoted value, written as UTF-8 at `p` (at most four
// bytes). Shared by the text and the byte paths so that a byte field (each byte its Latin-1
// character) reads exactly as the same text would.
char *escape(char *p, uchar c)
{
    static constexpr char hex[] = "0123456789abcdef";
    switch (c) {
    case '"':
    case '\\':
        *p++ = '\\';
        *p++ = char(c);
        return p;
    case '\n':
        *p++ = '\\';
        *p++ = 'n';
        return p;
    case '\r':
        *p++ = '\\';
        *p++ = 'r';
        return p;
    case '\t':
        *p++ = '\\';
        *p++ = 't';
        return p;
    default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
        *p++ = '\\';
        *p++ = 'x';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0xf];
    } else if (c >= 0x80) {
        *p++ = char(0xc0 | (c >> 6));
        *p++ = char(0x80 | (c & 0x3f));
    } else {
        *p++ = char(c);
    }
    return p;
}

// A scanned value at `p`, bare or quoted and escaped (each byte its Latin-1 character).
char *writeScanned(char *p, QByteArrayView value, const Scan &scan)
{
    if (scan.plain) {
        std::memcpy(p, value.data(), size_t(value.size()));
        return p + value.size();
    }
    *p++ = '"';
    if (scan.quotedLength == value.size()) {
        // Every byte stands for itself (a longer one would have made the length grow).
        if (!value.isEmpty())
            std::memcpy(p, value.data(), size_t(value.size()));
        p += value.size();
    } else {
        for (const char c : value)
            p = escape(p, uchar(c));
    }
    *p++ = '"';
    return p;
}

// ` key=` at `p`: a field's room (key and value) is made once, then written through.
char *writeKey(char *p, QByteArrayView key)
{
    *p++ = ' ';
    std::memcpy(p, key.data(), size_t(key.size()));
    p += key.size();
    *p++ = '=';
    return p;
}

void append(LogLine::Buffer &out, QByteArrayView bytes)
{
    out.append(bytes.data(), bytes.size());
}

void appendQuotedText(LogLine::Buffer &out, QStringView value)
{
    bool plain = !value.isEmpty();
    for (const QChar c : value) {
        if (!isPlain(c.unicode())) {
            plain = false;
            break;
        }
    }
    if (plain) {
        // All ASCII: one byte per character.
        char *p = out.reserveMore(value.size());
        for (const QChar c : value)
            *p++ = char(c.unicode());
        out.commit(p);
        return;
    }
    out.append('"');
    for (qsizetype i = 0; i < value.size();) {
        const char16_t u = value[i].unicode();
        if (u < 0x80) {
            out.commit(escape(out.reserveMore(4), uchar(u)));
            ++i;
            continue;
        }
        // A run of non-ASCII characters as UTF-8, whole, so a surrogate pair is never split.
        qsizetype end = i + 1;
        while (end < value.size() && value[end].unicode() >= 0x80)
            ++end;
        append(out, value.sliced(i, end - i).toUtf8());
        i = end;
    }
    out.append('"');
}

} // namespace

void LogLine::appendQuoted(Buffer &out, QByteArrayView value)
{
    // Network bytes are not trusted to be UTF-8: each byte is read as its Latin-1 character
    // (a plain value is all ASCII, appended as it is).
    const Scan scanned = scan(value);
    out.commit(writeScanned(out.reserveMore(writtenSize(value, scanned)), value, scanned));
}

LogLine::LogLine(QStringView message)
{
    append(m_bytes, "msg=");
    appendQuotedText(m_bytes, message);
}

void LogLine::setMessage(QByteArrayView bytes)
{
    append(m_bytes, "msg=");
    // Messages are source literals (UTF-8); a non-ASCII one takes the text path.
    const Scan scanned = scan(bytes);
    if (scanned.ascii)
        m_bytes.commit(
            writeScanned(m_bytes.reserveMore(writtenSize(bytes, scanned)), bytes, scanned));
    else
        appendQuotedText(m_bytes, QString::fromUtf8(bytes));
}

void LogLine::addText(QByteArrayView key, QStringView value)
{
    m_bytes.commit(writeKey(m_bytes.reserveMore(key.size() + 2), key));
    appendQuotedText(m_bytes, value);
}

void LogLine::addBytes(QByteArrayView key, QByteArrayView value)
{
    const Scan scanned = scan(value);
    char *p = m_bytes.reserveMore(key.size() + 2 + writtenSize(value, scanned));
    m_bytes.commit(writeScanned(writeKey(p, key), value, scanned));
}

QByteArrayView LogLine::decimal(qint64 value, char (&buffer)[24])
{
    // Written backwards from the end: no temporary string (QString::number) and no format
    // parsing (snprintf).
    char *const end = buffer + sizeof buffer;
    char *p = end;
    quint64 magnitude = value < 0 ? 0 - quint64(value) : quint64(value);
    do {
        *--p = char('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0)
        *--p = '-';
    return QByteArrayView(p, end - p);
}

void LogLine::addNumber(QByteArrayView key, qint64 value)
{
    char digits[24];
    const QByteArrayView text = decimal(value, digits);
    char *p = writeKey(m_bytes.reserveMore(key.size() + 2 + text.size()), key);
    std::memcpy(p, text.data(), size_t(text.size()));
    m_bytes.commit(p + text.size());
}

QString LogLine::quoted(QStringView value)
{
    Buffer out;
    appendQuotedText(out, value);
    return QString::fromUtf8(out.constData(), out.size());
}

} // namespace greygate
