// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "GreylistConfig.h"
#include "Triplet.h"

#include <QByteArray>
#include <optional>

namespace greygate {

// Turns what the client said into the triplet greylisting keys on: the client address
// grouped by subnet (large senders retry from pools), the sender lower-cased with the
// per-message parts of VERP, SRS, BATV and +tag addresses removed, the recipient
// lower-cased. Returns nullopt for input that cannot be a triplet (a bad address).
class TripletNormaliser
{
public:
    explicit TripletNormaliser(const GreylistConfig &config)
        : m_config(config)
    {}

    std::optional<TripletKey> normalise(QByteArrayView clientAddress, QByteArrayView sender,
                                        QByteArrayView recipient) const;

    // The network the client belongs to ("192.0.2.0/24"), or the exact address when
    // lookup by subnet is off. nullopt for a malformed address.
    std::optional<QByteArray> clientKey(QByteArrayView clientAddress) const;
    QByteArray normaliseSender(QByteArrayView sender) const;
    QByteArray normaliseRecipient(QByteArrayView recipient) const;

private:
    GreylistConfig m_config;
};

} // namespace greygate
