// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "EpollEventDispatcherTimers.h"

#include <QAbstractEventDispatcher>
#include <QAtomicInt>
#include <array>
#include <chrono>
#include <functional>
#include <vector>

class QSocketNotifier;
struct epoll_event;

namespace greygate {

// A Linux event dispatcher on epoll, for the daemon's threads (greygated's main thread, the
// SMTP and policy I/O threads). Qt's UNIX dispatcher rebuilds a pollfd array of every
// descriptor and scans it on each pass; with ~40 descriptors that was 15 % of greygated's
// samples on the SMTP proxy path. Here a pass costs one epoll_wait that returns only the
// ready descriptors, and the registrations stay in the kernel between passes.
//
// - Socket notifiers: the Read, Write and Exception notifiers of one descriptor share one
//   level-triggered registration. Enabling and disabling only marks the descriptor; the
//   kernel is told just before the next wait, and only what changed: a read or exception
//   interest no longer wanted stays registered until it actually fires (then it is
//   dropped), so a notifier switched off and on between two readiness events costs nothing.
// - Timers: EpollEventDispatcherTimers (every Qt::TimerType); epoll_wait's timeout is the
//   nearest deadline, rounded up.
// - Posted events are sent at the start of each pass. wakeUp() from another thread writes
//   to an eventfd once until the loop consumes it; from the loop's own thread (deleteLater,
//   a queued call to itself) it only keeps the next wait from blocking.
//
// - End-of-pass callbacks: run once at the end of every pass, after its descriptors and due
//   timers and before the next wait. The policy server commits and answers a pass's
//   decisions there, which a zero timer did before at the price of starting and killing it
//   on every pass (~730 instructions). Thread-confined, like timers.
//
// A registration that outlived a close() (a notifier disabled, its descriptor closed while a
// duplicate lives on, and the number reused) is recognised by a generation number carried in
// the event, and the epoll set is then rebuilt without it.
class EpollEventDispatcher : public QAbstractEventDispatcher
{
    Q_OBJECT
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                       QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;

    // Adds a callback run at the end of every pass of this dispatcher's loop (in the order
    // added), after the descriptors and due timers, before the next wait; returns its id.
    // One added while the callbacks run starts with the next pass; one removed (itself
    // included) does not run again. Not run from a nested loop's pass while they run.
    int addPassEndCallback(std::function<void()> callback);
    void removePassEndCallback(int id);
    // The next pass does not wait (its end-of-pass callbacks run at once): for work that a
    // callback left for the next pass, as a due zero timer would. Cheap: a flag.
    void requestPassEnd() { m_passEndRequested = true; }
    // Changes at the start of every pass and before its end-of-pass callbacks run: what was
    // computed under another value (PassClock's time) is from an earlier part of the loop.
    quint64 passSerial() const { return m_passSerial; }

    // Busy polling: after a pass that had events, wait up to `window` for the next without
    // sleeping (0, the default: never). Adaptive: polls only while the gaps between events
    // stay within the window. For a loop that serves clients one request at a time and
    // whose latency is its throughput (greygated's policy server, --policy-busy-poll).
    void setBusyPoll(std::chrono::microseconds window);
    struct BusyPollStats
    {
        quint64 polls = 0; // waits that polled first
        quint64 hits = 0;  // of those, ended by an event within the window
    };
    BusyPollStats busyPollStats() const { return m_busyPoll; }

    // False when the kernel refused an epoll or eventfd descriptor (the constructor logs
    // why); the caller should then keep Qt's dispatcher.
    bool isValid() const { return m_epollFd >= 0 && m_wakeFd >= 0; }
    // epoll_ctl calls made so far (tests check that toggling a notifier is cheap).
    quint64 controlCalls() const { return m_controlCalls; }

private:
    struct Descriptor
    {
        std::array<QSocketNotifier *, 3> notifiers{}; // indexed by QSocketNotifier::Type
        quint32 registered = 0;       // events the kernel has for it (0: not registered)
        quint32 generation = 0;       // bumped when it loses its last notifier (it may be closed)
        quint32 syncedGeneration = 0; // the generation the kernel's registration carries
        bool dirty = false;           // in m_dirty: the kernel is told before the next wait
        bool alwaysReady = false;     // epoll refused it (a regular file): ready on every pass
    };

    quint32 wanted(const Descriptor &d) const;
    void markDirty(int fd);
    void syncRegistrations();
    bool control(int op, int fd, quint32 events, quint32 generation);
    int deliverDescriptor(int fd, quint32 events, quint32 generation);
    void dropInterest(int fd);
    void rebuildEpollSet();
    bool anyAlwaysReady() const;
    int deliverAlwaysReady();
    int waitForEvents(epoll_event *events, int timeoutMs);
    bool waitForWakeOnly(int timeoutMs);
    void consumeWakeUp();
    void endPass();

    int m_epollFd = -1;
    int m_wakeFd = -1;
    std::vector<Descriptor> m_descriptors; // indexed by descriptor number
    std::vector<int> m_dirty;
    std::vector<int> m_alwaysReady; // descriptors epoll refused, as poll() sees them: ready
    EpollEventDispatcherTimers m_timers;
    QAtomicInt m_wakeUpPending; // set by wakeUp() until the next pass begins
    QAtomicInt m_interrupted;
    QAtomicPointer<void> m_loopThread; // the thread that runs processEvents()
    quint64 m_controlCalls = 0;
    quint64 m_rebuilds = 0; // the epoll set was rebuilt: the rest of a batch is stale
    struct PassEndCallback
    {
        int id; // 0 once removed during a run (erased after it)
        std::function<void()> callback;
    };
    std::vector<PassEndCallback> m_passEnd;
    std::vector<PassEndCallback> m_passEndAdded; // added during a run: from the next pass
    int m_nextPassEndId = 1;
    bool m_passEndRemoved = false;
    quint64 m_passSerial = 0;
    qint64 m_busyPollNs = 0;
    // How long the last wait that could sleep waited for an event (the maximum when it
    // ended without one): the next polls first only if it is within the window.
    qint64 m_lastGapNs = 0;
    BusyPollStats m_busyPoll;
    bool m_passEndRequested = false;
    bool m_inPassEnd = false; // the callbacks are running (a nested pass does not run them)
};

} // namespace greygate
