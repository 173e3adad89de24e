// SPDX-License-Identifier: GPL-3.0-or-later
// EpollEventDispatcher's end-of-pass callbacks (what the policy server's group commit runs
// from): once per pass, after the pass's descriptors and due timers, before the next wait;
// callbacks that remove themselves, remove or add others, ask for another pass, or run a
// nested loop.
#include "EpollTestSupport.h"
#include "util/EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QSocketNotifier>
#include <QTest>
#include <QTimer>

using namespace greygate;

namespace {

// Removes the callback when the test ends, whatever it asserted.
struct Registration
{
    int id = 0;
    explicit Registration(std::function<void()> callback)
        : id(dispatcher()->addPassEndCallback(std::move(callback)))
    {}
    ~Registration() { dispatcher()->removePassEndCallback(id); }
};

// One pass that does not wait, with nothing left from an earlier test.
void pass()
{
    dispatcher()->processEvents(QEventLoop::AllEvents);
}

} // namespace

class TestEpollPassEnd : public QObject
{
    Q_OBJECT

private slots:
    void init() { pass(); }

    void callbackRunsOncePerPassAfterTheDescriptorsAndTimers()
    {
        SocketPair pair;
        QStringList order;
        QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            pair.drain();
            order << QStringLiteral("read");
        });
        QTimer zero;
        zero.setSingleShot(true);
        zero.setInterval(0);
        connect(&zero, &QTimer::timeout, this, [&] { order << QStringLiteral("timer"); });
        Registration end([&] { order << QStringLiteral("end"); });

        QVERIFY(pair.send());
        zero.start();
        pass();
        QCOMPARE(order, QStringList({QStringLiteral("read"), QStringLiteral("timer"),
                                     QStringLiteral("end")}));
        pass(); // nothing ready: the callback still runs, once
        pass();
        QCOMPARE(order, QStringList({QStringLiteral("read"), QStringLiteral("timer"),
                                     QStringLiteral("end"), QStringLiteral("end"),
                                     QStringLiteral("end")}));
    }

    void passSerialChangesAtThePassStartAndBeforeTheCallbacks()
    {
        SocketPair pair;
        quint64 inRead = 0;
        quint64 inEnd = 0;
        QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            pair.drain();
            inRead = dispatcher()->passSerial();
        });
        Registration end([&] { inEnd = dispatcher()->passSerial(); });
        const quint64 before = dispatcher()->passSerial();
        QVERIFY(pair.send());
        pass();
        QVERIFY(inRead != before);
        QVERIFY(inEnd != inRead);
        QVERIFY(inRead != 0 && inEnd != 0);
    }

    void callbackThatRemovesItselfRunsNoMore()
    {
        int runs = 0;
        int id = 0;
        id = dispatcher()->addPassEndCallback([&] {
            ++runs;
            dispatcher()->removePassEndCallback(id);
        });
        int others = 0;
        Registration other([&] { ++others; });
        pass();
        pass();
        pass();
        QCOMPARE(runs, 1);
        QCOMPARE(others, 3); // the one after it in the same run was not skipped
    }

    void callbackRemovedByAnEarlierOneDoesNotRunInThatPass()
    {
        int laterRuns = 0;
        int later = 0;
        Registration first([&] { dispatcher()->removePassEndCallback(later); });
        later = dispatcher()->addPassEndCallback([&] { ++laterRuns; });
        pass();
        pass();
        QCOMPARE(laterRuns, 0);
    }

    void callbackAddedDuringARunStartsWithTheNextPass()
    {
        int addedRuns = 0;
        int added = 0;
        Registration adder([&] {
            if (added == 0)
                added = dispatcher()->addPassEndCallback([&] { ++addedRuns; });
        });
        pass();
        QCOMPARE(addedRuns, 0);
        pass();
        pass();
        QCOMPARE(addedRuns, 2);
        dispatcher()->removePassEndCallback(added);
        pass();
        QCOMPARE(addedRuns, 2);
    }

    void workLeftForTheNextPassKeepsItFromWaiting()
    {
        // A callback that leaves work (as the flush does when it reads a backlogged
        // connection) asks for another pass: the loop must come back without any event.
        int runs = 0;
        Registration end([&] {
            if (++runs < 3)
                dispatcher()->requestPassEnd();
        });
        bool guardFired = false;
        QTimer guard;
        guard.setSingleShot(true);
        connect(&guard, &QTimer::timeout, this, [&] { guardFired = true; });
        guard.start(30'000);
        pass();                                                     // runs = 1, asks again
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents); // runs = 2, asks again
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents); // runs = 3
        QCOMPARE(runs, 3);
        QVERIFY(!guardFired);
    }

    void requestDuringThePassIsServedByThatPassEnd()
    {
        // Asked for while the pass delivers its descriptors: that pass's callbacks serve it,
        // and the next pass may wait again (here: until the guard timer).
        SocketPair pair;
        QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            pair.drain();
            dispatcher()->requestPassEnd();
        });
        int runs = 0;
        Registration end([&] { ++runs; });
        bool guardFired = false;
        QTimer guard;
        guard.setSingleShot(true);
        connect(&guard, &QTimer::timeout, this, [&] { guardFired = true; });
        QVERIFY(pair.send());
        pass();
        QCOMPARE(runs, 1);
        guard.start(20);
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
        QVERIFY(guardFired); // that pass waited for the timer: it did not come back at once
        QCOMPARE(runs, 2);
    }

    void nestedLoopInACallbackDoesNotRunTheCallbacksAgainInside()
    {
        int depth = 0;
        int maxDepth = 0;
        int runs = 0;
        Registration end([&] {
            ++runs;
            ++depth;
            maxDepth = std::max(maxDepth, depth);
            if (runs == 1) {
                QEventLoop nested;
                QTimer::singleShot(0, &nested, &QEventLoop::quit);
                nested.exec();
            }
            --depth;
        });
        bool guardFired = false;
        QTimer guard;
        guard.setSingleShot(true);
        connect(&guard, &QTimer::timeout, this, [&] { guardFired = true; });
        guard.start(30'000);
        pass();
        QCOMPARE(maxDepth, 1);
        // The nested passes' work is served by a pass that does not wait.
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
        QCOMPARE(runs, 2);
        QVERIFY(!guardFired);
    }
};

int main(int argc, char **argv)
{
    // As greygated does: the dispatcher exists before the application.
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    TestEpollPassEnd test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epoll_pass_end.moc"
