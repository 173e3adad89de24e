// SPDX-License-Identifier: GPL-3.0-or-later
// EpollEventDispatcher's busy polling (greygated's --policy-busy-poll): a client that answers
// at once is waited for without sleeping, every event is still delivered, and a client whose
// gaps are longer than the window stops the polling after one miss, so the loop sleeps.
#include "EpollTestSupport.h"
#include "util/EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QSocketNotifier>
#include <QTest>
#include <QTimer>
#include <atomic>
#include <chrono>
#include <poll.h>
#include <thread>

using namespace greygate;
using namespace std::chrono_literals;

namespace {

// A peer on its own thread: answers every byte it reads with one byte, after `delay`.
class Peer
{
public:
    Peer(int fd, std::chrono::milliseconds delay)
        : m_thread([this, fd, delay] { run(fd, delay); })
    {}
    ~Peer()
    {
        m_stop = true;
        m_thread.join();
    }

private:
    void run(int fd, std::chrono::milliseconds delay)
    {
        while (!m_stop) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            char byte;
            if (::read(fd, &byte, 1) != 1)
                return;
            std::this_thread::sleep_for(delay);
            if (::write(fd, &byte, 1) != 1)
                return;
        }
    }

    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// Sends `count` bytes to the peer one at a time, each after the answer to the last, on
// the application's loop; returns the answers received.
int pingPong(const SocketPair &pair, int count)
{
    int answers = 0;
    QEventLoop loop;
    QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &loop, [&] {
        // One read a pass: the next answer must come through the loop's wait, not through
        // a read that happens to find it already there.
        char byte;
        if (::read(pair.fd[0], &byte, 1) != 1)
            return;
        if (++answers == count || !pair.send(0))
            loop.quit();
    });
    // One timer for the whole exchange: a timer that fired in between would end a wait
    // early, and the wait after it would be a short gap of its own.
    QTimer::singleShot(60'000, &loop, &QEventLoop::quit);
    if (pair.send(0))
        loop.exec();
    return answers;
}

} // namespace

class TestEpollBusyPoll : public QObject
{
    Q_OBJECT

private slots:
    void cleanup() { dispatcher()->setBusyPoll(0us); }

    void offByDefault()
    {
        SocketPair pair;
        Peer peer(pair.fd[1], 0ms);
        const auto before = dispatcher()->busyPollStats();
        QCOMPARE(pingPong(pair, 50), 50);
        QCOMPARE(dispatcher()->busyPollStats().polls, before.polls);
    }

    void aQuickClientIsWaitedForWithoutSleeping()
    {
        // A window far longer than the peer's turn, even on a loaded machine: the answers
        // arrive while the loop polls.
        dispatcher()->setBusyPoll(200ms);
        SocketPair pair;
        Peer peer(pair.fd[1], 0ms);
        const auto before = dispatcher()->busyPollStats();
        QCOMPARE(pingPong(pair, 200), 200);
        const auto after = dispatcher()->busyPollStats();
        QVERIFY2(after.polls - before.polls >= 100,
                 qPrintable(QString::number(after.polls - before.polls)));
        QVERIFY2(after.hits - before.hits >= 100,
                 qPrintable(QString::number(after.hits - before.hits)));
    }

    void gapsLongerThanTheWindowStopThePolling()
    {
        dispatcher()->setBusyPoll(2ms);
        SocketPair pair;
        {
            Peer quick(pair.fd[1], 0ms);
            QCOMPARE(pingPong(pair, 20), 20); // polling, most likely
        }
        // Every answer now comes 50 ms after its request: the first wait polls for one
        // window and misses, the waits after it sleep.
        Peer slow(pair.fd[1], 50ms);
        const auto before = dispatcher()->busyPollStats();
        QCOMPARE(pingPong(pair, 6), 6);
        const auto after = dispatcher()->busyPollStats();
        QVERIFY2(after.polls - before.polls <= 1,
                 qPrintable(QString::number(after.polls - before.polls)));
        QCOMPARE(after.hits, before.hits);
    }

    void timersStillFireWhilePolling()
    {
        dispatcher()->setBusyPoll(5ms);
        SocketPair pair;
        Peer peer(pair.fd[1], 0ms);
        int fired = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, this, [&] { ++fired; });
        timer.start(1);
        QCOMPARE(pingPong(pair, 2000), 2000);
        QVERIFY(fired > 0); // during the round trips, not after them
    }
};

int main(int argc, char **argv)
{
    // As greygated does: the dispatcher exists before the application.
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    TestEpollBusyPoll test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epoll_busy_poll.moc"
