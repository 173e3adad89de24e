// SPDX-License-Identifier: GPL-3.0-or-later
#include "IpAddress.h"

#include <array>

namespace greygate {

namespace {

constexpr quint64 kMappedPrefix = 0x0000ffff00000000ULL;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

int hexValue(char c)
{
    if (isDigit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<quint32> parseV4(QByteArrayView text)
{
    quint32 value = 0;
    int parts = 0;
    qsizetype i = 0;
    while (parts < 4) {
        const qsizetype begin = i;
        int octet = 0;
        while (i < text.size() && isDigit(text[i]) && i - begin < 3) {
            octet = octet * 10 + (text[i] - '0');
            ++i;
        }
        const qsizetype len = i - begin;
        // "010" is refused: inet_aton would read it as octal, a classic source of confusion.
        if (len == 0 || octet > 255 || (len > 1 && text[begin] == '0'))
            return std::nullopt;
        value = (value << 8) | quint32(octet);
        ++parts;
        if (parts < 4) {
            if (i >= text.size() || text[i] != '.')
                return std::nullopt;
            ++i;
        }
    }
    if (i != text.size())
        return std::nullopt;
    return value;
}

std::optional<IpAddress> parseV6(QByteArrayView text)
{
    std::array<quint16, 8> groups{};
    int count = 0;
    int gap = -1; // index in groups where "::" stands
    qsizetype i = 0;
    if (text.startsWith("::")) {
        gap = 0;
        i = 2;
        if (i == text.size()) {
            IpAddress a;
            return a;
        }
    } else if (text.startsWith(":")) {
        return std::nullopt;
    }
    while (i < text.size()) {
        if (count >= 8)
            return std::nullopt;
        // A trailing dotted quad fills the last two groups.
        const qsizetype nextColon = text.indexOf(':', i);
        const QByteArrayView field = text.sliced(i, (nextColon < 0 ? text.size() : nextColon) - i);
        if (nextColon < 0 && field.contains('.')) {
            const std::optional<quint32> v4 = parseV4(field);
            if (!v4 || count > 6)
                return std::nullopt;
            groups[count++] = quint16(*v4 >> 16);
            groups[count++] = quint16(*v4 & 0xffff);
            i = text.size();
            break;
        }
        if (field.isEmpty() || field.size() > 4)
            return std::nullopt;
        int value = 0;
        for (char c : field) {
            const int h = hexValue(c);
            if (h < 0)
                return std::nullopt;
            value = value * 16 + h;
        }
        groups[count++] = quint16(value);
        i += field.size();
        if (i == text.size())
            break;
        ++i; // the ':'
        if (i < text.size() && text[i] == ':') {
            if (gap >= 0)
                return std::nullopt; // a second "::"
            gap = count;
            ++i;
        } else if (i == text.size()) {
            return std::nullopt; // a trailing single ':'
        }
    }
    if (gap < 0 && count != 8)
        return std::nullopt;
    if (gap >= 0 && count > 7)
        return std::nullopt; // "::" must stand for at least one group
    std::array<quint16, 8> full{};
    const int tail = count - (gap < 0 ? count : gap);
    for (int g = 0; g < (gap < 0 ? count : gap); ++g)
        full[g] = groups[g];
    for (int g = 0; g < tail; ++g)
        full[8 - tail + g] = groups[(gap < 0 ? count : gap) + g];
    IpAddress a;
    for (int g = 0; g < 4; ++g)
        a.hi = (a.hi << 16) | full[g];
    for (int g = 4; g < 8; ++g)
        a.lo = (a.lo << 16) | full[g];
    if (a.hi == 0 && (a.lo >> 32) == 0xffff)
        a.v4 = true;
    return a;
}

} // namespace

std::optional<IpAddress> IpAddress::parse(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 45)
        return std::nullopt;
    if (text.contains(':'))
        return parseV6(text);
    const std::optional<quint32> v4 = parseV4(text);
    if (!v4)
        return std::nullopt;
    IpAddress a;
    a.lo = kMappedPrefix | *v4;
    a.v4 = true;
    return a;
}

QString IpAddress::toString() const
{
    if (v4) {
        const auto x = quint32(lo & 0xffffffffU);
        return QStringLiteral("%1.%2.%3.%4")
            .arg(x >> 24)
            .arg((x >> 16) & 0xff)
            .arg((x >> 8) & 0xff)
            .arg(x & 0xff);
    }
    std::array<quint16, 8> g{};
    for (int k = 0; k < 4; ++k) {
        g[k] = quint16(hi >> (48 - 16 * k));
        g[4 + k] = quint16(lo >> (48 - 16 * k));
    }
    // RFC 5952: compress the longest run (two or more) of zero groups, the first on a tie.
    int bestStart = -1, bestLen = 0;
    for (int k = 0; k < 8;) {
        if (g[k] != 0) {
            ++k;
            continue;
        }
        int e = k;
        while (e < 8 && g[e] == 0)
            ++e;
        if (e - k > bestLen && e - k >= 2) {
            bestStart = k;
            bestLen = e - k;
        }
        k = e;
    }
    QString out;
    for (int k = 0; k < 8; ++k) {
        if (k == bestStart) {
            out += QStringLiteral("::");
            k += bestLen - 1;
            continue;
        }
        if (!out.isEmpty() && !out.endsWith(u':'))
            out += u':';
        out += QString::number(g[k], 16);
    }
    return out;
}

} // namespace greygate
