// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SpfResult.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <functional>
#include <optional>

namespace greygate {

class SpfEvaluator;

// --triplet-key: what the client part of a triplet is.
enum class TripletKeyMode : quint8
{
    Ip,         // the client's network (or address): postgrey's triplet
    Spf,        // the sender's domain when its SPF record passes the client
    SpfNeutral, // the same for pass or neutral
};

// How one request's triplet is keyed, and why, for the logs and the explanation.
struct SpfKeying
{
    std::optional<QByteArray> client; // "spf:example.com"; nullopt: keep the IP-based key
    SpfOutcome outcome;
    QByteArray explanation; // "SPF pass for example.com via include:_spf.example.net ..."
};

// SPF-keyed triplets (docs/spf.md): a large sender retries from another IP of its pool (or
// over IPv6 after IPv4); when SPF authorises both, the triplet's client part is the
// SPF-verified domain, so the retry matches. Anything else (fail, softfail, none, a DNS
// failure, a timeout) keeps the IP-based triplet: SPF never bypasses greylisting, and a
// DNS outage only means greylisting by IP as before.
// A QObject so that the daemon's composition can own it with the resolver and evaluator.
class SpfTripletKeyer final : public QObject
{
    Q_OBJECT

public:
    using Callback = std::function<void(SpfKeying &&)>;

    SpfTripletKeyer(SpfEvaluator &spf, TripletKeyMode mode, QObject *parent = nullptr);

    // clientAddress as Postfix sends it; sender raw (empty for <>: the HELO identity is
    // checked then, RFC 7208 §2.3). done is called exactly once, maybe before this returns.
    void key(QByteArrayView clientAddress, QByteArrayView sender, QByteArrayView helo,
             Callback done);

    TripletKeyMode mode() const { return m_mode; }
    SpfEvaluator &evaluator() const { return m_spf; }
    static std::optional<TripletKeyMode> parseMode(QStringView text);
    static const char *modeName(TripletKeyMode mode);
    // The key's client part for an SPF-verified domain.
    static QByteArray clientKeyFor(const QByteArray &domain) { return "spf:" + domain; }

private:
    SpfEvaluator &m_spf;
    TripletKeyMode m_mode;
};

} // namespace greygate
