// SPDX-License-Identifier: GPL-3.0-or-later
#include "TripletNormaliser.h"

#include "ControlBytes.h"
#include "SenderRewriter.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>

namespace greygate {

namespace {

// Longest textual form accepted for a client address: "[IPv6:" + 45 chars of an IPv4-mapped
// IPv6 address + a zone + "]", with room to spare. Anything longer is not an address.
constexpr qsizetype kMaxAddressText = 96;

bool isControl(char c)
{
    const auto u = static_cast<uchar>(c);
    return u < 0x20 || u == 0x7f;
}

QByteArrayView trimSpaces(QByteArrayView v)
{
    while (!v.isEmpty() && v.front() == ' ')
        v = v.sliced(1);
    while (!v.isEmpty() && v.back() == ' ')
        v.chop(1);
    return v;
}

// "<addr>" -> "addr"; "<>" -> "". A lone bracket is left alone: it is not a path.
QByteArrayView stripAngles(QByteArrayView v)
{
    // Every level: "<<a@b>>" must normalise as "<a@b>" does, or a key would not be stable
    // under a second normalisation (found by fuzz_triplet).
    v = trimSpaces(v);
    while (v.size() >= 2 && v.front() == '<' && v.back() == '>')
        v = trimSpaces(v.sliced(1, v.size() - 2));
    return v;
}

QByteArray lowered(QByteArrayView v)
{
    QByteArray out(v.size(), Qt::Uninitialized);
    copyLoweredAscii(v, out.data());
    return out;
}

void appendDecimal(QByteArray &out, unsigned v)
{
    char buf[4];
    int n = 0;
    do {
        buf[n++] = char('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        out.append(buf[--n]);
}

void appendHex16(QByteArray &out, unsigned v)
{
    static constexpr char kHex[] = "0123456789abcdef";
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned nibble = (v >> shift) & 0xf;
        if (nibble != 0 || started || shift == 0) {
            out.append(kHex[nibble]);
            started = true;
        }
    }
}

void maskBits(quint8 *bytes, int size, int prefix)
{
    for (int i = 0; i < size; ++i) {
        const int keep = std::clamp(prefix - i * 8, 0, 8);
        bytes[i] &= quint8(0xff00 >> keep);
    }
}

// Digits of v (at most 3: a byte or a prefix length) at p; returns the end.
char *putDecimal(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = char('0' + v / 100);
    if (v >= 10)
        *p++ = char('0' + v / 10 % 10);
    *p++ = char('0' + v % 10);
    return p;
}

// Built on the stack and copied once: every IPv4 client of every RCPT comes through here.
QByteArray formatIpv4(const quint8 *b, int prefix)
{
    char text[19]; // "255.255.255.255/32"
    char *p = text;
    for (int i = 0; i < 4; ++i) {
        if (i != 0)
            *p++ = '.';
        p = putDecimal(p, b[i]);
    }
    if (prefix >= 0) {
        *p++ = '/';
        p = putDecimal(p, unsigned(prefix));
    }
    return QByteArray(text, p - text);
}

// RFC 5952 text: lower-case hex without leading zeros, the longest run (first on a tie) of
// two or more zero groups written as "::". Done by hand so the key does not depend on how a
// libc's inet_ntop prints IPv4-compatible forms.
QByteArray formatIpv6(const quint8 *b, int prefix)
{
    unsigned groups[8];
    for (int i = 0; i < 8; ++i)
        groups[i] = (unsigned(b[2 * i]) << 8) | b[2 * i + 1];
    int bestStart = -1, bestLen = 0;
    for (int i = 0; i < 8;) {
        if (groups[i] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && groups[j] == 0)
            ++j;
        if (j - i > bestLen) {
            bestStart = i;
            bestLen = j - i;
        }
        i = j;
    }
    if (bestLen < 2)
        bestStart = -1;
    QByteArray out;
    out.reserve(44);
    for (int i = 0; i < 8; ++i) {
        if (i == bestStart) {
            out.append("::");
            i += bestLen - 1;
            continue;
        }
        if (i != 0 && out.back() != ':')
            out.append(':');
        appendHex16(out, groups[i]);
    }
    if (prefix >= 0) {
        out.append('/');
        appendDecimal(out, unsigned(prefix));
    }
    return out;
}

// A dotted quad as MTAs write it ("192.0.2.1": four parts of 1-3 digits, no leading zero,
// each at most 255), parsed here rather than by inet_pton, which copies, scans and checks
// more for every client of every RCPT. False for anything else; inet_pton then decides as
// before (it accepts no other IPv4 form, and gives the same bytes for these).
bool parseDottedQuad(QByteArrayView v, quint8 out[4])
{
    const char *p = v.data();
    const char *const end = p + v.size();
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (p == end || *p != '.')
                return false;
            ++p;
        }
        if (p == end || *p < '0' || *p > '9')
            return false;
        unsigned value = unsigned(*p++ - '0');
        int digits = 1;
        while (p != end && *p >= '0' && *p <= '9') {
            if (value == 0 || ++digits > 3)
                return false; // a leading zero, or too many digits
            value = value * 10 + unsigned(*p++ - '0');
        }
        if (value > 255)
            return false;
        out[part] = quint8(value);
    }
    return p == end;
}

QByteArray sanitised(QByteArrayView v)
{
    QByteArray out(v.first(std::min(v.size(), TripletNormaliser::kMaxFieldBytes)).toByteArray());
    std::replace_if(out.begin(), out.end(), isControl, '?');
    return out;
}

} // namespace

TripletNormaliser::TripletNormaliser(const GreylistConfig &config)
    : m_config(config)
    , m_rewriter(SenderRewriter::defaults())
{
    m_config.ipv4Prefix = std::clamp(m_config.ipv4Prefix, 0, 32);
    m_config.ipv6Prefix = std::clamp(m_config.ipv6Prefix, 0, 128);
}

bool TripletNormaliser::acceptableField(QByteArrayView field)
{
    return field.size() <= kMaxFieldBytes && !containsControlByte(field);
}

std::optional<TripletKey> TripletNormaliser::normalise(QByteArrayView clientAddress,
                                                       QByteArrayView sender,
                                                       QByteArrayView recipient) const
{
    if (!acceptableField(sender) || !acceptableField(recipient))
        return std::nullopt;
    std::optional<QByteArray> client = clientKey(clientAddress);
    if (!client)
        return std::nullopt;
    return TripletKey{std::move(*client), senderOf(sender), recipientOf(recipient)};
}

std::optional<QByteArray> TripletNormaliser::clientKey(QByteArrayView clientAddress) const
{
    QByteArrayView v = trimSpaces(clientAddress);
    if (v.isEmpty() || v.size() > kMaxAddressText)
        return std::nullopt;
    if (v.front() == '[') {
        if (v.back() != ']')
            return std::nullopt;
        v = v.sliced(1, v.size() - 2);
    }
    if (v.size() > 5 && (v.front() | 0x20) == 'i' &&
        QByteArrayView("ipv6:").compare(v.first(5), Qt::CaseInsensitive) == 0)
        v = v.sliced(5);
    if (const qsizetype zone = v.indexOf('%'); zone >= 0)
        v = v.first(zone);
    if (v.isEmpty())
        return std::nullopt;
    const int v4Prefix = m_config.lookupBySubnet ? m_config.ipv4Prefix : -1;
    const int v6Prefix = m_config.lookupBySubnet ? m_config.ipv6Prefix : -1;
    quint8 bytes[16];
    if (parseDottedQuad(v, bytes)) {
        if (v4Prefix >= 0)
            maskBits(bytes, 4, v4Prefix);
        return formatIpv4(bytes, v4Prefix);
    }

    char text[kMaxAddressText + 1];
    std::memcpy(text, v.data(), size_t(v.size()));
    text[v.size()] = '\0';
    if (std::memchr(text, '\0', size_t(v.size())) != nullptr)
        return std::nullopt; // an embedded NUL would let inet_pton read a prefix only

    if (v.indexOf(':') < 0) {
        if (inet_pton(AF_INET, text, bytes) != 1)
            return std::nullopt;
    } else {
        if (inet_pton(AF_INET6, text, bytes) != 1)
            return std::nullopt;
        static constexpr quint8 kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(bytes, kMapped, sizeof kMapped) != 0) {
            if (v6Prefix >= 0)
                maskBits(bytes, 16, v6Prefix);
            return formatIpv6(bytes, v6Prefix);
        }
        std::memmove(bytes, bytes + 12, 4); // ::ffff:a.b.c.d is the IPv4 client a.b.c.d
    }
    if (v4Prefix >= 0)
        maskBits(bytes, 4, v4Prefix);
    return formatIpv4(bytes, v4Prefix);
}

QByteArray TripletNormaliser::normaliseSender(QByteArrayView sender) const
{
    if (acceptableField(sender))
        return senderOf(sender);
    return senderOf(sanitised(sender));
}

QByteArray TripletNormaliser::normaliseSender(QByteArrayView sender,
                                              SenderRewriteTrace *trace) const
{
    return senderOf(acceptableField(sender) ? sender.toByteArray() : sanitised(sender), trace);
}

void TripletNormaliser::setSenderRewriter(std::shared_ptr<const SenderRewriter> rewriter)
{
    if (rewriter)
        m_rewriter = std::move(rewriter);
}

QByteArray TripletNormaliser::normaliseRecipient(QByteArrayView recipient) const
{
    if (acceptableField(recipient))
        return recipientOf(recipient);
    return recipientOf(sanitised(recipient));
}

QByteArray TripletNormaliser::senderOf(QByteArrayView clean, SenderRewriteTrace *trace) const
{
    // Lowered on the stack (fields are at most kMaxFieldBytes here), so the key costs one
    // allocation: its own bytes.
    const QByteArrayView stripped = stripAngles(clean);
    char buffer[kMaxFieldBytes];
    const qsizetype size = std::min(stripped.size(), kMaxFieldBytes);
    copyLoweredAscii(stripped.first(size), buffer);
    const QByteArrayView address(buffer, size);
    const qsizetype at = lastIndexOfByte(address, '@');
    if (!m_config.stripSenderTags || at < 0)
        return address.toByteArray(); // no domain: nothing per-message to recognise
    return m_rewriter->rewrite(address.first(at), address.sliced(at + 1), kMaxFieldBytes, trace);
}

QByteArray TripletNormaliser::recipientOf(QByteArrayView clean) const
{
    const auto once = [this](QByteArrayView in) {
        QByteArray address = lowered(stripAngles(in));
        const QByteArray &delimiters = m_config.recipientDelimiter;
        if (delimiters.isEmpty())
            return address;
        qsizetype at = lastIndexOfByte(address, '@');
        if (at < 0)
            at = address.size();
        // Like Postfix: the first delimiter character in the local part starts the
        // extension, and a local part that would become empty is not split. An empty
        // extension ("user+@d") is left alone: there is nothing per-message to fold.
        for (qsizetype i = 1; i < at; ++i) {
            if (delimiters.contains(address[i])) {
                if (i + 1 < at)
                    address.remove(i, at - i);
                break;
            }
        }
        // Usually nothing to trim: the address is returned as it is, not copied again.
        const QByteArrayView trimmed = trimSpaces(address);
        if (trimmed.size() == address.size())
            return address;
        return trimmed.toByteArray();
    };
    // Cutting the extension can expose spaces or brackets ("<<a>-b>"): normalise again until
    // nothing changes, so that a normalised recipient is stable (found by fuzz_triplet). A
    // pass that changes anything shortens the address, so this ends; real addresses have no
    // brackets left and take one pass.
    QByteArray out = once(clean);
    while (out.contains('<') || out.contains('>') || out.endsWith(' ')) {
        QByteArray again = once(out);
        if (again == out)
            break;
        out = std::move(again);
    }
    return out;
}

} // namespace greygate
