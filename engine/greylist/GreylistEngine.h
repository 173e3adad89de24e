// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Decision.h"
#include "GreylistConfig.h"
#include "Triplet.h"
#include "TripletNormaliser.h"
#include "store/WriteBatch.h"

#include <QHash>
#include <optional>

namespace greygate {

class Store;

// The greylisting state machine. It decides from memory and records every state change in
// the caller's WriteBatch; the caller commits the batch to the Store before it answers.
// Not thread-safe: one engine lives on one thread.
class GreylistEngine
{
public:
    GreylistEngine(const GreylistConfig &config, const Clock &clock);

    const GreylistConfig &config() const { return m_config; }
    const TripletNormaliser &normaliser() const { return m_normaliser; }

    // Fills memory from the store (start-up). Entries already expired are dropped.
    bool load(Store &store, QString *error);

    // One RCPT: normalises, decides, records the change. nullopt for input that cannot be
    // a triplet (a malformed client address).
    std::optional<Decision> decide(QByteArrayView clientAddress, QByteArrayView sender,
                                   QByteArrayView recipient, WriteBatch &changes);
    Decision decide(const TripletKey &key, WriteBatch &changes);

    // Expiry off the hot path: visits at most maxVisits entries from where the last call
    // stopped, removes expired passed triplets and clients, and closes retry windows (one
    // "Sender Failed to Retry" rejection per triplet that never passed). Returns the number
    // of entries visited, so a caller can tell a full cycle.
    int sweep(int maxVisits, WriteBatch &changes);

    std::optional<TripletState> triplet(const TripletKey &key) const;
    std::optional<ClientRecord> client(const QByteArray &clientKey) const;
    qsizetype tripletCount() const { return m_triplets.size(); }
    qsizetype clientCount() const { return m_clients.size(); }

private:
    struct ClientState
    {
        quint32 passes = 0;
        Seconds lastSeen = 0;
    };

    bool clientWhitelisted(const QByteArray &client, Seconds now) const;
    void notePass(const QByteArray &client, Seconds now, WriteBatch &changes);
    void failedToRetry(const QByteArray &joined, const TripletState &state, WriteBatch &changes);

    GreylistConfig m_config;
    const Clock &m_clock;
    TripletNormaliser m_normaliser;
    QHash<QByteArray, TripletState> m_triplets; // key: TripletKey::joined()
    QHash<QByteArray, ClientState> m_clients;
    qsizetype m_sweepPosition = 0; // where the next incremental sweep resumes
};

} // namespace greygate
