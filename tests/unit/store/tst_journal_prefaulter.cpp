// SPDX-License-Identifier: GPL-3.0-or-later
// The journal's page fault-in thread: it makes a reserved range of a mapped file present
// without changing a byte of it, also while appends copy into the same pages.
#include "store/JournalPrefaulter.h"

#include <QTemporaryDir>
#include <QTest>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace greygate;

namespace {

constexpr size_t kBytes = 1 << 20;

// A file of kBytes reserved with posix_fallocate, as the journal reserves a step, mapped
// shared: none of its pages is in the page cache yet.
struct MappedFile
{
    int fd = -1;
    char *map = nullptr;

    explicit MappedFile(const QString &path)
    {
        fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || ::posix_fallocate(fd, 0, kBytes) != 0)
            return;
        void *p = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED)
            map = static_cast<char *>(p);
    }
    ~MappedFile()
    {
        if (map)
            ::munmap(map, kBytes);
        if (fd >= 0)
            ::close(fd);
    }
    // Pages of [from, from + bytes) in the page cache.
    int residentPages(size_t from, size_t bytes) const
    {
        const size_t page = size_t(::sysconf(_SC_PAGESIZE));
        std::vector<unsigned char> v(bytes / page);
        if (::mincore(map + from, bytes, v.data()) != 0)
            return -1;
        int n = 0;
        for (unsigned char c : v)
            n += c & 1;
        return n;
    }
};

} // namespace

class JournalPrefaulterTest : public QObject
{
    Q_OBJECT

private slots:
    void a_requested_range_is_made_present_and_stays_zero()
    {
        QTemporaryDir dir;
        MappedFile file(dir.filePath(QStringLiteral("segment")));
        QVERIFY(file.map);
        const size_t page = size_t(::sysconf(_SC_PAGESIZE));
        const int pages = int((256 << 10) / page);
        QCOMPARE(file.residentPages(0, 256 << 10), 0);

        JournalPrefaulter prefaulter;
        prefaulter.request(file.map + (64 << 10), 128 << 10);
        prefaulter.drain();
        if (!prefaulter.supported())
            QSKIP("this kernel has no MADV_POPULATE_WRITE");
        QCOMPARE(file.residentPages(64 << 10, 128 << 10), pages / 2);
        const QByteArray zeros(128 << 10, '\0');
        QCOMPARE(QByteArrayView(file.map + (64 << 10), 128 << 10), QByteArrayView(zeros));
    }

    void bytes_copied_while_the_range_is_faulted_in_are_kept()
    {
        QTemporaryDir dir;
        MappedFile file(dir.filePath(QStringLiteral("segment")));
        QVERIFY(file.map);
        JournalPrefaulter prefaulter;
        prefaulter.request(file.map, kBytes);
        // An append copies records from the start while the thread works from the start too.
        QByteArray expected(kBytes, '\0');
        for (size_t at = 0; at + 100 <= kBytes; at += 100) {
            const char fill = char('a' + at / 100 % 26);
            std::memset(file.map + at, fill, 100);
            std::memset(expected.data() + at, fill, 100);
        }
        prefaulter.drain();
        QCOMPARE(QByteArrayView(file.map, kBytes), QByteArrayView(expected));
        // What reaches the file is what was copied.
        QByteArray onDisk(kBytes, '\0');
        QCOMPARE(::pread(file.fd, onDisk.data(), kBytes, 0), ssize_t(kBytes));
        QCOMPARE(onDisk, expected);
    }

    void after_cancel_the_mapping_can_go_and_later_requests_still_work()
    {
        QTemporaryDir dir;
        JournalPrefaulter prefaulter;
        for (int round = 0; round < 3; ++round) {
            auto file = std::make_unique<MappedFile>(dir.filePath(QString::number(round)));
            QVERIFY(file->map);
            for (size_t at = 0; at < kBytes; at += 64 << 10)
                prefaulter.request(file->map + at, 64 << 10);
            prefaulter.cancel(); // the journal cancels before it unmaps or cuts the file
            file.reset();
        }
        QTemporaryDir other;
        MappedFile last(other.filePath(QStringLiteral("segment")));
        QVERIFY(last.map);
        prefaulter.request(last.map, 64 << 10);
        prefaulter.drain();
        if (prefaulter.supported())
            QCOMPARE(last.residentPages(0, 64 << 10), int((64 << 10) / ::sysconf(_SC_PAGESIZE)));
    }

    void a_range_past_the_end_of_a_cut_file_is_harmless()
    {
        QTemporaryDir dir;
        MappedFile file(dir.filePath(QStringLiteral("segment")));
        QVERIFY(file.map);
        QCOMPARE(::ftruncate(file.fd, 64 << 10), 0);
        JournalPrefaulter prefaulter;
        // Past the end: the kernel refuses (EFAULT) instead of a SIGBUS; the file keeps its size.
        prefaulter.request(file.map + (128 << 10), 64 << 10);
        prefaulter.drain();
        QCOMPARE(::lseek(file.fd, 0, SEEK_END), off_t(64 << 10));
        // A refused range does not turn the thread off: the next one is faulted in.
        prefaulter.request(file.map, 64 << 10);
        prefaulter.drain();
        if (!prefaulter.supported())
            QSKIP("this kernel has no MADV_POPULATE_WRITE");
        QCOMPARE(file.residentPages(0, 64 << 10), int((64 << 10) / ::sysconf(_SC_PAGESIZE)));
    }
};

QTEST_GUILESS_MAIN(JournalPrefaulterTest)
#include "tst_journal_prefaulter.moc"
