// SPDX-License-Identifier: GPL-3.0-or-later
// Test helper: opens a SqliteStore and commits crashBatch(id) for id = first, first + 1, ...
// printing each id on stdout once commit() has returned, until it is killed (the tests send
// SIGKILL), or until it kills itself after --count commits. Bounded: it stops by itself
// after 60 s or 10 million batches.
//
//   store_crash_writer DBDIR FIRST_ID [SEGMENT_BYTES [COUNT [APPLY_INTERVAL_MS
//                      [SNAPSHOT_CHANGES]]]]
// SNAPSHOT_CHANGES: a triplet snapshot every that many changed keys (small: kills land
// while snapshots are written).

#include "CrashBatches.h"
#include "store/SqliteStore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <csignal>
#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 3) {
        std::fprintf(stderr, "usage: store_crash_writer DBDIR FIRST_ID [SEGMENT_BYTES [COUNT "
                             "[APPLY_INTERVAL_MS [SNAPSHOT_CHANGES]]]]\n");
        return 2;
    }
    greygate::SqliteStoreOptions options;
    options.dbdir = args.at(1);
    const qint64 first = args.at(2).toLongLong();
    if (args.size() > 3)
        options.segmentBytes = args.at(3).toLongLong();
    const qint64 count = args.size() > 4 ? args.at(4).toLongLong() : 0;
    if (args.size() > 5 && args.at(5).toInt() >= 0)
        options.applyIntervalMs = args.at(5).toInt();
    if (args.size() > 6)
        options.snapshotMinChanges = options.snapshotMaxChanges = args.at(6).toLongLong();

    greygate::SqliteStore store(options);
    QString error;
    if (!store.open(&error)) {
        std::fprintf(stderr, "open: %s\n", qPrintable(error));
        return 3;
    }
    QElapsedTimer timer;
    timer.start();
    for (qint64 id = first; id < first + 10'000'000 && timer.elapsed() < 60'000; ++id) {
        if (!store.commit(greygate::test::crashBatch(id, first), &error)) {
            std::fprintf(stderr, "commit %lld: %s\n", id, qPrintable(error));
            return 4;
        }
        std::printf("%lld\n", id);
        std::fflush(stdout);
        if (count > 0 && id - first + 1 >= count)
            std::raise(SIGKILL); // a crash with everything still in the journal
    }
    return 0;
}
