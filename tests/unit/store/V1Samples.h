// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// What the version-1 samples in data/ hold: data/make_v1_samples.cpp wrote them with the
// same batches, using the store as it was before policies were stored (journal format 1,
// schema 1).
//   data/v1_greygate.db  a closed store, schema 1, applied_sequence 3: batches 1..3
//   data/v1_journal.bin  sealed format-1 records, sequences 4..6: batches 4..6

#include "store/WriteBatch.h"

#include <QFile>
#include <QString>

namespace greygate::test {

inline QString v1SamplePath(const char *name)
{
    return QStringLiteral(GREYGATE_STORE_TEST_DATA "/") + QLatin1String(name);
}

inline QByteArray readV1Sample(const char *name)
{
    QFile file(v1SamplePath(name));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

inline WriteBatch v1SampleBatch(qint64 id)
{
    WriteBatch b;
    b.upsertTriplets.append({{"192.0.2." + QByteArray::number(id), QByteArray("s\0\xff", 3),
                              QByteArrayLiteral("rcpt@example.org")},
                             {1000 + id, 2000 + id, id % 2 ? 3000 + id : 0, quint32(id),
                              id % 2 ? TripletStatus::Passed : TripletStatus::Deferred}});
    if (id == 5)
        b.removeTriplets.append(
            TripletKey{"192.0.2.2", QByteArray("s\0\xff", 3), "rcpt@example.org"}.joined());
    b.upsertClients.append({"client" + QByteArray::number(id % 2), quint32(id), 4000 + id});
    b.rejections.append({5000 + id,
                         QByteArrayLiteral("Sender Failed to Retry"),
                         {"192.0.2." + QByteArray::number(id), "s", "r"},
                         quint32(id),
                         1000 + id});
    return b;
}

} // namespace greygate::test
