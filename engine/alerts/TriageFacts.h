// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PassTable.h"
#include "spf/SpfResult.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QString>
#include <deque>
#include <optional>

namespace greygate {

class DnsLookup;
class SpfEvaluator;
class TripletNormaliser;
struct Event;

// What the failed-to-retry triage (docs/api.md, "triage.list") knows about a failed triplet
// beyond the rejection log (which keeps the client's network, not its address): the
// client's address, from the greylisted attempts; its name, from Postfix (client_name, recorded
// with the attempts) or from a PTR lookup confirmed forward (the SMTP proxy, or a client Postfix
// gave no name for), and the SPF result for the sender from that client. Lookups are started when a
// retry window closes (FailedToRetry) or when triage.list meets a triplet with no facts yet; they
// run asynchronously on the resolver's event loop and are cached here, so no decision ever waits
// for them and triage.list answers from what is known.
//
// Bounded: kMaxAddresses triplet addresses (a flat table keyed by a hash of the triplet, the
// oldest of a bucket replaced: no allocation per greylisted triplet), kMaxEntries names and as
// many SPF results (a full table is emptied: names and SPF are re-learnt on demand, a failure
// whose address was forgotten shows those factors as unknown), kMaxInFlight lookups at once.
class TriageFacts : public QObject
{
    Q_OBJECT

public:
    static constexpr qsizetype kMaxEntries = 50'000;
    // Greylisted attempts are many more than failures: the addresses of the last ~200,000
    // greylisted triplets cover a retry window of a busy gateway (a table of 262,144 slots,
    // 10 MiB, made at the first deferral).
    static constexpr qsizetype kMaxAddresses = 200'000;
    static constexpr int kMaxInFlight = 64;

    struct Name
    {
        enum class Source : quint8
        {
            Postfix, // client_name: verified by Postfix
            Ptr,     // PTR, and the name's A/AAAA records hold the client address
            PtrOnly, // PTR whose name does not resolve back to the client
            None,    // no PTR record (or Postfix had none and no resolver here)
        };
        QByteArray name;
        Source source = Source::None;
    };
    struct Spf
    {
        SpfResult result = SpfResult::None;
        QByteArray detail; // the domain and the matching mechanism, or the reason
    };

    explicit TriageFacts(QObject *parent = nullptr);

    // The resolver for PTR lookups and the evaluator for SPF; either may be nullptr (that
    // factor is then unknown unless Postfix told the name). They outlive this object.
    void setLookups(DnsLookup *dns, SpfEvaluator *spf);
    // How the engine keys triplets: a failed triplet's client network is matched back to the
    // address of its attempts with it. Without one no address is known (nor looked up).
    void setNormaliser(const TripletNormaliser *normaliser) { m_normaliser = normaliser; }
    bool canLookUpNames() const { return m_dns != nullptr; }
    bool canCheckSpf() const { return m_spf != nullptr; }

    // An Attempt event: keeps a greylisted triplet's client address and the name Postfix
    // gave (greylisted attempts only: those are the triplets that may fail to retry).
    void noteAttempt(const Event &attempt);
    // The same for a deferral as it is decided, with the triplet the decision normalised
    // (DecisionRecorder's deferral tap, synchronous path): noteAttempt() then passes over
    // event `eventId` instead of normalising its triplet again. Noting one twice is harmless.
    void noteDeferred(quint64 eventId, const QByteArray &client, const QByteArray &clientName,
                      const QByteArray &network, const QByteArray &sender,
                      const QByteArray &recipient);
    // The address the triplet (its client part as the store keeps it) was last tried from.
    std::optional<QByteArray> addressOf(const QByteArray &network, const QByteArray &sender,
                                        const QByteArray &recipient) const;
    // A triplet that failed to retry (or is listed by the triage), by its client's address:
    // starts what is missing.
    void request(const QByteArray &client, const QByteArray &sender, const QByteArray &helo = {});

    std::optional<Name> name(const QByteArray &client) const;
    std::optional<Spf> spf(const QByteArray &client, const QByteArray &sender) const;
    bool namePending(const QByteArray &client) const { return m_namesPending.contains(client); }
    bool spfPending(const QByteArray &client, const QByteArray &sender) const;

    // Whether a verified name looks like a mail server's rather than an end-user's
    // (dynamic-pool) address; *why says which way and because of what.
    static bool looksLikeMta(QByteArrayView name, QByteArrayView client, QString *why);
    // "4.3.2.1.in-addr.arpa" / the ip6.arpa nibbles; empty for anything not an address.
    static QByteArray reverseName(const QByteArray &client);

private:
    void lookUpName(const QByteArray &client);
    void confirm(const QByteArray &client, const QByteArray &ptrName);
    void setName(const QByteArray &client, Name name);
    void keep(const QByteArray &client, const QByteArray &clientName, const QByteArray &network,
              const QByteArray &sender, const QByteArray &recipient);

    const TripletNormaliser *m_normaliser = nullptr;
    DnsLookup *m_dns = nullptr;
    PassTable m_addresses{kMaxAddresses}; // triplet -> the client's address
    qint64 m_addressesKept = 0;           // the table's "time": the oldest is replaced
    SpfEvaluator *m_spf = nullptr;
    QHash<QByteArray, Name> m_names;
    QHash<QByteArray, Spf> m_spfResults; // client + '\n' + lower-cased sender
    QHash<QByteArray, bool> m_namesPending;
    QHash<QByteArray, bool> m_spfPending;
    // Ids of the deferrals noteDeferred() kept, in order, until noteAttempt() reaches them:
    // about a second's worth (the watch's tick); bounded for a tick that does not come.
    std::deque<quint64> m_noted;
    static constexpr size_t kMaxNoted = 262'144;
};

} // namespace greygate
