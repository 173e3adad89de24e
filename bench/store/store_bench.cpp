// SPDX-License-Identifier: GPL-3.0-or-later
// store_bench: what SqliteStore costs.
//   commit  throughput of commit() (batches of 1, 4 and 16 triplet upserts, both sync modes)
//   fill    1M distinct triplets committed in batches of 1000, until SQLite holds them
//   steady  the daemon's case: single-triplet commits of random keys out of the 1M filled
//           ones, paced at --rate per second: CPU of the committing thread per commit, of
//           the applier per 1M upserts, and the applier's context switches
//   load    a FRESH process (this program, re-run with --load-only) opens the filled
//           database and streams it: open and load time, resident memory
// Every loop is bounded by count and time.
//
//   store_bench [--triplets N] [--seconds S] [--rate R] [--dir DIR] [--runs LIST]
//   store_bench --load-only DBDIR [--triplets N]

#include "store/SqliteStore.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <cstdio>
#include <ctime>
#include <sys/resource.h>
#include <unistd.h>

using namespace greygate;

namespace {

// The store's tunables, from the command line (defaults: SqliteStoreOptions').
SqliteStoreOptions g_tuning;

qint64 statusField(const QString &path, const char *field)
{
    QFile status(path);
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray name = QByteArray(field) + ':';
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(name))
            return line.mid(name.size()).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

qint64 residentKiB()
{
    return statusField(QStringLiteral("/proc/self/status"), "VmRSS");
}

// CPU time and context switches of every thread of this process but the main one: the
// store's applier (the benchmark starts no other thread).
struct ThreadUsage
{
    qint64 cpuNs = 0;
    qint64 voluntarySwitches = 0;
    qint64 involuntarySwitches = 0;

    ThreadUsage operator-(const ThreadUsage &o) const
    {
        return {cpuNs - o.cpuNs, voluntarySwitches - o.voluntarySwitches,
                involuntarySwitches - o.involuntarySwitches};
    }
};

ThreadUsage otherThreads()
{
    ThreadUsage u;
    const QString self = QString::number(::getpid());
    const QStringList tasks =
        QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString &tid : tasks) {
        if (tid == self)
            continue;
        const QString dir = QStringLiteral("/proc/self/task/") + tid;
        QFile schedstat(dir + QStringLiteral("/schedstat")); // first field: ns on a CPU
        if (schedstat.open(QIODevice::ReadOnly))
            u.cpuNs += schedstat.readAll().split(' ').value(0).toLongLong();
        u.voluntarySwitches += qMax<qint64>(
            0, statusField(dir + QStringLiteral("/status"), "voluntary_ctxt_switches"));
        u.involuntarySwitches += qMax<qint64>(
            0, statusField(dir + QStringLiteral("/status"), "nonvoluntary_ctxt_switches"));
    }
    return u;
}

qint64 mainThreadCpuNs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
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

// The n-th of the triplets the fill commits.
TripletRecord filledTriplet(qint64 n, Seconds now)
{
    return triplet(quint64(n) * 0x9E3779B97F4A7C15ull, now);
}

struct CommitResult
{
    double commitsPerSecond = 0;
    qint64 drainMs = 0;
    ThreadUsage applier;
};

CommitResult benchCommits(const QString &dbdir, SyncMode sync, int batchSize, double seconds)
{
    SqliteStoreOptions options = g_tuning;
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
    const ThreadUsage before = otherThreads();
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
    r.applier = otherThreads() - before;
    return r;
}

// Single-triplet commits of keys drawn from the filled ones, paced at rate per second.
void benchSteady(const SqliteStoreOptions &options, qint64 tripletCount, double rate,
                 double seconds)
{
    const qint64 total = qBound(qint64(1), qint64(rate * seconds), qint64(2'000'000));
    QRandomGenerator random(7);
    QList<WriteBatch> batches(total);
    for (qint64 i = 0; i < total; ++i)
        batches[i].upsertTriplets.append(
            filledTriplet(qint64(random.bounded(quint64(tripletCount))), 1'900'000'000 + i));
    SqliteStore store(options);
    QString error;
    if (!store.open(&error)) {
        std::fprintf(stderr, "open: %s\n", qPrintable(error));
        return;
    }
    const ThreadUsage before = otherThreads();
    qint64 commitNs = 0;
    qint64 maxLagNs = 0;
    QElapsedTimer timer;
    timer.start();
    qint64 done = 0;
    while (done < total && timer.elapsed() < qint64(seconds * 1000) + 10'000) {
        const qint64 nowNs = timer.nsecsElapsed();
        const qint64 due = qMin(total, qint64(double(nowNs) * rate / 1e9) + 1);
        // How late the committing thread got to commits that were due: with the CPU short,
        // what the applier takes from it shows here.
        maxLagNs = qMax(maxLagNs, nowNs - qint64(double(done) * 1e9 / rate));
        const qint64 cpu0 = mainThreadCpuNs();
        for (; done < due; ++done) {
            if (!store.commit(batches[done], &error)) {
                std::fprintf(stderr, "commit: %s\n", qPrintable(error));
                return;
            }
        }
        commitNs += mainThreadCpuNs() - cpu0;
        QThread::usleep(500);
    }
    const qint64 wallMs = timer.elapsed();
    store.flush(60'000, &error);
    const ThreadUsage applier = otherThreads() - before;
    std::printf("\nsteady: %lld single-triplet commits of known keys at %.0f/s for %lld ms\n", done,
                rate, wallMs);
    std::printf("  commit(): %.2f us CPU each (committing thread), at most %.1f ms behind "
                "schedule\n",
                double(commitNs) / 1e3 / double(qMax<qint64>(1, done)), double(maxLagNs) / 1e6);
    std::printf("  applier: %.2f s CPU per 1M upserts (%.1f %% of a core), %lld voluntary + "
                "%lld involuntary context switches (%.2f per commit)\n",
                double(applier.cpuNs) / 1e9 * 1e6 / double(qMax<qint64>(1, done)),
                100.0 * double(applier.cpuNs) / 1e6 / double(qMax<qint64>(1, wallMs)),
                applier.voluntarySwitches, applier.involuntarySwitches,
                double(applier.voluntarySwitches + applier.involuntarySwitches) /
                    double(qMax<qint64>(1, done)));
    std::fflush(stdout);
}

// In a fresh process: nothing of the fill's memory counts.
int loadOnly(const QString &dbdir, qint64 tripletCount)
{
    SqliteStoreOptions options = g_tuning;
    options.dbdir = dbdir;
    const qint64 rssStart = residentKiB();
    SqliteStore store(options);
    QString error;
    QElapsedTimer timer;
    timer.start();
    if (!store.open(&error)) {
        std::fprintf(stderr, "open: %s\n", qPrintable(error));
        return 1;
    }
    const qint64 openMs = timer.elapsed();
    const qint64 rssOpen = residentKiB();
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
    const qint64 rssTable = residentKiB();
    std::printf("fresh process: RSS %lld KiB at start, %lld KiB after open (%lld ms), %lld KiB "
                "after streaming %lld triplets (%lld ms)\n",
                rssStart, rssOpen, openMs, rssStream, loaded, streamMs);
    std::printf("fresh process: store's share %.1f MB; a QHash<joined key, state> of them: %lld "
                "ms, RSS %.1f MB\n",
                double(rssStream - rssStart) / 1024, tableMs, double(rssTable) / 1024);
    if (loaded != tripletCount || table.size() != tripletCount) {
        std::fprintf(stderr, "loaded %lld of %lld triplets: %s\n", loaded, tripletCount,
                     qPrintable(error));
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("SqliteStore benchmark"));
    parser.addHelpOption();
    const QCommandLineOption tripletsOption(QStringLiteral("triplets"),
                                            QStringLiteral("Triplets to fill (default 1000000)."),
                                            QStringLiteral("n"), QStringLiteral("1000000"));
    const QCommandLineOption secondsOption(QStringLiteral("seconds"),
                                           QStringLiteral("Seconds per commit run (default 2)."),
                                           QStringLiteral("s"), QStringLiteral("2"));
    const QCommandLineOption rateOption(QStringLiteral("rate"),
                                        QStringLiteral("Commits/s of the steady run (default "
                                                       "25000; it lasts 4 * --seconds)."),
                                        QStringLiteral("r"), QStringLiteral("25000"));
    const QCommandLineOption dirOption(QStringLiteral("dir"),
                                       QStringLiteral("Work directory (default: a temporary one)."),
                                       QStringLiteral("dir"));
    const QCommandLineOption runsOption(
        QStringLiteral("runs"),
        QStringLiteral("Comma-separated runs: commit, fill, steady, load (default: all)."),
        QStringLiteral("list"), QStringLiteral("commit,fill,steady,load"));
    const QCommandLineOption loadOnlyOption(
        QStringLiteral("load-only"),
        QStringLiteral("Only open and load DBDIR (used for the fresh-process figures)."),
        QStringLiteral("dbdir"));
    const QCommandLineOption cacheOption(QStringLiteral("cache-kib"),
                                         QStringLiteral("SQLite page cache per connection."),
                                         QStringLiteral("KiB"));
    const QCommandLineOption applyOption(
        QStringLiteral("apply-ms"),
        QStringLiteral("The applier's gather interval (-1: by sync mode)."), QStringLiteral("ms"));
    const QCommandLineOption walOption(QStringLiteral("wal-mib"),
                                       QStringLiteral("WAL size that triggers a checkpoint."),
                                       QStringLiteral("MiB"));
    const QCommandLineOption queueOption(
        QStringLiteral("queue-mib"), QStringLiteral("Applier queue bound."), QStringLiteral("MiB"));
    const QCommandLineOption niceOption(QStringLiteral("nice"),
                                        QStringLiteral("The applier thread's extra niceness."),
                                        QStringLiteral("n"));
    parser.addOptions({tripletsOption, secondsOption, rateOption, dirOption, runsOption,
                       loadOnlyOption, cacheOption, applyOption, walOption, queueOption,
                       niceOption});
    parser.process(app);
    if (parser.isSet(cacheOption))
        g_tuning.cacheKiB = qBound(64, parser.value(cacheOption).toInt(), 1 << 20);
    if (parser.isSet(applyOption))
        g_tuning.applyIntervalMs = qBound(-1, parser.value(applyOption).toInt(), 60'000);
    if (parser.isSet(walOption))
        g_tuning.walCheckpointBytes = qBound(1LL, parser.value(walOption).toLongLong(), 4096LL)
                                      << 20;
    if (parser.isSet(queueOption))
        g_tuning.maxQueueBytes = qBound(1LL, parser.value(queueOption).toLongLong(), 4096LL) << 20;
    if (parser.isSet(niceOption))
        g_tuning.applierNice = qBound(0, parser.value(niceOption).toInt(), 19);
    const qint64 tripletCount =
        qBound(qint64(1), parser.value(tripletsOption).toLongLong(), qint64(50'000'000));
    if (parser.isSet(loadOnlyOption))
        return loadOnly(parser.value(loadOnlyOption), tripletCount);
    const double seconds = qBound(0.1, parser.value(secondsOption).toDouble(), 60.0);
    const double rate = qBound(1.0, parser.value(rateOption).toDouble(), 1e6);
    const QStringList runs = parser.value(runsOption).split(u',');
    QTemporaryDir temp(parser.isSet(dirOption)
                           ? parser.value(dirOption) + QStringLiteral("/store_bench-XXXXXX")
                           : QDir::tempPath() + QStringLiteral("/store_bench-XXXXXX"));
    if (!temp.isValid()) {
        std::fprintf(stderr, "cannot create a work directory\n");
        return 1;
    }

    if (runs.contains(u"commit")) {
        std::printf("commit throughput (one thread, %.1f s per run; drain = time for SQLite "
                    "to catch up afterwards; applier = its CPU time for the run)\n",
                    seconds);
        int run = 0;
        for (const SyncMode sync : {SyncMode::Process, SyncMode::Full}) {
            for (const int batchSize : {1, 4, 16}) {
                const QString dbdir = temp.path() + QStringLiteral("/commit%1").arg(run++);
                const CommitResult r = benchCommits(dbdir, sync, batchSize, seconds);
                std::printf("  sync=%-7s batch=%2d  %10.0f commits/s  %10.0f upserts/s  drain "
                            "%lld ms  applier %lld ms CPU, %lld context switches\n",
                            sync == SyncMode::Full ? "full" : "process", batchSize,
                            r.commitsPerSecond, r.commitsPerSecond * batchSize, r.drainMs,
                            r.applier.cpuNs / 1'000'000,
                            r.applier.voluntarySwitches + r.applier.involuntarySwitches);
                std::fflush(stdout);
            }
        }
    }

    SqliteStoreOptions options = g_tuning;
    options.dbdir = temp.path() + QStringLiteral("/load");
    QString error;
    QElapsedTimer timer;
    if (runs.contains(u"fill") || runs.contains(u"steady") || runs.contains(u"load")) {
        SqliteStore store(options);
        if (!store.open(&error)) {
            std::fprintf(stderr, "open: %s\n", qPrintable(error));
            return 1;
        }
        const ThreadUsage before = otherThreads();
        timer.start();
        WriteBatch batch;
        for (qint64 n = 0; n < tripletCount; ++n) {
            batch.upsertTriplets.append(filledTriplet(n, 1'800'000'000 + n));
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
        const ThreadUsage applier = otherThreads() - before;
        std::printf("\nfill: %lld triplets committed in %lld ms, in SQLite after %lld ms; "
                    "applier %.2f s CPU per 1M upserts\n",
                    tripletCount, commitMs, timer.elapsed(),
                    double(applier.cpuNs) / 1e9 * 1e6 / double(tripletCount));
        timer.restart();
        store.close();
        std::printf("close (drain, checkpoint): %lld ms\n", timer.elapsed());
        std::printf("database on disk: %.1f MB (%s)\n", double(diskBytes(options.dbdir)) / 1e6,
                    qPrintable(options.dbdir));
        std::fflush(stdout);
    }

    if (runs.contains(u"steady"))
        benchSteady(options, tripletCount, rate, 4 * seconds);

    if (runs.contains(u"load")) {
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        child.start(QCoreApplication::applicationFilePath(),
                    {QStringLiteral("--load-only"), options.dbdir, QStringLiteral("--triplets"),
                     QString::number(tripletCount), QStringLiteral("--cache-kib"),
                     QString::number(g_tuning.cacheKiB)});
        std::printf("\n");
        std::fflush(stdout);
        if (!child.waitForFinished(600'000)) {
            child.kill(); // our own child, by its handle
            child.waitForFinished(5'000);
            std::fprintf(stderr, "the load process did not finish\n");
            return 1;
        }
        if (child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0)
            return 1;
    }
    return 0;
}
