// SPDX-License-Identifier: GPL-3.0-or-later
// The installed logger's buffer (stderr in a file here): warnings are written before the call
// returns, after the info lines before them; lines of many threads all arrive, whole and each
// thread's in its order; a line larger than the buffer is written whole.

#include "util/LogLine.h"
#include "util/Logger.h"

#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace greygate;
using namespace Qt::Literals::StringLiterals;

class LogSinkTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void warningIsWrittenAtOnceAfterTheBufferedLines();
    void linesOfManyThreadsArriveWholeAndInOrder();
    void aLineLargerThanTheBufferIsWrittenWhole();

private:
    QByteArray written();

    QTemporaryDir m_dir;
    QString m_path;
    int m_savedStderr = -1;
};

namespace {

QLoggingCategory &lcTest()
{
    static QLoggingCategory category("greygate.test.sink");
    return category;
}

QByteArray afterTimestamp(const QByteArray &line)
{
    return line.mid(line.indexOf(' '));
}

} // namespace

void LogSinkTest::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_path = m_dir.filePath(u"stderr.log"_s);
    std::fflush(stderr);
    m_savedStderr = ::dup(STDERR_FILENO);
    QVERIFY(m_savedStderr >= 0);
    Logger::install(LogLevel::Info);
}

void LogSinkTest::cleanupTestCase()
{
    Logger::flush();
    qInstallMessageHandler(nullptr);
    std::fflush(stderr);
    ::dup2(m_savedStderr, STDERR_FILENO);
    ::close(m_savedStderr);
}

void LogSinkTest::init()
{
    Logger::flush();
    QVERIFY(std::freopen(QFile::encodeName(m_path).constData(), "w", stderr) != nullptr);
}

QByteArray LogSinkTest::written()
{
    QFile file(m_path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

void LogSinkTest::warningIsWrittenAtOnceAfterTheBufferedLines()
{
    Logger::write(QtInfoMsg, lcTest(), LogLine("first").add("n", 1));
    Logger::write(QtInfoMsg, lcTest(), LogLine("second").add("n", 2));
    Logger::write(QtWarningMsg, lcTest(), LogLine("urgent").add("n", 3));
    // No flush: the warning's call wrote it, and the buffered lines first.
    const QList<QByteArray> lines = written().split('\n');
    QCOMPARE(lines.size(), 4);
    QCOMPARE(afterTimestamp(lines[0]), " level=info cat=greygate.test.sink msg=first n=1"_ba);
    QCOMPARE(afterTimestamp(lines[1]), " level=info cat=greygate.test.sink msg=second n=2"_ba);
    QCOMPARE(afterTimestamp(lines[2]), " level=warning cat=greygate.test.sink msg=urgent n=3"_ba);
    QCOMPARE(lines[3], QByteArray());
}

void LogSinkTest::linesOfManyThreadsArriveWholeAndInOrder()
{
    // Enough lines to pass the buffer's limits several times over, so that the flusher and
    // the threads that log both write while others append.
    constexpr int kThreads = 4;
    constexpr int kLines = 20'000;
    const QByteArray filler(100, 'f');
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &filler] {
            for (int i = 0; i < kLines; ++i) {
                const QtMsgType type = i % 5000 == 4999 ? QtWarningMsg : QtInfoMsg;
                Logger::write(type, lcTest(),
                              LogLine("line").add("t", t).add("i", i).add("f", filler));
            }
        });
    }
    for (std::thread &thread : threads)
        thread.join();
    Logger::flush();

    QList<QByteArray> lines = written().split('\n');
    QCOMPARE(lines.takeLast(), QByteArray());
    QCOMPARE(lines.size(), kThreads * kLines);
    int next[kThreads] = {};
    for (const QByteArray &line : std::as_const(lines)) {
        const QByteArray rest = afterTimestamp(line);
        const bool warning = rest.startsWith(" level=warning ");
        QVERIFY2(warning || rest.startsWith(" level=info "), line.constData());
        const qsizetype t = rest.indexOf(" t=");
        const qsizetype i = rest.indexOf(" i=");
        QVERIFY2(t > 0 && i > t, line.constData());
        const int thread = rest.mid(t + 3, i - t - 3).toInt();
        QVERIFY2(thread >= 0 && thread < kThreads, line.constData());
        const int expected = next[thread]++;
        QCOMPARE(rest,
                 QByteArray(" level="_ba + (warning ? "warning"_ba : "info"_ba) +
                            " cat=greygate.test.sink msg=line t=" + QByteArray::number(thread) +
                            " i=" + QByteArray::number(expected) + " f=" + filler));
        QVERIFY(line.startsWith("ts=2"));
    }
}

void LogSinkTest::aLineLargerThanTheBufferIsWrittenWhole()
{
    const QByteArray huge(3 * 1024 * 1024, 'h');
    Logger::write(QtInfoMsg, lcTest(), LogLine("before"));
    Logger::write(QtInfoMsg, lcTest(), LogLine("huge").add("v", huge));
    Logger::write(QtInfoMsg, lcTest(), LogLine("after"));
    Logger::flush();
    const QList<QByteArray> lines = written().split('\n');
    QCOMPARE(lines.size(), 4);
    QCOMPARE(afterTimestamp(lines[0]), " level=info cat=greygate.test.sink msg=before"_ba);
    QCOMPARE(afterTimestamp(lines[1]),
             QByteArray(" level=info cat=greygate.test.sink msg=huge v=" + huge));
    QCOMPARE(afterTimestamp(lines[2]), " level=info cat=greygate.test.sink msg=after"_ba);
}

QTEST_GUILESS_MAIN(LogSinkTest)
#include "tst_log_sink.moc"
