// SPDX-License-Identifier: GPL-3.0-or-later
#include "LogLine.h"

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

// One character of a quoted value. Shared by the text and the byte paths so that a byte
// field (each byte its Latin-1 character) reads exactly as the same text would.
void appendEscaped(QString &out, char16_t u)
{
    static constexpr char16_t hex[] = u"0123456789abcdef";
    if (u == '"' || u == '\\') {
        out += u'\\';
        out += QChar(u);
    } else if (u == '\n') {
        out += u"\\n";
    } else if (u == '\r') {
        out += u"\\r";
    } else if (u == '\t') {
        out += u"\\t";
    } else if (u < 0x20 || u == 0x7f) {
        const char16_t esc[] = {u'\\', u'x', hex[u >> 4], hex[u & 0xf]};
        out.append(QStringView(esc, 4));
    } else {
        out += QChar(u);
    }
}

constexpr char16_t code(QChar c)
{
    return c.unicode();
}

constexpr char16_t code(char c)
{
    return uchar(c); // Latin-1
}

// Appends `value` as a logfmt value to `out`, with no temporary string: this runs for every
// field of every logged decision.
template <typename View> void appendQuoted(QString &out, View value)
{
    bool plain = !value.isEmpty();
    for (const auto c : value) {
        if (!isPlain(code(c))) {
            plain = false;
            break;
        }
    }
    if (plain) {
        out += value;
        return;
    }
    out.reserve(out.size() + value.size() + 2);
    out += u'"';
    for (const auto c : value)
        appendEscaped(out, code(c));
    out += u'"';
}

void appendQuoted(QString &out, QByteArrayView value)
{
    // Network bytes are not trusted to be UTF-8: Latin-1 maps every byte to one character
    // (a plain value is all ASCII, appended as it is).
    appendQuoted(out, QLatin1StringView(value));
}

void appendKey(QString &out, const char *key)
{
    out += u' ';
    out += QLatin1StringView(key);
    out += u'=';
}

} // namespace

LogLine::LogLine(QStringView message)
{
    m_text.reserve(160);
    m_text += u"msg=";
    appendQuoted(m_text, message);
}

LogLine::LogLine(const char *message)
{
    m_text.reserve(160);
    m_text += u"msg=";
    // Messages are source literals (UTF-8); a non-ASCII one takes the text path.
    const QByteArrayView bytes(message);
    bool ascii = true;
    for (const char c : bytes)
        ascii = ascii && uchar(c) < 0x80;
    if (ascii)
        appendQuoted(m_text, bytes);
    else
        appendQuoted(m_text, QStringView(QString::fromUtf8(bytes)));
}

LogLine &LogLine::add(const char *key, QStringView value)
{
    appendKey(m_text, key);
    appendQuoted(m_text, value);
    return *this;
}

LogLine &LogLine::add(const char *key, QByteArrayView value)
{
    appendKey(m_text, key);
    appendQuoted(m_text, value);
    return *this;
}

LogLine &LogLine::add(const char *key, qint64 value)
{
    appendKey(m_text, key);
    // Digits written backwards on the stack: no temporary string (QString::number) and no
    // format parsing (snprintf) for the two numbers of every "greylisting passed" line.
    char digits[24];
    char *const end = digits + sizeof digits;
    char *p = end;
    quint64 magnitude = value < 0 ? 0 - quint64(value) : quint64(value);
    do {
        *--p = char('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (value < 0)
        *--p = '-';
    m_text += QLatin1StringView(p, end - p);
    return *this;
}

QString LogLine::quoted(QStringView value)
{
    QString out;
    appendQuoted(out, value);
    return out;
}

} // namespace greygate
