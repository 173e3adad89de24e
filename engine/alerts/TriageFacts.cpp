// SPDX-License-Identifier: GPL-3.0-or-later
#include "TriageFacts.h"

#include "dns/DnsLookup.h"
#include "events/Event.h"
#include "greylist/TripletNormaliser.h"
#include "spf/SpfEvaluator.h"

#include <QHostAddress>
#include <QPointer>
#include <QVarLengthArray>

namespace greygate {

namespace {

QByteArray spfKey(const QByteArray &client, const QByteArray &sender)
{
    return client + '\n' + sender.toLower();
}

// The words end-user address pools are named with ("dsl-203-0-113-9.dyn.isp.example").
constexpr std::array kPoolWords{"dyn",    "dynamic", "dhcp",      "pool",      "dsl",    "adsl",
                                "vdsl",   "cable",   "ppp",       "pppoe",     "dial",   "dialup",
                                "client", "cust",    "customer",  "broadband", "bb",     "home",
                                "user",   "res",     "fttx",      "ftth",      "mobile", "wifi",
                                "nat",    "cpe",     "unassigned"};
// And the first labels mail servers tend to carry ("mail2", "mx-out", "smtp01").
constexpr std::array kMailWords{"mail",     "mx",      "smtp", "mta",    "relay",   "out",
                                "outbound", "mailout", "mo",   "mailer", "postfix", "exchange",
                                "gateway",  "mailgw",  "esa",  "bounce"};

// A label's word parts: "mx-out02" -> "mx", "out" (digits and separators split them).
QList<QByteArray> wordsOf(QByteArrayView label)
{
    QList<QByteArray> words;
    QByteArray word;
    for (char c : label) {
        if (c >= 'a' && c <= 'z') {
            word.append(c);
        } else if (!word.isEmpty()) {
            words.append(word);
            word.clear();
        }
    }
    if (!word.isEmpty())
        words.append(word);
    return words;
}

bool inList(const QByteArray &word, const auto &list)
{
    return std::any_of(list.begin(), list.end(), [&](const char *w) { return word == w; });
}

// The triplet's key for the address table, on the stack.
using TripletId = QVarLengthArray<char, 384>;
void tripletId(TripletId &id, QByteArrayView network, QByteArrayView sender,
               QByteArrayView recipient)
{
    id.append(network.data(), network.size());
    id.append('\n');
    id.append(sender.data(), sender.size());
    id.append('\n');
    id.append(recipient.data(), recipient.size());
}

} // namespace

TriageFacts::TriageFacts(QObject *parent)
    : QObject(parent)
{}

void TriageFacts::setLookups(DnsLookup *dns, SpfEvaluator *spf)
{
    m_dns = dns;
    m_spf = spf;
}

void TriageFacts::noteAttempt(const Event &attempt)
{
    if (attempt.outcome != AttemptOutcome::Deferred || !m_normaliser)
        return;
    // Kept when it was decided (the ids before it were kept too, or were never read: a
    // burst the tick skipped).
    while (!m_noted.empty() && m_noted.front() < attempt.id)
        m_noted.pop_front();
    if (!m_noted.empty() && m_noted.front() == attempt.id) {
        m_noted.pop_front();
        return;
    }
    const std::optional<TripletKey> key =
        m_normaliser->normalise(attempt.client, attempt.sender, attempt.recipient);
    if (key)
        keep(attempt.client, attempt.clientName, key->client, key->sender, key->recipient);
}

void TriageFacts::noteDeferred(quint64 eventId, const QByteArray &client,
                               const QByteArray &clientName, const QByteArray &network,
                               const QByteArray &sender, const QByteArray &recipient)
{
    if (!m_normaliser)
        return; // as noteAttempt(): no address is kept without the engine's keying
    keep(client, clientName, network, sender, recipient);
    if (m_noted.size() >= kMaxNoted)
        m_noted.clear(); // the tick stopped reading: it notes them again (the same facts)
    m_noted.push_back(eventId);
}

void TriageFacts::keep(const QByteArray &client, const QByteArray &clientName,
                       const QByteArray &network, const QByteArray &sender,
                       const QByteArray &recipient)
{
    TripletId id;
    tripletId(id, network, sender, recipient);
    m_addresses.insert(QByteArrayView(id.constData(), id.size()), client, ++m_addressesKept);
    if (!clientName.isEmpty() && clientName.size() <= 255) {
        // One client's many triplets: its name is usually known already (no copy, no node).
        const auto known = m_names.constFind(client);
        if (known != m_names.cend() && known->source == Name::Source::Postfix &&
            known->name.size() == clientName.size() &&
            qstrnicmp(known->name.constData(), known->name.size(), clientName.constData(),
                      clientName.size()) == 0)
            return;
        setName(client, Name{clientName.toLower(), Name::Source::Postfix});
    }
}

std::optional<QByteArray> TriageFacts::addressOf(const QByteArray &network,
                                                 const QByteArray &sender,
                                                 const QByteArray &recipient) const
{
    TripletId id;
    tripletId(id, network, sender, recipient);
    const std::optional<PassTable::Pass> kept =
        m_addresses.find(QByteArrayView(id.constData(), id.size()));
    return kept ? std::optional<QByteArray>(kept->client) : std::nullopt;
}

void TriageFacts::setName(const QByteArray &client, Name name)
{
    if (m_names.size() >= kMaxEntries && !m_names.contains(client))
        m_names.clear(); // a cheap bound: the names are learnt again when asked for
    m_names.insert(client, std::move(name));
}

std::optional<TriageFacts::Name> TriageFacts::name(const QByteArray &client) const
{
    const auto it = m_names.constFind(client);
    return it == m_names.cend() ? std::nullopt : std::optional<Name>(*it);
}

std::optional<TriageFacts::Spf> TriageFacts::spf(const QByteArray &client,
                                                 const QByteArray &sender) const
{
    const auto it = m_spfResults.constFind(spfKey(client, sender));
    return it == m_spfResults.cend() ? std::nullopt : std::optional<Spf>(*it);
}

bool TriageFacts::spfPending(const QByteArray &client, const QByteArray &sender) const
{
    return m_spfPending.contains(spfKey(client, sender));
}

void TriageFacts::request(const QByteArray &client, const QByteArray &sender,
                          const QByteArray &helo)
{
    const QHostAddress address(QString::fromLatin1(client));
    if (address.isNull())
        return; // an SPF-keyed or malformed client part: nothing to look up
    if (m_dns && !m_names.contains(client) && !m_namesPending.contains(client) &&
        m_namesPending.size() < kMaxInFlight)
        lookUpName(client);
    const QByteArray key = spfKey(client, sender);
    if (!m_spf || sender.isEmpty() || m_spfResults.contains(key) || m_spfPending.contains(key) ||
        m_spfPending.size() >= kMaxInFlight)
        return;
    m_spfPending.insert(key, true);
    m_spf->checkSender(address, sender, helo,
                       [self = QPointer<TriageFacts>(this), key](const SpfOutcome &outcome) {
                           if (!self)
                               return;
                           self->m_spfPending.remove(key);
                           // A temporary error is not a fact: asked again next time.
                           if (outcome.result == SpfResult::TempError)
                               return;
                           if (self->m_spfResults.size() >= kMaxEntries)
                               self->m_spfResults.clear();
                           QByteArray detail = outcome.domain;
                           if (!outcome.via.isEmpty())
                               detail += QByteArrayLiteral(" via ") + outcome.via;
                           else if (!outcome.reason.isEmpty())
                               detail += QByteArrayLiteral(": ") + outcome.reason;
                           self->m_spfResults.insert(key, Spf{outcome.result, detail.left(300)});
                       });
}

void TriageFacts::lookUpName(const QByteArray &client)
{
    const QByteArray reverse = reverseName(client);
    if (reverse.isEmpty())
        return;
    m_namesPending.insert(client, true);
    m_dns->lookup(reverse, DnsType::PTR,
                  [self = QPointer<TriageFacts>(this), client](const DnsAnswer &answer) {
                      if (!self)
                          return;
                      if (answer.temporaryFailure()) {
                          self->m_namesPending.remove(client); // asked again next time
                          return;
                      }
                      if (answer.isVoid()) {
                          self->m_namesPending.remove(client);
                          self->setName(client, Name{});
                          return;
                      }
                      self->confirm(client, answer.records.first().target);
                  });
}

void TriageFacts::confirm(const QByteArray &client, const QByteArray &ptrName)
{
    // Forward-confirmed reverse DNS, as Postfix verifies client_name: anyone can publish a
    // PTR record naming mail.bigbank.example for their own address.
    const QHostAddress address(QString::fromLatin1(client));
    const DnsType type =
        address.protocol() == QAbstractSocket::IPv6Protocol ? DnsType::AAAA : DnsType::A;
    m_dns->lookup(
        ptrName, type,
        [self = QPointer<TriageFacts>(this), client, ptrName, address](const DnsAnswer &answer) {
            if (!self)
                return;
            self->m_namesPending.remove(client);
            if (answer.temporaryFailure())
                return;
            const bool confirmed =
                std::any_of(answer.records.cbegin(), answer.records.cend(),
                            [&](const DnsRecord &r) { return r.address.isEqual(address); });
            self->setName(client,
                          Name{ptrName, confirmed ? Name::Source::Ptr : Name::Source::PtrOnly});
        });
}

QByteArray TriageFacts::reverseName(const QByteArray &client)
{
    const QHostAddress address(QString::fromLatin1(client));
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        const quint32 v4 = address.toIPv4Address();
        return QByteArray::number(v4 & 0xff) + '.' + QByteArray::number((v4 >> 8) & 0xff) + '.' +
               QByteArray::number((v4 >> 16) & 0xff) + '.' + QByteArray::number(v4 >> 24) +
               QByteArrayLiteral(".in-addr.arpa");
    }
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return {};
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    QByteArray out;
    constexpr char kHex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
        out.append(kHex[v6[i] & 0xf]).append('.');
        out.append(kHex[v6[i] >> 4]).append('.');
    }
    return out + QByteArrayLiteral("ip6.arpa");
}

bool TriageFacts::looksLikeMta(QByteArrayView name, QByteArrayView client, QString *why)
{
    const QByteArray lower = name.toByteArray().toLower();
    const QString shown = QString::fromUtf8(lower);
    // The address written into the name ("203-0-113-9", "203.0.113.9", "cpe-203-0-113-9"):
    // how ISPs name whole pools. Two of its numbers in the name are enough to tell.
    const QHostAddress address(QString::fromLatin1(client.toByteArray()));
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        const quint32 v4 = address.toIPv4Address();
        int found = 0;
        for (int shift : {0, 8}) {
            const QByteArray octet = QByteArray::number((v4 >> shift) & 0xff);
            for (qsizetype at = lower.indexOf(octet); at >= 0; at = lower.indexOf(octet, at + 1)) {
                const bool startOk = at == 0 || !std::isdigit(uchar(lower[at - 1]));
                const qsizetype end = at + octet.size();
                const bool endOk = end == lower.size() || !std::isdigit(uchar(lower[end]));
                if (startOk && endOk) {
                    ++found;
                    break;
                }
            }
        }
        if (found == 2) {
            *why = QStringLiteral("%1 holds the client's address: an address-pool name").arg(shown);
            return false;
        }
    }
    const QList<QByteArray> labels = lower.split('.');
    // The host part and the label after it ("x.dyn.isp.example") name the pool, not the ISP.
    for (qsizetype i = 0; i < labels.size() - 2 && i < 2; ++i) {
        for (const QByteArray &word : wordsOf(labels[i])) {
            if (inList(word, kPoolWords)) {
                *why = QStringLiteral("%1: \"%2\" names an end-user address pool")
                           .arg(shown, QString::fromLatin1(word));
                return false;
            }
        }
    }
    if (labels.size() < 2) {
        *why = QStringLiteral("%1 is not a fully qualified name").arg(shown);
        return false;
    }
    for (const QByteArray &word : wordsOf(labels.first())) {
        if (inList(word, kMailWords)) {
            *why = QStringLiteral("%1 is named like a mail server").arg(shown);
            return true;
        }
    }
    *why = QStringLiteral("%1: a verified name with no address-pool pattern").arg(shown);
    return true;
}

} // namespace greygate
