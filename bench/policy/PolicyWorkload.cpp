// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyWorkload.h"

#include <algorithm>
#include <cmath>

namespace greygate {

namespace {

constexpr std::uint64_t SenderDomains = 20000;
constexpr std::uint64_t LocalDomains = 20;
constexpr std::uint64_t ClientNetworks = 250000;

// Bijective base-26: every n gets its own non-empty string of letters.
void appendLetters(std::string &out, std::uint64_t n)
{
    char buffer[16];
    int length = 0;
    ++n;
    while (n > 0 && length < int(sizeof buffer)) {
        --n;
        buffer[length++] = char('a' + n % 26);
        n /= 26;
    }
    while (length > 0)
        out.push_back(buffer[--length]);
}

void appendNumber(std::string &out, std::uint64_t n)
{
    char buffer[24];
    int length = 0;
    do {
        buffer[length++] = char('0' + n % 10);
        n /= 10;
    } while (n > 0);
    while (length > 0)
        out.push_back(buffer[--length]);
}

void appendHex(std::string &out, std::uint64_t n, int width)
{
    static constexpr char Digits[] = "0123456789ABCDEF";
    for (int shift = (width - 1) * 4; shift >= 0; shift -= 4)
        out.push_back(Digits[(n >> shift) & 0xf]);
}

void appendAddress(std::string &out, std::uint64_t net, std::uint64_t host)
{
    // Spread the networks over public-looking first octets (11..210), skipping 127.
    const std::uint64_t spread = (net * 2654435761ULL) & 0xffffff;
    std::uint64_t a = 11 + (spread >> 16) % 200;
    if (a == 127)
        a = 128;
    appendNumber(out, a);
    out.push_back('.');
    appendNumber(out, (spread >> 8) & 0xff);
    out.push_back('.');
    appendNumber(out, spread & 0xff);
    out.push_back('.');
    appendNumber(out, 1 + host % 254);
}

void appendSenderDomain(std::string &out, std::uint64_t sender)
{
    out += "mail.";
    appendLetters(out, PolicyWorkload::mix(sender ^ 0x5e4d) % SenderDomains);
    out += ".example";
}

void appendClientName(std::string &out, std::uint64_t net, std::uint64_t sender)
{
    out += "mx";
    appendLetters(out, net);
    out.push_back('.');
    appendSenderDomain(out, sender);
}

} // namespace

PolicyWorkload::PolicyWorkload(std::uint64_t triplets, double newRatio, std::uint64_t firstUnseen)
    : m_triplets(std::clamp<std::uint64_t>(triplets, 1, MaxTriplets))
    , m_newThreshold(newRatio >= 1.0 ? UINT64_MAX
                                     : std::uint64_t(std::ldexp(std::max(newRatio, 0.0), 64)))
    , m_nextUnseen(std::min(firstUnseen, m_triplets))
{}

std::uint64_t PolicyWorkload::nextUnseen() const
{
    return std::min(m_nextUnseen.load(std::memory_order_relaxed), m_triplets);
}

std::uint64_t PolicyWorkload::mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t PolicyWorkload::Rng::next()
{
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t PolicyWorkload::pick(Rng &rng, bool &firstSight)
{
    const std::uint64_t seen = nextUnseen();
    if (seen == 0 || (seen < m_triplets && rng.next() <= m_newThreshold)) {
        const std::uint64_t index = m_nextUnseen.fetch_add(1, std::memory_order_relaxed);
        if (index < m_triplets) {
            firstSight = true;
            return index;
        }
    }
    firstSight = false;
    // Multiply-shift maps a 64-bit draw uniformly enough onto [0, seen).
    const std::uint64_t bound = std::max<std::uint64_t>(nextUnseen(), 1);
    __extension__ using Wide = unsigned __int128;
    return std::uint64_t(Wide(rng.next()) * bound >> 64);
}

void PolicyWorkload::appendRequest(std::string &out, std::uint64_t index, std::uint32_t conn,
                                   std::uint64_t seq, Rng &rng) const
{
    const std::uint64_t sender = index % Senders;
    const std::uint64_t recipient = (index / Senders + mix(sender)) % Recipients;
    const std::uint64_t net = mix(index ^ 0xc11e47) % ClientNetworks;
    const std::uint64_t host = mix(index);
    const bool unknownClient = host % 8 == 0; // no reverse DNS, as Postfix reports it

    out += "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
           "client_address=";
    appendAddress(out, net, host >> 8);
    out += "\nclient_name=";
    if (unknownClient)
        out += "unknown";
    else
        appendClientName(out, net, sender);
    out += "\nclient_port=";
    appendNumber(out, 1024 + rng.next() % 64000);
    out += "\nreverse_client_name=";
    if (unknownClient)
        out += "unknown";
    else
        appendClientName(out, net, sender);
    out += "\nserver_address=127.0.0.1\nserver_port=25\nhelo_name=";
    appendClientName(out, net, sender);
    out += "\nsender=";
    appendLetters(out, sender);
    out.push_back('@');
    appendSenderDomain(out, sender);
    out += "\nrecipient=";
    appendLetters(out, recipient);
    out += "@dept";
    appendLetters(out, recipient % LocalDomains);
    out += ".greygate.example\nrecipient_count=0\nqueue_id=";
    appendHex(out, (std::uint64_t(conn) << 32) ^ seq, 10);
    out += "\ninstance=";
    appendHex(out, conn, 4);
    out.push_back('.');
    appendHex(out, seq >> 16, 8);
    out.push_back('.');
    appendHex(out, seq & 0xffff, 4);
    out += "\nsize=";
    appendNumber(out, 1000 + rng.next() % 200000);
    out += "\netrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
           "ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
           "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n"
           "encryption_keysize=256\npolicy_context=\ncompatibility_level=3.6\n"
           "mail_version=3.7.11\n\n";
}

} // namespace greygate
