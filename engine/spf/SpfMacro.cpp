// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfMacro.h"

#include <QDateTime>
#include <QList>
#include <algorithm>

namespace greygate {

namespace {

constexpr qsizetype kMaxExpansion = 4096;

bool isDelimiter(char c)
{
    return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

bool unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

QByteArray letterValue(char letter, const SpfMacro::Context &ctx)
{
    const qsizetype at = ctx.sender.lastIndexOf('@');
    switch (letter) {
    case 's':
        return ctx.sender;
    case 'l':
        return at < 0 ? QByteArrayLiteral("postmaster") : ctx.sender.first(at);
    case 'o':
        return at < 0 ? ctx.sender : ctx.sender.sliced(at + 1);
    case 'd':
        return ctx.domain;
    case 'i':
        return SpfMacro::dottedAddress(ctx.client);
    case 'p':
        // The validated name needs PTR and address lookups that RFC 7208 §7.3 asks not to
        // rely on; "unknown" is what it prescribes when no name is validated.
        return QByteArrayLiteral("unknown");
    case 'v':
        return ctx.client.protocol() == QAbstractSocket::IPv6Protocol
                   ? QByteArrayLiteral("ip6")
                   : QByteArrayLiteral("in-addr");
    case 'h':
        return ctx.helo;
    case 'c':
        return ctx.client.toString().toLatin1();
    case 'r':
        return ctx.receiver;
    case 't':
        return QByteArray::number(QDateTime::currentSecsSinceEpoch());
    }
    return {};
}

} // namespace

QByteArray SpfMacro::dottedAddress(const QHostAddress &address)
{
    if (address.protocol() == QAbstractSocket::IPv4Protocol)
        return address.toString().toLatin1();
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    QByteArray out;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
        if (i)
            out.append('.');
        out.append(hex[v6[i] >> 4]).append('.').append(hex[v6[i] & 0xf]);
    }
    return out;
}

QByteArray SpfMacro::reverseName(const QHostAddress &address)
{
    QList<QByteArray> parts = dottedAddress(address).split('.');
    std::reverse(parts.begin(), parts.end());
    return parts.join('.') + (address.protocol() == QAbstractSocket::IPv4Protocol
                                  ? QByteArrayLiteral(".in-addr.arpa")
                                  : QByteArrayLiteral(".ip6.arpa"));
}

bool SpfMacro::valid(QByteArrayView spec)
{
    QByteArray ignored;
    return expand(spec, Context(), &ignored, false);
}

bool SpfMacro::expand(QByteArrayView spec, const Context &ctx, QByteArray *out, bool forDomain)
{
    out->clear();
    for (qsizetype i = 0; i < spec.size(); ++i) {
        const char c = spec[i];
        if (quint8(c) < 0x21 || quint8(c) > 0x7e)
            return false; // macro-string is visible characters only
        if (c != '%') {
            out->append(c);
            continue;
        }
        if (++i >= spec.size())
            return false;
        const char next = spec[i];
        if (next == '%') {
            out->append('%');
        } else if (next == '_') {
            out->append(' ');
        } else if (next == '-') {
            out->append("%20");
        } else if (next == '{') {
            const qsizetype close = spec.indexOf('}', i);
            if (close < 0 || close == i + 1)
                return false;
            const QByteArrayView body = spec.sliced(i + 1, close - i - 1);
            i = close;
            const char letter = body[0];
            const char lower = (letter >= 'A' && letter <= 'Z') ? char(letter + 32) : letter;
            if (!QByteArrayView("slodipvhcrt").contains(lower))
                return false;
            qsizetype pos = 1;
            qsizetype keep = -1;
            while (pos < body.size() && body[pos] >= '0' && body[pos] <= '9') {
                keep = (keep < 0 ? 0 : keep * 10) + (body[pos] - '0');
                if (keep > 128)
                    keep = 128; // more labels than any name has: the same as all of them
                ++pos;
            }
            if (keep == 0)
                return false;
            bool reverse = false;
            if (pos < body.size() && (body[pos] == 'r' || body[pos] == 'R')) {
                reverse = true;
                ++pos;
            }
            QByteArray delimiters;
            for (; pos < body.size(); ++pos) {
                if (!isDelimiter(body[pos]))
                    return false;
                delimiters.append(body[pos]);
            }
            if (delimiters.isEmpty())
                delimiters = ".";
            const QByteArray value = letterValue(lower, ctx);
            QList<QByteArray> parts;
            qsizetype start = 0;
            for (qsizetype k = 0; k <= value.size(); ++k) {
                if (k == value.size() || delimiters.contains(value[k])) {
                    parts.append(value.sliced(start, k - start));
                    start = k + 1;
                }
            }
            if (reverse)
                std::reverse(parts.begin(), parts.end());
            if (keep > 0 && parts.size() > keep)
                parts = parts.mid(parts.size() - keep);
            QByteArray expanded = parts.join('.');
            if (letter != lower) { // upper case: URL-escaped (RFC 3986 unreserved kept)
                QByteArray escaped;
                for (const char v : expanded) {
                    if (unreserved(v))
                        escaped.append(v);
                    else
                        escaped.append('%').append(
                            QByteArray::number(quint8(v), 16).rightJustified(2, '0').toUpper());
                }
                expanded = escaped;
            }
            out->append(expanded);
        } else {
            return false;
        }
        if (out->size() > kMaxExpansion)
            return false;
    }
    if (forDomain) {
        // §7.3: too long a result loses labels on the left until it fits.
        while (out->size() > 253) {
            const qsizetype dot = out->indexOf('.');
            if (dot < 0)
                return false;
            out->remove(0, dot + 1);
        }
    }
    return true;
}

} // namespace greygate
