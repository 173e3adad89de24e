// SPDX-License-Identifier: GPL-3.0-or-later
// How the version-1 samples in this folder were made: built once against commit 83f8155
// (journal payload format 1, schema 1) and run as `make_v1_samples OUTDIR`. Not part of the
// build: it needs the v1 store it documents. The tests know what the samples hold from
// v1Sample*() in tst_sqlitestore_migration.cpp, which mirror the functions below.
//
//   v1_greygate.db  a closed store (schema 1, applied_sequence 3) holding batches 1..3
//   v1_journal.bin  a journal segment of sealed format-1 records, sequences 4..6 (batches
//                   4..6), to be put at journal/00000000000000000004.journal

#include "store/JournalCodec.h"
#include "store/SqliteStore.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <cstdio>

using namespace greygate;

namespace {

WriteBatch sampleBatch(qint64 id)
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

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QString out = app.arguments().value(1);
    SqliteStoreOptions options;
    options.dbdir = out + QStringLiteral("/db");
    QString error;
    {
        SqliteStore store(options);
        if (!store.open(&error))
            return std::fprintf(stderr, "%s\n", qPrintable(error)), 1;
        for (qint64 id = 1; id <= 3; ++id)
            if (!store.commit(sampleBatch(id), &error))
                return std::fprintf(stderr, "%s\n", qPrintable(error)), 1;
    } // close(): applied, checkpointed, journal removed
    QFile::remove(out + QStringLiteral("/v1_greygate.db"));
    if (!QFile::copy(options.dbdir + QStringLiteral("/greygate.db"),
                     out + QStringLiteral("/v1_greygate.db")))
        return 1;
    QByteArray journal;
    for (qint64 id = 4; id <= 6; ++id) {
        QByteArray record = JournalCodec::encode(sampleBatch(id));
        JournalCodec::seal(record, quint64(id));
        journal += record;
    }
    QFile file(out + QStringLiteral("/v1_journal.bin"));
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        file.write(journal) != journal.size())
        return 1;
    QDir(options.dbdir).removeRecursively();
    return 0;
}
