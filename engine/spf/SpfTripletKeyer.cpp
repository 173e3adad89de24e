// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfTripletKeyer.h"

#include "SpfEvaluator.h"

#include <QHostAddress>

namespace greygate {

namespace {

// The domain goes into the triplet's key (and Redis key names): letters, digits, '-', '_'
// and '.' only, which every real mail domain is. Anything else keys by IP.
bool plainDomain(QByteArrayView domain)
{
    if (domain.isEmpty() || domain.size() > 253)
        return false;
    for (const char c : domain) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

} // namespace

SpfTripletKeyer::SpfTripletKeyer(SpfEvaluator &spf, TripletKeyMode mode, QObject *parent)
    : QObject(parent)
    , m_spf(spf)
    , m_mode(mode)
{}

std::optional<TripletKeyMode> SpfTripletKeyer::parseMode(QStringView text)
{
    const QString t = text.trimmed().toString().toLower();
    if (t == u"ip")
        return TripletKeyMode::Ip;
    if (t == u"spf")
        return TripletKeyMode::Spf;
    if (t == u"spf-neutral")
        return TripletKeyMode::SpfNeutral;
    return std::nullopt;
}

const char *SpfTripletKeyer::modeName(TripletKeyMode mode)
{
    switch (mode) {
    case TripletKeyMode::Ip:
        return "ip";
    case TripletKeyMode::Spf:
        return "spf";
    case TripletKeyMode::SpfNeutral:
        return "spf-neutral";
    }
    return "ip";
}

void SpfTripletKeyer::key(QByteArrayView clientAddress, QByteArrayView sender, QByteArrayView helo,
                          Callback done)
{
    QByteArrayView address = clientAddress;
    if (address.startsWith("IPv6:") || address.startsWith("ipv6:"))
        address = address.sliced(5);
    QHostAddress client;
    if (m_mode == TripletKeyMode::Ip || address.size() > 64 ||
        !client.setAddress(QString::fromLatin1(address))) {
        SpfKeying k;
        k.explanation = QByteArrayLiteral("IP-based triplet");
        done(std::move(k));
        return;
    }
    QByteArray identity = sender.toByteArray();
    if (identity == "<>")
        identity.clear();
    const TripletKeyMode mode = m_mode;
    m_spf.checkSender(
        client, identity, helo.toByteArray().toLower(),
        [mode, nullSender = identity.isEmpty(), done = std::move(done)](const SpfOutcome &o) {
            SpfKeying k;
            k.outcome = o;
            const bool keyed =
                plainDomain(o.domain) &&
                (o.result == SpfResult::Pass ||
                 (mode == TripletKeyMode::SpfNeutral && o.result == SpfResult::Neutral));
            const QByteArray identity =
                nullSender ? QByteArrayLiteral(" (HELO identity)") : QByteArray();
            if (keyed) {
                k.client = clientKeyFor(o.domain);
                k.explanation =
                    QByteArray("SPF ") + spfResultName(o.result) + " for " + o.domain + identity;
                if (!o.via.isEmpty())
                    k.explanation += " via " + o.via;
            } else {
                k.explanation = QByteArray("IP-based triplet: SPF ") + spfResultName(o.result) +
                                (o.domain.isEmpty() ? QByteArray() : " for " + o.domain + identity);
                if (!o.reason.isEmpty())
                    k.explanation += " (" + o.reason + ')';
            }
            done(std::move(k));
        });
}

} // namespace greygate
