// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Clock.h"

#include <QByteArray>
#include <optional>

namespace greygate {

// A normalised triplet: the client's network (or exact address), the reduced envelope
// sender and the recipient, all lower-case ASCII/UTF-8 bytes. Bytes rather than QString
// because the hot path never needs Unicode semantics and conversions cost.
struct TripletKey
{
    QByteArray client; // "192.0.2.0/24", "2001:db8::/64" or an exact address
    QByteArray sender; // "" for the null sender <>
    QByteArray recipient;

    // One flat key for hash maps and the store. Fields are joined by '\x1f' (unit
    // separator), which the normaliser never lets through, so split() is unambiguous.
    QByteArray joined() const;
    static std::optional<TripletKey> split(const QByteArray &joined);

    friend bool operator==(const TripletKey &, const TripletKey &) = default;
};

// GreylistEngine::prefetch()'s hashes of a triplet, for its decide(). It names the key's
// byte arrays (their data, not owned) so that a hint made for another key is never used.
struct TripletLookupHint
{
    const char *client = nullptr;
    const char *sender = nullptr;
    const char *recipient = nullptr;
    quint32 tripletHash = 0;
    quint32 clientHash = 0;

    bool isFor(const TripletKey &key) const
    {
        return client && client == key.client.constData() && sender == key.sender.constData() &&
               recipient == key.recipient.constData();
    }
};

enum class TripletStatus : quint8
{
    Deferred = 0, // seen, not yet retried successfully
    Passed = 1,   // retried after the delay within the window; lives for the passed lifetime
};

struct TripletState
{
    Seconds firstSeen = 0;
    Seconds lastSeen = 0;
    Seconds passedAt = 0; // 0 while deferred
    quint32 attempts = 0; // every attempt seen for this triplet, including the first
    TripletStatus status = TripletStatus::Deferred;

    friend bool operator==(const TripletState &, const TripletState &) = default;
};

struct TripletRecord
{
    TripletKey key;
    TripletState state;
};

// A client network learned by auto-whitelisting (postgrey's --auto-whitelist-clients).
struct ClientRecord
{
    QByteArray client;  // same form as TripletKey::client
    quint32 passes = 0; // triplets of this client that completed greylisting
    Seconds lastSeen = 0;
};

// "Sender Failed to Retry" and, later, other rejections: the Rejection Viewer's rows.
struct RejectionEntry
{
    Seconds time = 0;
    QByteArray reason; // "Sender Failed to Retry"
    TripletKey key;
    quint32 attempts = 0;
    Seconds firstSeen = 0;
};

} // namespace greygate
