// SPDX-License-Identifier: GPL-3.0-or-later
#include "EpollEventDispatcherTimers.h"

#include <QCoreApplication>
#include <QObject>
#include <QTimerEvent>
#include <algorithm>
#include <climits>
#include <ctime>

namespace greygate {

namespace {

constexpr qint64 kNsPerMs = 1'000'000;
constexpr qint64 kNsPerSecond = 1'000'000'000;
// Qt's bound for a coarse timer (5 % slack): from 20 s the slack is over a second, so it is
// very coarse (whole seconds).
constexpr qint64 kCoarseVeryCoarseFromMs = 20'000;

} // namespace

EpollEventDispatcherTimers::EpollEventDispatcherTimers() = default;

EpollEventDispatcherTimers::~EpollEventDispatcherTimers()
{
    qDeleteAll(m_byId);
}

qint64 EpollEventDispatcherTimers::nowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts); // the clock Qt's own timers use
    return qint64(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

qint64 EpollEventDispatcherTimers::firstDeadline(qint64 now, qint64 intervalMs, Qt::TimerType type,
                                                 qint64 *stepNs)
{
    if (type == Qt::CoarseTimer && intervalMs >= kCoarseVeryCoarseFromMs)
        type = Qt::VeryCoarseTimer;
    if (type != Qt::VeryCoarseTimer) {
        // A coarse timer may fire up to 5 % early or late: firing on time is within that.
        *stepNs = intervalMs * kNsPerMs;
        return now + *stepNs;
    }
    // Very coarse: whole seconds, the interval rounded to the nearest one, and the deadline
    // on a full second of the monotonic clock so that such timers wake the loop together.
    const qint64 seconds = (intervalMs + 500) / 1000;
    *stepNs = seconds * kNsPerSecond;
    qint64 deadline = (now / kNsPerSecond + seconds) * kNsPerSecond;
    if (now % kNsPerSecond > kNsPerSecond / 2)
        deadline += kNsPerSecond;
    return deadline;
}

void EpollEventDispatcherTimers::registerTimer(int timerId, qint64 intervalMs, Qt::TimerType type,
                                               QObject *object)
{
    if (timerId <= 0 || !object)
        return;
    if (m_byId.contains(timerId))
        unregisterTimer(timerId); // Qt never reuses a live id; be safe if it did
    intervalMs = std::max<qint64>(intervalMs, 0);
    auto *timer = new Timer{timerId, type, intervalMs, 0, 0, object, m_nextSerial++, 0, false};
    timer->deadlineNs = firstDeadline(nowNs(), intervalMs, type, &timer->stepNs);
    m_byId.insert(timerId, timer);
    push(timer);
}

bool EpollEventDispatcherTimers::unregisterTimer(int timerId)
{
    Timer *timer = m_byId.value(timerId);
    if (!timer)
        return false;
    destroy(timer);
    return true;
}

bool EpollEventDispatcherTimers::unregisterTimers(QObject *object)
{
    // Rare (an object with running timers destroyed or moved): a scan is fine.
    std::vector<Timer *> doomed;
    for (Timer *timer : std::as_const(m_byId)) {
        if (timer->object == object)
            doomed.push_back(timer);
    }
    for (Timer *timer : doomed)
        destroy(timer);
    return !doomed.empty();
}

QList<QAbstractEventDispatcher::TimerInfo>
EpollEventDispatcherTimers::registeredTimers(QObject *object) const
{
    QList<QAbstractEventDispatcher::TimerInfo> list;
    for (const Timer *timer : m_byId) {
        if (timer->object == object)
            list.append(
                {timer->id, int(std::min<qint64>(timer->intervalMs, INT_MAX)), timer->type});
    }
    return list;
}

int EpollEventDispatcherTimers::remainingTime(int timerId) const
{
    const Timer *timer = m_byId.value(timerId);
    if (!timer)
        return -1;
    const qint64 left = timer->deadlineNs - nowNs();
    if (left <= 0)
        return 0;
    return int(std::min<qint64>((left + kNsPerMs - 1) / kNsPerMs, INT_MAX));
}

int EpollEventDispatcherTimers::waitTimeoutMs() const
{
    if (m_heap.empty())
        return -1;
    const qint64 left = m_heap.front()->deadlineNs - nowNs();
    if (left <= 0)
        return 0;
    return int(std::min<qint64>((left + kNsPerMs - 1) / kNsPerMs, INT_MAX));
}

int EpollEventDispatcherTimers::activateDue()
{
    if (m_heap.empty())
        return 0;
    const qint64 now = nowNs();
    if (m_heap.front()->deadlineNs > now)
        return 0;
    // Every due timer is taken out and given its next deadline before any event is sent, so
    // a 0 ms timer is not found due again in this pass, and a handler that stops, restarts
    // or deletes any timer finds them all in a consistent heap.
    // A handler may run a nested loop that calls activateDue() again: this call owns the
    // buffer while it runs (a nested call finds it empty and makes its own).
    std::vector<std::pair<int, quint64>> due;
    due.swap(m_due);
    due.clear();
    m_rearm.clear();
    while (!m_heap.empty() && m_heap.front()->deadlineNs <= now) {
        Timer *timer = m_heap.front();
        remove(timer);
        m_rearm.push_back(timer);
        due.emplace_back(timer->id, timer->serial);
    }
    for (Timer *timer : m_rearm) {
        timer->deadlineNs += timer->stepNs;
        if (timer->deadlineNs < now) // late by more than an interval: no catching up
            timer->deadlineNs = now + timer->stepNs;
        push(timer);
    }
    int sent = 0;
    for (const auto &[id, serial] : due) {
        Timer *timer = m_byId.value(id);
        if (!timer || timer->serial != serial || timer->inEvent)
            continue; // stopped (or replaced) by an earlier handler, or still in its own
        timer->inEvent = true;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(timer->object, &event);
        ++sent;
        // The handler may have stopped it, and a new timer may have its id since.
        Timer *after = m_byId.value(id);
        if (after && after->serial == serial)
            after->inEvent = false;
    }
    if (m_due.capacity() < due.capacity()) // keep the larger buffer for the next pass
        m_due.swap(due);
    return sent;
}

void EpollEventDispatcherTimers::destroy(Timer *timer)
{
    remove(timer);
    m_byId.remove(timer->id);
    delete timer;
}

void EpollEventDispatcherTimers::push(Timer *timer)
{
    m_heap.push_back(timer);
    timer->heapIndex = m_heap.size() - 1;
    siftUp(timer->heapIndex);
}

void EpollEventDispatcherTimers::remove(Timer *timer)
{
    const size_t index = timer->heapIndex;
    if (index >= m_heap.size() || m_heap[index] != timer)
        return; // not in the heap (taken out while its event is delivered)
    Timer *last = m_heap.back();
    m_heap.pop_back();
    timer->heapIndex = SIZE_MAX;
    if (index == m_heap.size())
        return;
    place(index, last);
    siftDown(index);
    siftUp(last->heapIndex);
}

void EpollEventDispatcherTimers::place(size_t index, Timer *timer)
{
    m_heap[index] = timer;
    timer->heapIndex = index;
}

void EpollEventDispatcherTimers::siftUp(size_t index)
{
    Timer *timer = m_heap[index];
    while (index > 0) {
        const size_t parent = (index - 1) / 2;
        if (m_heap[parent]->deadlineNs <= timer->deadlineNs)
            break;
        place(index, m_heap[parent]);
        index = parent;
    }
    place(index, timer);
}

void EpollEventDispatcherTimers::siftDown(size_t index)
{
    Timer *timer = m_heap[index];
    const size_t size = m_heap.size();
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= size)
            break;
        if (child + 1 < size && m_heap[child + 1]->deadlineNs < m_heap[child]->deadlineNs)
            ++child;
        if (timer->deadlineNs <= m_heap[child]->deadlineNs)
            break;
        place(index, m_heap[child]);
        index = child;
    }
    place(index, timer);
}

} // namespace greygate
