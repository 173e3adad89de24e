// SPDX-License-Identifier: GPL-3.0-or-later
// PassClock: the decision path's clock, read once per pass of the epoll loop. Time moves on
// at every pass start, before the end-of-pass callbacks (the commit), after a bounded number
// of uses within a pass, and is read every time off the loop's thread or without an epoll
// dispatcher.
#include "EpollTestSupport.h"
#include "greylist/PassClock.h"
#include "util/EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QTest>
#include <QThread>
#include <atomic>
#include <functional>

using namespace greygate;

namespace {

// A manual clock that counts how often it is read (from any thread).
class CountingClock final : public Clock
{
public:
    Seconds now() const override
    {
        reads.fetch_add(1);
        return value.load();
    }
    mutable std::atomic<int> reads{0};
    std::atomic<Seconds> value{1'800'000'000};
};

// Runs work in the next pass (a posted call, sent at the pass's start), then that pass.
void inOnePass(QObject *context, const std::function<void()> &work)
{
    QMetaObject::invokeMethod(context, work, Qt::QueuedConnection);
    dispatcher()->processEvents(QEventLoop::AllEvents);
}

} // namespace

class TestPassClock : public QObject
{
    Q_OBJECT

private slots:
    void oneReadServesAPass()
    {
        CountingClock source;
        const PassClock clock(source);
        QList<Seconds> seen;
        inOnePass(this, [&] {
            // A pass of three decisions, each asking three times; the source moves meanwhile.
            for (int i = 0; i < 9; ++i) {
                seen << clock.now();
                source.value += 1;
            }
        });
        QCOMPARE(seen.size(), 9);
        QCOMPARE(source.reads.load(), 1);
        for (Seconds s : seen)
            QCOMPARE(s, 1'800'000'000);
    }

    void theNextPassReadsAgain()
    {
        CountingClock source;
        const PassClock clock(source);
        Seconds seen = 0;
        inOnePass(this, [&] { seen = clock.now(); });
        QCOMPARE(seen, 1'800'000'000);
        source.value = 1'800'000'061; // a retry after the 60 s delay
        inOnePass(this, [&] { seen = clock.now(); });
        QCOMPARE(seen, 1'800'000'061);
        QCOMPARE(source.reads.load(), 2);
    }

    void theEndOfPassCallbacksSeeTimeAfterTheDescriptors()
    {
        // The commit runs at the end of the pass: a long pass does not hand it the time of
        // its start.
        CountingClock source;
        const PassClock clock(source);
        Seconds inPass = 0;
        Seconds inEnd = 0;
        const int id = dispatcher()->addPassEndCallback([&] { inEnd = clock.now(); });
        inOnePass(this, [&] {
            inPass = clock.now();
            source.value += 2; // the rest of the pass took two seconds
        });
        dispatcher()->removePassEndCallback(id);
        QCOMPARE(inPass, 1'800'000'000);
        QCOMPARE(inEnd, 1'800'000'002);
    }

    void manyUsesInOnePassReadAgain()
    {
        // A pass busy with many decisions moves on with the clock too.
        CountingClock source;
        const PassClock clock(source);
        Seconds last = 0;
        inOnePass(this, [&] {
            for (int i = 0; i < PassClock::kMaxReadsPerValue * 3; ++i) {
                source.value += 1;
                last = clock.now();
            }
        });
        QCOMPARE(source.reads.load(), 3);
        // The last value was read at the start of the third run of uses.
        QCOMPARE(last, 1'800'000'000 + 2 * PassClock::kMaxReadsPerValue + 1);
    }

    void offTheLoopThreadEveryReadIsFresh_data()
    {
        QTest::addColumn<bool>("madeOnTheThread");
        // Made by the loop's thread, read from another one (never the loop's cache).
        QTest::newRow("another thread") << false;
        // Made on a thread that runs Qt's own dispatcher (as the console's bundled engine).
        QTest::newRow("Qt's dispatcher") << true;
    }
    void offTheLoopThreadEveryReadIsFresh()
    {
        QFETCH(bool, madeOnTheThread);
        CountingClock source;
        const PassClock loopClock(source);
        QList<Seconds> seen;
        bool onEpoll = false;
        QThread *thread = QThread::create([&] {
            onEpoll = qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
            const PassClock threadClock(source);
            const Clock &clock = madeOnTheThread ? threadClock : loopClock;
            for (int i = 0; i < 3; ++i) {
                seen << clock.now();
                source.value += 5;
            }
        });
        thread->start();
        QVERIFY(thread->wait(30'000));
        delete thread;
        QVERIFY(!onEpoll);
        QCOMPARE(source.reads.load(), 3);
        QCOMPARE(seen, QList<Seconds>({1'800'000'000, 1'800'000'005, 1'800'000'010}));
    }
};

int main(int argc, char **argv)
{
    // As greygated does: the dispatcher exists before the application.
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    TestPassClock test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_pass_clock.moc"
