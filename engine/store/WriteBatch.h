// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AuditRecord.h"
#include "DocumentRecord.h"
#include "greylist/Triplet.h"

#include <QList>
#include <type_traits>

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
    // Empties the lists but keeps their room when no one else shares them (a list still
    // shared, or grown past maxKept elements, is let go): the next batch then appends
    // without allocating. What the decision thread does after every commit.
    void clearKeepingCapacity(qsizetype maxKept = 1024)
    {
        const auto empty = [maxKept](auto &list) {
            // (Not `list = {}`: that is QList's initializer-list assignment, which allocates.)
            if (list.capacity() > maxKept || (!list.isEmpty() && !list.isDetached()))
                list = std::remove_reference_t<decltype(list)>();
            else
                list.clear(); // keeps the room of an unshared list
        };
        empty(upsertTriplets);
        empty(removeTriplets);
        empty(upsertClients);
        empty(removeClients);
        empty(rejections);
        empty(documents);
        empty(audit);
    }
    // Makes this batch a copy of other's records in its own lists (their room reused), so
    // that other's lists stay unshared and keep theirs.
    void copyRecordsFrom(const WriteBatch &other)
    {
        const auto copy = [](auto &to, const auto &from) {
            to.clear();
            if (!from.isEmpty())
                to.append(from.constBegin(), from.constEnd());
        };
        copy(upsertTriplets, other.upsertTriplets);
        copy(removeTriplets, other.removeTriplets);
        copy(upsertClients, other.upsertClients);
        copy(removeClients, other.removeClients);
        copy(rejections, other.rejections);
        copy(documents, other.documents);
        copy(audit, other.audit);
    }
};

} // namespace greygate
