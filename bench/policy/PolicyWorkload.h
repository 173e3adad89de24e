// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace greygate {

// The triplets and the requests of a benchmark run. Triplet i (0 <= i < triplets) is a pure
// function of i, so separate runs (a prefill, then measurements) and separate threads agree
// on what "triplet i" is without sharing tables: one million triplets cost no memory here.
//
// Distinctness: sender s = i mod Senders has a unique local part; for a given sender the
// recipient index (i / Senders + h(s)) mod Recipients differs for every i, so the
// (sender, recipient) pairs, hence the triplets, are all distinct. Client addresses are
// spread over ~250,000 /24 networks. Local parts and domains are letters only: postgrey and
// greygated reduce digits and tags (VERP, BATV, +ext), which would fold distinct triplets.
class PolicyWorkload
{
public:
    static constexpr std::uint64_t Senders = 200000;
    static constexpr std::uint64_t Recipients = 50000;
    static constexpr std::uint64_t MaxTriplets = Senders * Recipients;

    // newRatio: probability that a request is the first sight of a triplet (while unseen
    // triplets remain); the rest retry a triplet already sent, drawn uniformly, as Postfix
    // servers do when they come back after a deferral. firstUnseen: triplets [0, firstUnseen)
    // were sent by an earlier run against the same server.
    PolicyWorkload(std::uint64_t triplets, double newRatio, std::uint64_t firstUnseen);

    std::uint64_t triplets() const { return m_triplets; }
    std::uint64_t nextUnseen() const;

    struct Rng
    {
        std::uint64_t state;
        std::uint64_t next(); // splitmix64: fast, good enough for workload draws
    };

    // Picks the triplet of the next request; firstSight tells which kind it was.
    std::uint64_t pick(Rng &rng, bool &firstSight);

    // Appends a complete Postfix 3.7 smtpd_access_policy RCPT request (ending with the
    // empty line) for triplet index, as connection conn would send its seq-th request.
    void appendRequest(std::string &out, std::uint64_t index, std::uint32_t conn, std::uint64_t seq,
                       Rng &rng) const;

    static std::uint64_t mix(std::uint64_t x);

private:
    std::uint64_t m_triplets;
    std::uint64_t m_newThreshold; // newRatio scaled to 2^64
    std::atomic<std::uint64_t> m_nextUnseen;
};

} // namespace greygate
