// SPDX-License-Identifier: GPL-3.0-or-later
#include "LogLine.h"

namespace greygate {

namespace {

bool isPlain(QChar c)
{
    // Characters that need no quoting in logfmt; everything else (space, '=', '"', control
    // characters, non-ASCII) is quoted so a parser never splits a value.
    const char16_t u = c.unicode();
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '.' ||
           u == '-' || u == '_' || u == ':' || u == '/' || u == '@' || u == '+' || u == '[' ||
           u == ']' || u == ',' || u == '<' || u == '>';
}

} // namespace

LogLine::LogLine(QStringView message)
{
    m_text.reserve(96);
    m_text += u"msg=" + quoted(message);
}

LogLine::LogLine(const char *message)
    : LogLine(QStringView(QString::fromUtf8(message)))
{}

LogLine &LogLine::add(const char *key, QStringView value)
{
    m_text += u' ' + QLatin1StringView(key) + u'=' + quoted(value);
    return *this;
}

LogLine &LogLine::add(const char *key, QByteArrayView value)
{
    // Network bytes are not trusted to be UTF-8: Latin-1 maps every byte to one character,
    // and quoted() escapes the control ones.
    return add(key, QStringView(QString::fromLatin1(value)));
}

LogLine &LogLine::add(const char *key, qint64 value)
{
    m_text += u' ' + QLatin1StringView(key) + u'=' + QString::number(value);
    return *this;
}

QString LogLine::quoted(QStringView value)
{
    bool plain = !value.isEmpty();
    for (QChar c : value) {
        if (!isPlain(c)) {
            plain = false;
            break;
        }
    }
    if (plain)
        return value.toString();

    QString out;
    out.reserve(value.size() + 2);
    out += u'"';
    for (QChar c : value) {
        const char16_t u = c.unicode();
        if (u == '"' || u == '\\') {
            out += u'\\';
            out += c;
        } else if (u == '\n') {
            out += u"\\n";
        } else if (u == '\r') {
            out += u"\\r";
        } else if (u == '\t') {
            out += u"\\t";
        } else if (u < 0x20 || u == 0x7f) {
            out += u"\\x" + QString::number(u, 16).rightJustified(2, u'0');
        } else {
            out += c;
        }
    }
    out += u'"';
    return out;
}

} // namespace greygate
