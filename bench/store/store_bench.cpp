// SPDX-License-Identifier: GPL-3.0-or-later
// store_bench: how fast SqliteStore commits (batches of 1, 4 and 16 triplet upserts, both
// sync modes), how long 1M triplets take to load at start-up, the resident memory after
// that, and the size of the database on disk. Every loop is bounded by count and time.
//
//   store_bench [--triplets N] [--seconds S] [--dir DIR]

#include "store/SqliteStore.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <cstdio>

using namespace greygate;

namespace {

qint64 residentKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

qint64 diskBytes(const QString &dir)
{
    qint64 total = 0;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        total += it.fileInfo().size();
    }
    return total;
}

// A triplet shaped like real traffic: a /24, a sender at one of many domains, a recipient
// at one of a few local domains.
TripletRecord triplet(quint64 n, Seconds now)
{
    TripletRecord t;
    t.key.client = QByteArray::number(198 + (n >> 24) % 26) + '.' +
                   QByteArray::number((n >> 16) & 0xFF) + '.' +
                   QByteArray::number((n >> 8) & 0xFF) + ".0/24";
    t.key.sender = "newsletter-" + QByteArray::number(n * 2654435761u % 1'000'003) + "@sender" +
                   QByteArray::number(n % 5000) + ".example.com";
    t.key.recipient = "user" + QByteArray::number(n % 20'000) + "@example.org";
    t.state = {now, now, 0, 1, TripletStatus::Deferred};
    return t;
}

struct CommitResult
{
    double commitsPerSecond = 0;
    qint64 drainMs = 0;
};

CommitResult benchCommits(const QString &dbdir, SyncMode sync, int batchSize, double seconds)
{
    SqliteStoreOptions options;
    options.dbdir = dbdir;
    options.sync = sync;
    SqliteStore store(options);
    QString error;
    if (!store.open(&error)) {
        std::fprintf(stderr, "open: %s\n", qPrintable(error));
        return {};
    }
    QRandomGenerator random(1);
    // Batches are built ahead, so the figure is the store's, not the generator's.
    QList<WriteBatch> batches(1024);
    for (WriteBatch &b : batches)
        for (int i = 0; i < batchSize; ++i)
            b.upsertTriplets.append(triplet(random.generate64(), 1'800'000'000));
    QElapsedTimer timer;
    timer.start();
    const qint64 limitNs = qint64(seconds * 1e9);
    qint64 commits = 0;
    while (commits < 50'000'000 && timer.nsecsElapsed() < limitNs) {
        for (int i = 0; i < 64; ++i, ++commits) {
            if (!store.commit(batches[commits % batches.size()], &error)) {
                std::fprintf(stderr, "commit: %s\n", qPrintable(error));
                return {};
            }
        }
    }
    CommitResult r;
    r.commitsPerSecond = double(commits) / (double(timer.nsecsElapsed()) / 1e9);
    timer.restart();
    store.flush(60'000, &error);
    r.drainMs = timer.elapsed();
    return r;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("SqliteStore benchmark"));
    parser.addHelpOption();
    const QCommandLineOption tripletsOption(QStringLiteral("triplets"),
                                            QStringLiteral("Triplets to load (default 1000000)."),
                                            QStringLiteral("n"), QStringLiteral("1000000"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("Seconds per commit run (default 2)."),
                                           QStringLiteral("s"), QStringLiteral("2"));
    const QCommandLineOption dirOption(QStringLiteral("dir"),
                                       QStringLiteral("Work directory (default: a temporary one)."),
                                       QStringLiteral("dir"));
    parser.addOptions({tripletsOption, secondsOption, dirOption});
    parser.process(app);
    const qint64 tripletCount =
        qBound(qint64(1), parser.value(tripletsOption).toLongLong(), qint64(50'000'000));
    const double seconds = qBound(0.1, parser.value(secondsOption).toDouble(), 60.0);
    QTemporaryDir temp(parser.isSet(dirOption)
                           ? parser.value(dirOption) + QStringLiteral("/store_bench-XXXXXX")
                           : QDir::tempPath() + QStringLiteral("/store_bench-XXXXXX"));
    if (!temp.isValid()) {
        std::fprintf(stderr, "cannot create a work directory\n");
        return 1;
    }

    std::printf("commit throughput (one thread, %.1f s per run; drain = time for SQLite to "
                "catch up afterwards)\n",
                seconds);
    int run = 0;
    for (const SyncMode sync : {SyncMode::Process, SyncMode::Full}) {
        for (const int batchSize : {1, 4, 16}) {
            const QString dbdir = temp.path() + QStringLiteral("/commit%1").arg(run++);
            const CommitResult r = benchCommits(dbdir, sync, batchSize, seconds);
            std::printf(
                "  sync=%-7s batch=%2d  %10.0f commits/s  %10.0f upserts/s  drain %lld ms\n",
                sync == SyncMode::Full ? "full" : "process", batchSize, r.commitsPerSecond,
                r.commitsPerSecond * batchSize, r.drainMs);
            std::fflush(stdout);
        }
    }

    SqliteStoreOptions options;
    options.dbdir = temp.path() + QStringLiteral("/load");
    QString error;
    QElapsedTimer timer;
    {
        SqliteStore store(options);
        if (!store.open(&error)) {
            std::fprintf(stderr, "open: %s\n", qPrintable(error));
            return 1;
        }
        timer.start();
        WriteBatch batch;
        for (qint64 n = 0; n < tripletCount; ++n) {
            batch.upsertTriplets.append(
                triplet(quint64(n) * 0x9E3779B97F4A7C15ull, 1'800'000'000 + n));
            if (batch.upsertTriplets.size() == 1000 || n + 1 == tripletCount) {
                if (!store.commit(batch, &error)) {
                    std::fprintf(stderr, "commit: %s\n", qPrintable(error));
                    return 1;
                }
                batch.clear();
            }
        }
        const qint64 commitMs = timer.elapsed();
        store.flush(600'000, &error);
        std::printf("\nfill: %lld triplets committed in %lld ms, in SQLite after %lld ms\n",
                    tripletCount, commitMs, timer.elapsed());
        timer.restart();
    }
    std::printf("close (drain, checkpoint): %lld ms\n", timer.elapsed());
    std::printf("database on disk: %.1f MB (%s)\n", double(diskBytes(options.dbdir)) / 1e6,
                qPrintable(options.dbdir));

    const qint64 rssBefore = residentKiB();
    SqliteStore store(options);
    timer.start();
    if (!store.open(&error)) {
        std::fprintf(stderr, "open: %s\n", qPrintable(error));
        return 1;
    }
    const qint64 openMs = timer.elapsed();
    timer.restart();
    qint64 loaded = 0;
    store.load([&](TripletRecord &&) { ++loaded; }, [](ClientRecord &&) {}, &error);
    const qint64 streamMs = timer.elapsed();
    const qint64 rssStream = residentKiB();
    timer.restart();
    QHash<QByteArray, TripletState> table;
    table.reserve(tripletCount);
    store.load([&](TripletRecord &&t) { table.insert(t.key.joined(), t.state); },
               [](ClientRecord &&) {}, &error);
    const qint64 tableMs = timer.elapsed();
    std::printf("open: %lld ms\n", openMs);
    std::printf("load: %lld triplets streamed in %lld ms (RSS %lld MB -> %lld MB)\n", loaded,
                streamMs, rssBefore / 1024, rssStream / 1024);
    std::printf("load into a QHash<joined key, state>: %lld ms, RSS after %lld MB\n", tableMs,
                residentKiB() / 1024);
    if (loaded != tripletCount || table.size() != tripletCount) {
        std::fprintf(stderr, "loaded %lld of %lld triplets: %s\n", loaded, tripletCount,
                     qPrintable(error));
        return 1;
    }
    return 0;
}
