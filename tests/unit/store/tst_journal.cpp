// SPDX-License-Identifier: GPL-3.0-or-later
// The journal on its own: mapped segments, what a killed writer leaves in them, and how
// recovery reads that back.
#include "TestSupport.h"
#include "store/Journal.h"
#include "store/JournalCodec.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace greygate;
using namespace greygate::test;

namespace {

// A sealed record whose payload says which sequence it belongs to, padded to about size
// bytes (the journal does not decode payloads).
QByteArray record(quint64 sequence, qsizetype size = 200)
{
    QByteArray r(JournalCodec::kHeaderSize, '\0');
    QByteArray payload = "payload " + QByteArray::number(sequence) + ' ';
    payload += QByteArray(qMax<qsizetype>(0, size - payload.size()), char('a' + sequence % 26));
    r += payload;
    JournalCodec::seal(r, sequence);
    return r;
}

QByteArray payloadOf(quint64 sequence, qsizetype size = 200)
{
    return record(sequence, size).mid(JournalCodec::kHeaderSize);
}

QStringList segmentPaths(const QString &dir)
{
    QStringList paths;
    for (const QString &name :
         QDir(dir).entryList({QStringLiteral("*.journal")}, QDir::Files, QDir::Name))
        paths.append(dir + u'/' + name);
    return paths;
}

// Ends the process as kill -9 ends greygated: the journal is not closed, whatever it
// appended is only in the page cache.
bool dieNow()
{
    ::raise(SIGKILL);
    return false;
}

// Runs body in a child process, which must end with dieNow() while its journal is open.
bool inKilledChild(const std::function<bool()> &body)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        body();
        ::_exit(1);
    }
    int status = 0;
    return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
           WTERMSIG(status) == SIGKILL;
}

bool appendRange(Journal &journal, quint64 first, quint64 last, qsizetype size = 200)
{
    QString error;
    for (quint64 s = first; s <= last; ++s) {
        if (!journal.append(record(s, size), s, &error)) {
            qWarning("append %llu: %s", s, qPrintable(error));
            return false;
        }
    }
    return true;
}

struct Recovered
{
    bool ok = false;
    QString error;
    quint64 last = 0;
    QList<quint64> sequences;
    QList<QByteArray> payloads;
};

Recovered recoverAll(const QString &dir)
{
    Journal journal(dir, SyncMode::Process, 1 << 20);
    Recovered r;
    r.ok = journal.recover(
        [&r](quint64 sequence, const char *payload, qsizetype size, QString *) {
            r.sequences.append(sequence);
            r.payloads.append(QByteArray(payload, size));
            return true;
        },
        &r.last, &r.error);
    return r;
}

qint64 recordBytes(quint64 first, quint64 last, qsizetype size = 200)
{
    qint64 n = 0;
    for (quint64 s = first; s <= last; ++s)
        n += record(s, size).size();
    return n;
}

} // namespace

class JournalTest : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        // Anything recovery has to say is a finding, unless a test expects it.
        QTest::failOnWarning(QRegularExpression(QStringLiteral(".*")));
    }

    void records_appended_by_a_killed_process_are_recovered_without_a_warning_data()
    {
        QTest::addColumn<bool>("full");
        QTest::newRow("process") << false;
        QTest::newRow("full (msync)") << true;
    }
    void records_appended_by_a_killed_process_are_recovered_without_a_warning()
    {
        QFETCH(bool, full);
        const SyncMode sync = full ? SyncMode::Full : SyncMode::Process;
        QTemporaryDir dir;
        const qint64 segmentBytes = 1 << 20;
        QVERIFY(inKilledChild([&] {
            Journal journal(dir.path(), sync, segmentBytes);
            QString error;
            return journal.reset(1, &error) && appendRange(journal, 1, 300) && dieNow();
        }));
        // The killed writer's segment is reserved in steps ahead of its records: zeros
        // after them, but not a whole segment's worth.
        const QStringList paths = segmentPaths(dir.path());
        QCOMPARE(paths.size(), 1);
        const qint64 reserved = QFileInfo(paths.first()).size();
        QVERIFY2(reserved > recordBytes(1, 300) && reserved < segmentBytes,
                 qPrintable(QString::number(reserved)));

        const Recovered r = recoverAll(dir.path());
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.sequences, range<quint64>(1, 300));
        QCOMPARE(r.last, 300u);
        QCOMPARE(r.payloads.at(122), payloadOf(123));
        // The zeros are cut off, so that nothing is ever appended after them.
        QCOMPARE(QFileInfo(paths.first()).size(), recordBytes(1, 300));
    }

    void an_empty_segment_and_a_zero_tail_in_a_middle_segment_are_recovered_silently()
    {
        // What a kill between starting a new segment and cutting the old one leaves.
        QTemporaryDir dir;
        QVERIFY(inKilledChild([&] {
            Journal journal(dir.path(), SyncMode::Process, 8192);
            QString error;
            return journal.reset(1, &error) && appendRange(journal, 1, 100) && dieNow();
        }));
        QStringList paths = segmentPaths(dir.path());
        QVERIFY(paths.size() > 2);
        QVERIFY(QFile::resize(paths.first(), 8192));
        QFile empty(dir.path() + QStringLiteral("/99999999999999999999.journal"));
        QVERIFY(empty.open(QIODevice::WriteOnly));
        QVERIFY(empty.resize(8192));
        empty.close();

        const Recovered r = recoverAll(dir.path());
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.sequences, range<quint64>(1, 100));
        QCOMPARE(QFileInfo(empty.fileName()).size(), 0);
    }

    void a_torn_record_in_a_mapped_segment_is_cut_off_with_a_warning_data()
    {
        QTest::addColumn<int>("keep"); // bytes of the next record that made it
        QTest::addColumn<bool>("headerLast");
        QTest::newRow("a byte of the header") << 1 << false;
        QTest::newRow("the header alone") << int(JournalCodec::kHeaderSize) << false;
        QTest::newRow("header and half the payload") << 120 << false;
        QTest::newRow("payload without its header") << 120 << true;
    }
    void a_torn_record_in_a_mapped_segment_is_cut_off_with_a_warning()
    {
        QFETCH(int, keep);
        QFETCH(bool, headerLast);
        QTemporaryDir dir;
        QVERIFY(inKilledChild([&] {
            Journal journal(dir.path(), SyncMode::Process, 1 << 20);
            QString error;
            return journal.reset(1, &error) && appendRange(journal, 1, 50) && dieNow();
        }));
        // The kill landed in the middle of copying record 51: the copy order of memcpy is
        // not a promise, so its header may be missing too.
        const QString path = segmentPaths(dir.path()).first();
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        const qint64 end = recordBytes(1, 50);
        QByteArray part = record(51).left(keep);
        if (headerLast)
            part.replace(0, JournalCodec::kHeaderSize, QByteArray(JournalCodec::kHeaderSize, '\0'));
        QVERIFY(file.seek(end));
        QCOMPARE(file.write(part), part.size());
        file.close();

        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("offset %1; cutting off").arg(end)));
        const Recovered r = recoverAll(dir.path());
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.sequences, range<quint64>(1, 50));
        QCOMPARE(QFileInfo(path).size(), end);

        // And the journal goes on from there.
        Journal journal(dir.path(), SyncMode::Process, 1 << 20);
        QString error;
        QVERIFY2(journal.reset(51, &error), qPrintable(error));
        QVERIFY(appendRange(journal, 51, 60));
        journal.close();
        const Recovered again = recoverAll(dir.path());
        QCOMPARE(again.sequences, range<quint64>(51, 60));
    }

    void records_rotate_across_segments_and_closed_segments_hold_only_records()
    {
        QTemporaryDir dir;
        QString error;
        const qint64 segmentBytes = 16 << 10;
        {
            Journal journal(dir.path(), SyncMode::Process, segmentBytes);
            QVERIFY2(journal.reset(1, &error), qPrintable(error));
            QVERIFY(appendRange(journal, 1, 200, 300));
            // Larger than a segment: written with write() into a segment of its own.
            QVERIFY2(journal.append(record(201, 40 << 10), 201, &error), qPrintable(error));
            QVERIFY(appendRange(journal, 202, 210, 300));

            const QList<Journal::SegmentView> segments = journal.segments();
            QVERIFY(segments.size() > 4);
            qint64 total = 0;
            for (qsizetype i = 0; i < segments.size(); ++i) {
                const qint64 onDisk = QFileInfo(segments.at(i).path).size();
                // Closed ones are cut to their records; the current one is reserved to its
                // end (a segment here is smaller than one reservation step).
                QCOMPARE(onDisk, i + 1 < segments.size() ? segments.at(i).size : segmentBytes);
                QVERIFY(segments.at(i).size <= qMax(segmentBytes, qint64(41 << 10)));
                total += segments.at(i).size;
            }
            QCOMPARE(total, recordBytes(1, 200, 300) + record(201, 40 << 10).size() +
                                recordBytes(202, 210, 300));
            QVERIFY2(Journal::verify(segments, &error), qPrintable(error));
            QCOMPARE(segments.last().path, segmentPaths(dir.path()).last());
        }
        for (const QString &path : segmentPaths(dir.path()))
            QVERIFY(QFileInfo(path).size() <= qMax(segmentBytes, qint64(41 << 10)));
        const Recovered r = recoverAll(dir.path());
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.sequences, range<quint64>(1, 210));
        QCOMPARE(r.payloads.at(200), payloadOf(201, 40 << 10));
        QCOMPARE(r.payloads.at(209), payloadOf(210, 300));
    }

    void verify_reports_zeros_inside_the_committed_bytes()
    {
        QTemporaryDir dir;
        QString error;
        Journal journal(dir.path(), SyncMode::Process, 1 << 20);
        QVERIFY2(journal.reset(1, &error), qPrintable(error));
        QVERIFY(appendRange(journal, 1, 20));
        QVERIFY2(Journal::verify(journal.segments(), &error), qPrintable(error));
        QFile file(journal.segments().first().path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        QVERIFY(file.seek(recordBytes(1, 19)));
        QCOMPARE(file.write(QByteArray(record(20).size(), '\0')), record(20).size());
        file.close();
        QVERIFY(!Journal::verify(journal.segments(), &error));
        QVERIFY2(error.contains(u"committed bytes"), qPrintable(error));
    }

    void the_next_step_is_reserved_half_a_step_ahead()
    {
        // The commit that would cross into unreserved space should find it reserved (and its
        // pages faulted in by the prefaulter) already.
        QTemporaryDir dir;
        QString error;
        Journal journal(dir.path(), SyncMode::Process, 1 << 20);
        QVERIFY2(journal.reset(1, &error), qPrintable(error));
        const QString path = journal.segments().last().path;
        QVERIFY(appendRange(journal, 1, 10, 1000));
        QCOMPARE(QFileInfo(path).size(), qint64(64 << 10));
        const quint64 half = (32 << 10) / record(1, 1000).size() + 1;
        QVERIFY(appendRange(journal, 11, half + 1, 1000));
        QCOMPARE(QFileInfo(path).size(), qint64(128 << 10));
        journal.close();
        const Recovered r = recoverAll(dir.path());
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.sequences, range<quint64>(1, half + 1));
    }

    void space_that_cannot_be_reserved_fails_the_append_not_the_start()
    {
        // A full disk without root: RLIMIT_FSIZE makes reserving past it fail (EFBIG).
        std::signal(SIGXFSZ, SIG_IGN);
        QTemporaryDir dir;
        rlimit old{};
        QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
        const auto limitTo = [&](rlim_t bytes) {
            rlimit tight = old;
            tight.rlim_cur = bytes;
            return setrlimit(RLIMIT_FSIZE, &tight) == 0;
        };
        QString error;
        Journal journal(dir.path(), SyncMode::Process, 1 << 20);

        // Starting takes no space: a daemon on a full disk still starts.
        QVERIFY(limitTo(0));
        const bool opened = journal.reset(1, &error);
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &old), 0);
        QVERIFY2(opened, qPrintable(error));

        // Its first commit needs space: it fails, and nothing of it stays.
        QVERIFY(limitTo(32 << 10));
        bool appended = journal.append(record(1, 1000), 1, &error);
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &old), 0);
        QVERIFY(!appended);
        QVERIFY2(error.contains(u"cannot reserve"), qPrintable(error));
        QCOMPARE(journal.segments().last().size, 0);
        QCOMPARE(QFileInfo(journal.segments().last().path).size(), 0);

        // Room for one step, then none: the commits inside the step go in, the one past it
        // fails and leaves the committed records as they were.
        const qint64 fits = (64 << 10) / record(1, 1000).size();
        QVERIFY(limitTo(96 << 10));
        const bool filled = appendRange(journal, 1, fits, 1000);
        const quint64 next = fits + 1;
        appended = journal.append(record(next, 1000), next, &error);
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &old), 0);
        QVERIFY(filled);
        QVERIFY(!appended);
        QVERIFY2(error.contains(u"cannot reserve"), qPrintable(error));
        QCOMPARE(journal.segments().last().size, recordBytes(1, fits, 1000));
        QCOMPARE(QFileInfo(journal.segments().last().path).size(), qint64(64 << 10));
        QVERIFY2(Journal::verify(journal.segments(), &error), qPrintable(error));

        // With room again, commits go on.
        QVERIFY(appendRange(journal, next, next + 100, 1000));
        journal.close();
        const Recovered r = recoverAll(dir.path());
        QVERIFY2(r.ok, qPrintable(r.error));
        QCOMPARE(r.sequences, range<quint64>(1, next + 100));
    }
};

QTEST_GUILESS_MAIN(JournalTest)
#include "tst_journal.moc"
