// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "GreylistConfig.h"
#include "Triplet.h"

#include <QByteArray>
#include <memory>
#include <optional>

namespace greygate {

class SenderRewriter;
struct SenderRewriteTrace;

// Turns what the client said into the triplet greylisting keys on: the client address
// grouped by subnet (large senders retry from pools), the sender lower-cased with the
// per-message parts of VERP, SRS, BATV and +tag addresses removed by the sender rewriting
// table (SenderRewriter; the built-in one unless setSenderRewriter() was given another;
// none when GreylistConfig::stripSenderTags is off), the recipient lower-cased. Returns nullopt for
// input that cannot be a triplet (a bad address).
//
// Hostile input: normalise() REJECTS (nullopt) any field longer than kMaxFieldBytes or
// holding a control byte (0x00-0x1f, 0x7f; 0x1f is the key separator), so nothing of it can
// reach a key or the store. The single-field helpers cannot say "no": they SANITISE instead
// (control bytes become '?', the input is cut at kMaxFieldBytes), which is good for display
// but means callers that build keys must go through normalise().
// No QString, no regex: this runs once per RCPT on the hot path.
class TripletNormaliser
{
public:
    static constexpr qsizetype kMaxFieldBytes = 512;

    explicit TripletNormaliser(const GreylistConfig &config);

    std::optional<TripletKey> normalise(QByteArrayView clientAddress, QByteArrayView sender,
                                        QByteArrayView recipient) const;

    // The network the client belongs to ("192.0.2.0/24", "2001:db8:1:2::/64"), or the exact
    // canonical address when lookup by subnet is off. IPv4-mapped IPv6 (::ffff:192.0.2.1) is
    // treated as IPv4. Accepts surrounding [] and an "IPv6:" prefix; drops a %zone suffix.
    // nullopt for a malformed address.
    std::optional<QByteArray> clientKey(QByteArrayView clientAddress) const;
    // "" for the null sender ("" or "<>").
    QByteArray normaliseSender(QByteArrayView sender) const;
    // The same, telling which rewriting rules applied (rewriting.test).
    QByteArray normaliseSender(QByteArrayView sender, SenderRewriteTrace *trace) const;
    QByteArray normaliseRecipient(QByteArrayView recipient) const;

    // True when the field may go into a key as it is (bounded, no control bytes).
    static bool acceptableField(QByteArrayView field);

    // The sender rewriting table: applies to the keys of decisions made from now on (the
    // triplets already held keep the keys they were made with). Never null. On the engine's
    // thread only, like every other change to it.
    void setSenderRewriter(std::shared_ptr<const SenderRewriter> rewriter);
    const std::shared_ptr<const SenderRewriter> &senderRewriter() const { return m_rewriter; }

private:
    QByteArray senderOf(QByteArrayView clean, SenderRewriteTrace *trace = nullptr) const;
    QByteArray recipientOf(QByteArrayView clean) const;

    GreylistConfig m_config;
    std::shared_ptr<const SenderRewriter> m_rewriter;
};

} // namespace greygate
