// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AuditRecord.h"
#include "DocumentRecord.h"
#include "greylist/Triplet.h"

#include <QList>

namespace greygate {

// The state changes of one or more decisions, committed together (group commit). A
// decision is answered only after the batch holding its change was committed.
struct WriteBatch
{
    QList<TripletRecord> upsertTriplets;
    QList<QByteArray> removeTriplets; // TripletKey::joined()
    QList<ClientRecord> upsertClients;
    QList<QByteArray> removeClients; // ClientRecord::client
    QList<RejectionEntry> rejections;
    // Policy state (policies, sender groups, auto allow entries, internal domains): upserts
    // and removals, last one per (kind, id) wins; and the audit log, appended in order.
    QList<DocumentRecord> documents;
    QList<AuditRecord> audit;

    bool isEmpty() const
    {
        return upsertTriplets.isEmpty() && removeTriplets.isEmpty() && upsertClients.isEmpty() &&
               removeClients.isEmpty() && rejections.isEmpty() && documents.isEmpty() &&
               audit.isEmpty();
    }
    qsizetype size() const
    {
        return upsertTriplets.size() + removeTriplets.size() + upsertClients.size() +
               removeClients.size() + rejections.size() + documents.size() + audit.size();
    }
    void clear() { *this = WriteBatch{}; }
};

} // namespace greygate
