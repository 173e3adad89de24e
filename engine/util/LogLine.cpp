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

// isPlain for a byte, one load instead of a chain of compares: every byte of every field of
// a logged decision goes through it.
constexpr std::array<bool, 256> kPlainByte = [] {
    std::array<bool, 256> table{};
    for (int b = 0; b < 256; ++b)
        table[size_t(b)] = isPlain(char16_t(b));
    return table;
}();

// Bytes written as they are inside quotes: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> kVerbatimByte = [] {
    std::array<bool, 256> table{};
    for (int b = 0x20; b < 0x7f; ++b)
        table[size_t(b)] = b != '"' && b != '\\';
    return table;
}();

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
        const qsizetype at = out.size();
        out.resize(at + value.size());
        char *p = out.data() + at;
        for (const QChar c : value)
            *p++ = char(c.unicode());
        return;
    }
    out.append('"');
    for (qsizetype i = 0; i < value.size();) {
        const char16_t u = value[i].unicode();
        if (u < 0x80) {
            char buffer[4];
            out.append(buffer, escape(buffer, uchar(u)) - buffer);
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

void appendKey(LogLine::Buffer &out, const char *key)
{
    const size_t n = std::strlen(key);
    const qsizetype at = out.size();
    out.resize(at + qsizetype(n) + 2);
    char *p = out.data() + at;
    *p = ' ';
    std::memcpy(p + 1, key, n);
    p[n + 1] = '=';
}

} // namespace

void LogLine::appendQuoted(Buffer &out, QByteArrayView value)
{
    // Network bytes are not trusted to be UTF-8: each byte is read as its Latin-1 character
    // (a plain value is all ASCII, appended as it is).
    bool plain = !value.isEmpty();
    for (const char c : value) {
        if (!kPlainByte[uchar(c)]) {
            plain = false;
            break;
        }
    }
    if (plain) {
        append(out, value);
        return;
    }
    const qsizetype at = out.size();
    out.resize(at + 2 + 4 * value.size()); // the worst case; shrunk below
    char *const start = out.data() + at;
    char *p = start;
    *p++ = '"';
    for (const char c : value) {
        if (kVerbatimByte[uchar(c)])
            *p++ = c;
        else
            p = escape(p, uchar(c));
    }
    *p++ = '"';
    out.resize(at + (p - start));
}

LogLine::LogLine(QStringView message)
{
    append(m_bytes, "msg=");
    appendQuotedText(m_bytes, message);
}

LogLine::LogLine(const char *message)
{
    append(m_bytes, "msg=");
    // Messages are source literals (UTF-8); a non-ASCII one takes the text path.
    const QByteArrayView bytes(message);
    if (std::none_of(bytes.begin(), bytes.end(), [](char c) { return uchar(c) >= 0x80; }))
        appendQuoted(m_bytes, bytes);
    else
        appendQuotedText(m_bytes, QString::fromUtf8(bytes));
}

LogLine &LogLine::add(const char *key, QStringView value)
{
    appendKey(m_bytes, key);
    appendQuotedText(m_bytes, value);
    return *this;
}

LogLine &LogLine::add(const char *key, QByteArrayView value)
{
    appendKey(m_bytes, key);
    appendQuoted(m_bytes, value);
    return *this;
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

LogLine &LogLine::add(const char *key, qint64 value)
{
    appendKey(m_bytes, key);
    char digits[24];
    const QByteArrayView text = decimal(value, digits);
    m_bytes.append(text.data(), text.size());
    return *this;
}

QString LogLine::quoted(QStringView value)
{
    Buffer out;
    appendQuotedText(out, value);
    return QString::fromUtf8(out.constData(), out.size());
}

} // namespace greygate
