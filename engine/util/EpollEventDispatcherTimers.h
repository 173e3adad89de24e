// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractEventDispatcher>
#include <QHash>
#include <QList>
#include <cstdint>
#include <vector>

class QObject;

namespace greygate {

// The timers of one EpollEventDispatcher: an indexed binary min-heap on the deadline, so that
// starting, stopping and restarting a timer is O(log n) with thousands of them (a session's
// timeout restarted at every command), and the nearest deadline is O(1) for epoll_wait.
// Thread-confined: only the dispatcher's thread calls it (Qt's own contract for timers).
class EpollEventDispatcherTimers
{
public:
    EpollEventDispatcherTimers();
    ~EpollEventDispatcherTimers();
    EpollEventDispatcherTimers(const EpollEventDispatcherTimers &) = delete;
    EpollEventDispatcherTimers &operator=(const EpollEventDispatcherTimers &) = delete;

    void registerTimer(int timerId, qint64 intervalMs, Qt::TimerType type, QObject *object);
    bool unregisterTimer(int timerId);
    bool unregisterTimers(QObject *object);
    QList<QAbstractEventDispatcher::TimerInfo> registeredTimers(QObject *object) const;
    int remainingTime(int timerId) const;

    bool isEmpty() const { return m_heap.empty(); }
    // Milliseconds until the nearest deadline, rounded up (a timer never fires early);
    // -1 without timers, 0 when one is due.
    int waitTimeoutMs() const;
    // Sends a QTimerEvent to every timer due now, each at most once per call (a 0 ms timer
    // fires once per pass, so sockets are polled between); returns how many were sent.
    int activateDue();

    static qint64 nowNs();

private:
    struct Timer
    {
        int id;
        Qt::TimerType type;
        qint64 intervalMs; // as registered, reported back by registeredTimers()
        qint64 stepNs;     // the interval applied: whole seconds for very coarse timers
        qint64 deadlineNs;
        QObject *object;
        quint64 serial;   // told apart from a later timer that got the same id
        size_t heapIndex; // where it is in m_heap
        bool inEvent;     // its QTimerEvent is being delivered (nested loops do not recurse)
    };

    void push(Timer *timer);
    void remove(Timer *timer);
    void siftUp(size_t index);
    void siftDown(size_t index);
    void place(size_t index, Timer *timer);
    void destroy(Timer *timer);
    static qint64 firstDeadline(qint64 nowNs, qint64 intervalMs, Qt::TimerType type,
                                qint64 *stepNs);

    std::vector<Timer *> m_heap;
    QHash<int, Timer *> m_byId;
    quint64 m_nextSerial = 1;
    std::vector<std::pair<int, quint64>> m_due; // activateDue()'s buffers, kept between passes
    std::vector<Timer *> m_rearm;
};

} // namespace greygate
