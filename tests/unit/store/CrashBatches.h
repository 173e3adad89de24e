// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// The batches store_crash_writer commits, so that a test can tell exactly what each
// reported sequence must have left in the store. Header-only: shared by the helper and
// the tests that check its work.

#include "store/Store.h"

#include <QHash>
#include <QSet>
#include <QString>

namespace greygate::test {

// Odd bytes on purpose (NUL, 0xff, newline): the store must be binary-safe.
inline TripletKey crashKeyA(qint64 id)
{
    return {"a" + QByteArray::number(id), QByteArray("s\0\xff\n", 4) + QByteArray::number(id),
            QByteArrayLiteral("rcpt@example.org")};
}

inline TripletKey crashKeyB(qint64 id)
{
    return {"b" + QByteArray::number(id), QByteArray(), QByteArrayLiteral("other@example.org")};
}

inline TripletState crashState(qint64 id, int which)
{
    const bool passed = (id + which) % 2 == 0;
    return {id, id + 1 + which, passed ? id + 2 : 0, quint32(id % 7 + 1 + which),
            passed ? TripletStatus::Passed : TripletStatus::Deferred};
}

inline QByteArray crashClient(qint64 id)
{
    return "c" + QByteArray::number(id % 50);
}

// Batch id removes B of batch id - 3 when id is a multiple of 5 (within one run).
inline bool crashRemovesEarlierB(qint64 id, qint64 firstId)
{
    return id % 5 == 0 && id - 3 >= firstId;
}

inline bool crashHasRejection(qint64 id)
{
    return id % 10 == 0;
}

// Every batch puts one document, keyed by its id, under a kind that varies; every 1000th is
// a large one (a sender group of 10,000 members is ~300 KB of JSON).
inline DocumentKind crashDocumentKind(qint64 id)
{
    return DocumentKind(id % 4 + 1);
}

inline QByteArray crashDocumentId(qint64 id)
{
    return "d" + QByteArray::number(id);
}

inline DocumentRecord crashDocument(qint64 id)
{
    const QByteArray pad(id % 1000 == 0 ? 300'000 : id % 300, char('a' + id % 26));
    return {crashDocumentKind(id),
            crashDocumentId(id),
            false,
            quint32(id % 1000 + 1),
            quint64(id),
            "{\"id\":" + QByteArray::number(id) + ",\"pad\":\"" + pad + QByteArray("\0\xff\"}", 4)};
}

// Batch id removes the document of batch id - 2 when id is a multiple of 7 (within one run).
inline bool crashRemovesEarlierDocument(qint64 id, qint64 firstId)
{
    return id % 7 == 0 && id - 2 >= firstId;
}

inline AuditRecord crashAudit(qint64 id)
{
    return {quint64(id),
            id,
            QByteArray("admin\0", 6),
            QByteArrayLiteral("policy.update"),
            "obj:" + QByteArray::number(id % 13),
            "{\"v\":" + QByteArray::number(id - 1) + '}',
            "{\"v\":" + QByteArray::number(id) + '}'};
}

inline WriteBatch crashBatch(qint64 id, qint64 firstId)
{
    WriteBatch b;
    b.upsertTriplets.append({crashKeyA(id), crashState(id, 0)});
    b.upsertTriplets.append({crashKeyB(id), crashState(id, 1)});
    if (crashRemovesEarlierB(id, firstId))
        b.removeTriplets.append(crashKeyB(id - 3).joined());
    b.upsertClients.append({crashClient(id), quint32(id), id});
    if (crashHasRejection(id))
        b.rejections.append({id, QByteArrayLiteral("Sender Failed to Retry"), crashKeyA(id),
                             quint32(id % 7 + 1), id});
    b.documents.append(crashDocument(id));
    if (crashRemovesEarlierDocument(id, firstId))
        b.documents.append(
            {crashDocumentKind(id - 2), crashDocumentId(id - 2), true, 0, quint64(id), {}});
    b.audit.append(crashAudit(id));
    return b;
}

// Runs of the writer start at multiples of this, so an id tells its run.
constexpr qint64 kCrashRunStride = 1'000'000;

struct CrashRun
{
    qint64 first = 0;
    QList<qint64> reported; // ids the writer printed: commit() had returned true
};

struct CrashState
{
    QHash<QByteArray, TripletState> triplets; // by TripletKey::joined()
    QHash<QByteArray, ClientRecord> clients;
    QSet<Seconds> rejectionTimes;
    QHash<QByteArray, DocumentRecord> documents; // by id (unique across kinds here)
    QHash<quint64, AuditRecord> audit;           // by revision (unique here)
    quint64 documentRevision = 0;
};

inline bool loadCrashState(Store &store, CrashState *s, QString *error)
{
    error->clear();
    const bool ok =
        store.load([&](TripletRecord &&t) { s->triplets.insert(t.key.joined(), t.state); },
                   [&](ClientRecord &&c) { s->clients.insert(c.client, c); }, error);
    for (int offset = 0; ok; offset += 10'000) {
        const QList<RejectionEntry> page =
            store.rejections({std::numeric_limits<Seconds>::min(), 0, offset, 10'000}, error);
        for (const RejectionEntry &r : page)
            s->rejectionTimes.insert(r.time);
        if (page.size() < 10'000)
            break;
    }
    bool unique = true;
    const bool documentsOk = ok &&
                             store.loadDocuments(
                                 [&](DocumentRecord &&d) {
                                     const QByteArray id = d.id;
                                     unique = unique && !s->documents.contains(id);
                                     s->documents.insert(id, std::move(d));
                                 },
                                 error) &&
                             store.documentRevision(&s->documentRevision, error);
    for (int offset = 0; documentsOk; offset += 10'000) {
        AuditQuery query;
        query.from = std::numeric_limits<Seconds>::min();
        query.offset = offset;
        query.limit = 10'000;
        const QList<AuditRecord> page = store.audit(query, error);
        for (const AuditRecord &a : page) {
            unique = unique && !s->audit.contains(a.revision);
            s->audit.insert(a.revision, a);
        }
        if (page.size() < 10'000)
            break;
    }
    if (documentsOk && !unique)
        *error = QStringLiteral("a document or an audit entry is in the store twice");
    return documentsOk && error->isEmpty();
}

// Empty when the store holds every reported batch, and every batch it holds is whole.
inline QString checkCrashRuns(const CrashState &s, const QList<CrashRun> &runs)
{
    const auto has = [&](const TripletKey &k) {
        return s.triplets.contains(k.joined());
    };
    const auto wrong = [](const char *what, qint64 id) {
        return QStringLiteral("%1 of batch %2").arg(QLatin1String(what)).arg(id);
    };
    QHash<QByteArray, qint64> minPasses;
    for (const CrashRun &run : runs) {
        const QSet<qint64> reported(run.reported.cbegin(), run.reported.cend());
        for (const qint64 id : run.reported) {
            if (s.triplets.value(crashKeyA(id).joined()) != crashState(id, 0) ||
                !has(crashKeyA(id)))
                return wrong("triplet A missing or wrong", id);
            const bool removable = crashRemovesEarlierB(id + 3, run.first);
            if (removable && reported.contains(id + 3)) {
                if (has(crashKeyB(id)))
                    return wrong("triplet B not removed", id);
            } else if (!removable || has(crashKeyB(id))) {
                if (s.triplets.value(crashKeyB(id).joined()) != crashState(id, 1) ||
                    !has(crashKeyB(id)))
                    return wrong("triplet B missing or wrong", id);
            }
            if (crashHasRejection(id) && !s.rejectionTimes.contains(id))
                return wrong("rejection missing", id);
            const bool docRemovable = crashRemovesEarlierDocument(id + 2, run.first);
            const bool hasDoc = s.documents.contains(crashDocumentId(id));
            if (docRemovable && reported.contains(id + 2)) {
                if (hasDoc)
                    return wrong("document not removed", id);
            } else if (!docRemovable || hasDoc) {
                if (s.documents.value(crashDocumentId(id)) != crashDocument(id))
                    return wrong("document missing or wrong", id);
            }
            if (s.audit.value(quint64(id)) != crashAudit(id))
                return wrong("audit entry missing or wrong", id);
            if (s.documentRevision < quint64(id))
                return wrong("document revision below", id);
            qint64 &m = minPasses[crashClient(id)];
            m = qMax(m, id);
        }
    }
    for (auto it = minPasses.cbegin(); it != minPasses.cend(); ++it) {
        if (qint64(s.clients.value(it.key()).passes) < it.value())
            return wrong("client update lost, up to", it.value());
    }
    // Atomicity: whatever the store holds, it holds whole batches.
    for (auto it = s.triplets.cbegin(); it != s.triplets.cend(); ++it) {
        const std::optional<TripletKey> key = TripletKey::split(it.key());
        if (!key)
            return QStringLiteral("unreadable key in the store");
        const qint64 id = key->client.mid(1).toLongLong();
        const qint64 first = id / kCrashRunStride * kCrashRunStride;
        if (!has(crashKeyA(id)))
            return wrong("half a batch (B without A)", id);
        const bool removed = crashRemovesEarlierB(id + 3, first) && has(crashKeyA(id + 3));
        if (has(crashKeyB(id)) == removed)
            return wrong("half a batch (removal of B)", id);
        if (key->client.startsWith('b'))
            continue;
        const bool docRemoved =
            crashRemovesEarlierDocument(id + 2, first) && has(crashKeyA(id + 2));
        if (s.documents.contains(crashDocumentId(id)) == docRemoved)
            return wrong("half a batch (document)", id);
        if (!s.audit.contains(quint64(id)))
            return wrong("half a batch (audit entry)", id);
    }
    qint64 highest = 0;
    for (const DocumentRecord &d : s.documents) {
        const qint64 id = d.id.mid(1).toLongLong();
        if (d != crashDocument(id))
            return wrong("document torn or wrong", id);
        if (!has(crashKeyA(id)))
            return wrong("document from a batch the store does not hold", id);
    }
    for (const AuditRecord &a : s.audit) {
        if (a != crashAudit(qint64(a.revision)))
            return wrong("audit entry torn or wrong", qint64(a.revision));
        if (!has(crashKeyA(qint64(a.revision))))
            return wrong("audit entry from a batch the store does not hold", qint64(a.revision));
        highest = qMax(highest, qint64(a.revision));
    }
    // Every batch carries a document change whose revision is the batch id.
    if (s.documentRevision != quint64(highest))
        return wrong("document revision is not that of the last batch, which is", highest);
    for (const ClientRecord &c : s.clients) {
        if (!has(crashKeyA(c.passes)))
            return wrong("client from a batch the store does not hold", c.passes);
    }
    for (const Seconds t : s.rejectionTimes) {
        if (!has(crashKeyA(t)))
            return wrong("rejection from a batch the store does not hold", t);
    }
    return {};
}

} // namespace greygate::test
