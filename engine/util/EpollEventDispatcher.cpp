// SPDX-License-Identifier: GPL-3.0-or-later
#include "EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QEvent>
#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QThread>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <utility>

Q_LOGGING_CATEGORY(lcEpoll, "greygate.epoll", QtInfoMsg)

namespace greygate {

namespace {

// The wake-up eventfd's tag; a descriptor's tag is its number and generation, never this.
constexpr quint64 kWakeTag = ~quint64(0);
constexpr int kMaxEvents = 256; // one epoll_wait; the rest comes on the next pass

// What wakes each kind of notifier, as Qt's UNIX dispatcher does with poll(): a hang-up or
// an error wakes all of them, so that the owner reads the end or the error and closes.
constexpr quint32 kWakes[3] = {
    EPOLLIN | EPOLLHUP | EPOLLERR,  // QSocketNotifier::Read
    EPOLLOUT | EPOLLHUP | EPOLLERR, // QSocketNotifier::Write
    EPOLLPRI | EPOLLHUP | EPOLLERR, // QSocketNotifier::Exception
};
constexpr quint32 kInterest[3] = {EPOLLIN, EPOLLOUT, EPOLLPRI};
// Interests kept registered after their notifier is disabled, until they fire: input does
// not usually arrive while a reader waits, whereas a socket is nearly always writable.
constexpr quint32 kKeptLazily = EPOLLIN | EPOLLPRI;

quint64 tagOf(int fd, quint32 generation)
{
    return quint64(quint32(fd)) | (quint64(generation) << 32);
}

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
{
    m_epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (m_epollFd < 0) {
        qCWarning(lcEpoll, "epoll_create1 failed: %s", std::strerror(errno));
        return;
    }
    m_wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_wakeFd < 0) {
        qCWarning(lcEpoll, "eventfd failed: %s", std::strerror(errno));
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    if (epoll_ctl(m_epollFd, EPOLL_CTL_ADD, m_wakeFd, &ev) != 0) {
        qCWarning(lcEpoll, "epoll_ctl(eventfd) failed: %s", std::strerror(errno));
        ::close(m_wakeFd);
        m_wakeFd = -1;
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
    if (m_epollFd >= 0)
        ::close(m_epollFd);
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_loopThread.storeRelaxed(QThread::currentThreadId());
    m_interrupted.storeRelaxed(0);
    ++m_passSerial;
    Q_EMIT awake();
    // Cleared before the posted events are sent: whatever is posted from now on (here, by
    // a handler, or by another thread) sets it again, and the wait below does not block.
    m_wakeUpPending.storeRelease(0);
    QCoreApplication::sendPostedEvents();

    const bool includeTimers = !(flags & QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    bool canWait = (flags & QEventLoop::WaitForMoreEvents) && !m_interrupted.loadRelaxed() &&
                   !m_wakeUpPending.loadAcquire() && !m_passEndRequested;
    if (canWait) {
        Q_EMIT aboutToBlock();
        // A handler of aboutToBlock() posted, or asked for the end of a pass.
        canWait = !m_wakeUpPending.loadAcquire() && !m_passEndRequested;
    }
    if (m_interrupted.loadRelaxed()) {
        endPass(); // what the posted events asked for is not left until a later pass
        return false;
    }
    int timeoutMs = 0;
    if (canWait)
        timeoutMs = includeTimers ? m_timers.waitTimeoutMs() : -1;
    if (includeNotifiers && anyAlwaysReady())
        timeoutMs = 0;

    int handled = 0;
    if (includeNotifiers && isValid()) {
        syncRegistrations();
        // On the stack: a handler may run a nested loop, whose pass must not overwrite the
        // events this one has still to deliver.
        epoll_event events[kMaxEvents];
        const int ready = waitForEvents(events, timeoutMs);
        if (ready < 0 && errno != EINTR)
            qCWarning(lcEpoll, "epoll_wait failed: %s", std::strerror(errno));
        const quint64 rebuilds = m_rebuilds;
        for (int i = 0; i < ready && m_rebuilds == rebuilds; ++i) {
            if (events[i].data.u64 == kWakeTag) {
                consumeWakeUp();
                ++handled;
                continue;
            }
            const quint64 tag = events[i].data.u64;
            handled += deliverDescriptor(int(quint32(tag)), events[i].events, quint32(tag >> 32));
        }
        if (!m_alwaysReady.empty())
            handled += deliverAlwaysReady();
    } else if (isValid()) {
        handled += waitForWakeOnly(timeoutMs) ? 1 : 0;
    }
    if (includeTimers)
        handled += m_timers.activateDue();
    endPass();
    return handled > 0;
}

void EpollEventDispatcher::endPass()
{
    ++m_passSerial;
    if (m_passEnd.empty())
        return;
    if (m_inPassEnd) {
        // A nested loop's pass inside a callback: the callbacks run again when the outer
        // run is over, in a pass that does not wait.
        m_passEndRequested = true;
        return;
    }
    m_passEndRequested = false; // set again by whatever the callbacks leave for the next pass
    m_inPassEnd = true;
    // Indexed, and the vector neither grows nor shrinks meanwhile (additions wait in
    // m_passEndAdded, removals leave an empty id): a callback may add or remove any.
    for (size_t i = 0; i < m_passEnd.size(); ++i) {
        if (m_passEnd[i].id != 0)
            m_passEnd[i].callback();
    }
    m_inPassEnd = false;
    if (m_passEndRemoved) {
        m_passEndRemoved = false;
        std::erase_if(m_passEnd, [](const PassEndCallback &c) { return c.id == 0; });
    }
    if (!m_passEndAdded.empty()) {
        for (PassEndCallback &c : m_passEndAdded)
            m_passEnd.push_back(std::move(c));
        m_passEndAdded.clear();
    }
}

int EpollEventDispatcher::addPassEndCallback(std::function<void()> callback)
{
    const int id = m_nextPassEndId++;
    (m_inPassEnd ? m_passEndAdded : m_passEnd).push_back({id, std::move(callback)});
    return id;
}

void EpollEventDispatcher::removePassEndCallback(int id)
{
    if (id <= 0)
        return;
    std::erase_if(m_passEndAdded, [id](const PassEndCallback &c) { return c.id == id; });
    for (PassEndCallback &c : m_passEnd) {
        if (c.id != id)
            continue;
        if (!m_inPassEnd) {
            std::erase_if(m_passEnd, [id](const PassEndCallback &e) { return e.id == id; });
            return;
        }
        // It may be the one running: its function stays alive until the run is over.
        c.id = 0;
        m_passEndRemoved = true;
        return;
    }
}

void EpollEventDispatcher::setBusyPoll(std::chrono::microseconds window)
{
    m_busyPollNs = std::max<qint64>(0, std::chrono::nanoseconds(window).count());
}

int EpollEventDispatcher::waitForEvents(epoll_event *events, int timeoutMs)
{
    // A client that sends its next request as soon as it has the answer (one Postfix smtpd,
    // one policy connection) waits on us twice if we sleep: the wake-up, and the caches
    // the sleep let go cold. Polling for a short while first avoids both. Only while the
    // gaps between events are that short: the first gap longer than the window costs
    // one window, and polling resumes after the next short gap, so a quiet or sparsely
    // used daemon sleeps as before. sched_yield() gives the core to a thread that shares it
    // (on a small machine, perhaps the very client we wait for).
    if (m_busyPollNs == 0 || timeoutMs == 0)
        return epoll_wait(m_epollFd, events, kMaxEvents, timeoutMs);
    const qint64 start = EpollEventDispatcherTimers::nowNs();
    if (m_lastGapNs <= m_busyPollNs) {
        ++m_busyPoll.polls;
        // Never past the nearest timer.
        const qint64 budget =
            timeoutMs < 0 ? m_busyPollNs : std::min(m_busyPollNs, timeoutMs * 1'000'000LL);
        while (true) {
            const int ready = epoll_wait(m_epollFd, events, kMaxEvents, 0);
            const qint64 now = EpollEventDispatcherTimers::nowNs();
            if (ready != 0) {
                if (ready > 0)
                    ++m_busyPoll.hits;
                m_lastGapNs = now - start;
                return ready;
            }
            if (now - start >= budget)
                break;
            sched_yield();
        }
        if (timeoutMs > 0) // rounded down: a timer is never woken for early
            timeoutMs = int(std::max<qint64>(
                0, timeoutMs - (EpollEventDispatcherTimers::nowNs() - start) / 1'000'000));
    }
    const int ready = epoll_wait(m_epollFd, events, kMaxEvents, timeoutMs);
    m_lastGapNs = ready > 0 ? EpollEventDispatcherTimers::nowNs() - start
                            : std::numeric_limits<qint64>::max();
    return ready;
}

bool EpollEventDispatcher::waitForWakeOnly(int timeoutMs)
{
    pollfd pfd{m_wakeFd, POLLIN, 0};
    if (poll(&pfd, 1, timeoutMs) <= 0)
        return false;
    consumeWakeUp();
    return true;
}

void EpollEventDispatcher::consumeWakeUp()
{
    eventfd_t count = 0;
    (void)eventfd_read(m_wakeFd, &count); // nonblocking: EAGAIN when a nested pass took it
}

void EpollEventDispatcher::wakeUp()
{
    if (!m_wakeUpPending.testAndSetOrdered(0, 1))
        return; // one write until the loop consumes it
    // The loop's own thread is not waiting: it checks the flag before it would block.
    if (QThread::currentThreadId() == m_loopThread.loadRelaxed())
        return;
    if (m_wakeFd >= 0)
        (void)eventfd_write(m_wakeFd, 1);
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.storeRelaxed(1);
    wakeUp();
}

quint32 EpollEventDispatcher::wanted(const Descriptor &d) const
{
    quint32 events = 0;
    for (int type = 0; type < 3; ++type) {
        if (d.notifiers[type])
            events |= kInterest[type];
    }
    return events;
}

void EpollEventDispatcher::markDirty(int fd)
{
    Descriptor &d = m_descriptors[size_t(fd)];
    if (d.dirty)
        return;
    d.dirty = true;
    m_dirty.push_back(fd);
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const qintptr socket = notifier->socket();
    const int type = int(notifier->type());
    if (socket < 0 || socket > INT_MAX || type < 0 || type > 2) {
        qCWarning(lcEpoll, "QSocketNotifier: invalid socket %lld", qlonglong(socket));
        return;
    }
    const int fd = int(socket);
    if (size_t(fd) >= m_descriptors.size())
        m_descriptors.resize(std::max<size_t>(size_t(fd) + 1, m_descriptors.size() * 2));
    Descriptor &d = m_descriptors[size_t(fd)];
    if (d.notifiers[type] && d.notifiers[type] != notifier)
        qCWarning(lcEpoll, "Multiple socket notifiers for socket %d and type %d", fd, type);
    d.notifiers[type] = notifier;
    // Already registered for it, under the current generation: nothing to tell the kernel.
    if ((d.registered & kInterest[type]) && d.syncedGeneration == d.generation)
        return;
    markDirty(fd);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const qintptr socket = notifier->socket();
    const int type = int(notifier->type());
    if (socket < 0 || size_t(socket) >= m_descriptors.size() || type < 0 || type > 2)
        return;
    const int fd = int(socket);
    Descriptor &d = m_descriptors[size_t(fd)];
    if (d.notifiers[type] != notifier)
        return;
    d.notifiers[type] = nullptr;
    // Without notifiers the descriptor may be closed next, and its number reused.
    if (wanted(d) == 0)
        ++d.generation;
    if (d.registered & ~kKeptLazily)
        markDirty(fd);
}

bool EpollEventDispatcher::control(int op, int fd, quint32 events, quint32 generation)
{
    ++m_controlCalls;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tagOf(fd, generation);
    return epoll_ctl(m_epollFd, op, fd, &ev) == 0;
}

void EpollEventDispatcher::syncRegistrations()
{
    // Nothing here sends an event, so the vector cannot grow under these references.
    for (const int fd : m_dirty) {
        Descriptor &d = m_descriptors[size_t(fd)];
        d.dirty = false;
        const quint32 want = wanted(d);
        if (want == 0) {
            // Lazily kept read interest stays until it fires; a write interest would fire
            // at once, so it goes now (the descriptor may already be closed: no matter).
            if (d.registered & ~kKeptLazily) {
                control(EPOLL_CTL_DEL, fd, 0, 0);
                d.registered = 0;
            }
            continue;
        }
        if (d.registered == 0 || d.syncedGeneration != d.generation) {
            // New, or it had no notifier for a while: closed and reused most often (a new
            // connection on the number of one just closed, whose registration the kernel
            // dropped at close), so ADD first; EEXIST says it is the same socket, still open.
            bool ok = control(EPOLL_CTL_ADD, fd, want, d.generation);
            if (!ok && errno == EEXIST)
                ok = control(EPOLL_CTL_MOD, fd, want, d.generation);
            if (!ok && errno == EPERM) {
                // A regular file or a directory: poll() would call it ready, always.
                if (!std::exchange(d.alwaysReady, true))
                    m_alwaysReady.push_back(fd);
                d.registered = 0;
                d.syncedGeneration = d.generation;
                continue;
            }
            if (!ok) {
                qCWarning(lcEpoll, "cannot watch socket %d: %s", fd, std::strerror(errno));
                d.registered = 0;
                continue;
            }
            d.alwaysReady = false;
            d.registered = want;
            d.syncedGeneration = d.generation;
            continue;
        }
        const quint32 target = want | (d.registered & kKeptLazily);
        if (target != d.registered && control(EPOLL_CTL_MOD, fd, target, d.generation))
            d.registered = target;
    }
    m_dirty.clear();
}

int EpollEventDispatcher::deliverDescriptor(int fd, quint32 events, quint32 generation)
{
    if (fd < 0 || size_t(fd) >= m_descriptors.size()) {
        rebuildEpollSet();
        return 0;
    }
    {
        Descriptor &d = m_descriptors[size_t(fd)];
        if ((d.registered == 0 && !d.alwaysReady) || generation != d.syncedGeneration) {
            // Not the registration we hold for this number: one that outlived its
            // descriptor's close() through a duplicate (or a nested pass changed it).
            rebuildEpollSet();
            return 0;
        }
        if (generation != d.generation) {
            // Its notifiers went since it was registered: the number may now be another
            // socket's, whose notifiers are registered before the next wait.
            // Without notifiers it goes; if the kernel had it for a duplicate of a closed
            // descriptor, it fires again with nothing registered, and the set is rebuilt.
            if (wanted(d) == 0) {
                control(EPOLL_CTL_DEL, fd, 0, 0);
                d.registered = 0;
            }
            return 0;
        }
    }
    int sent = 0;
    for (int type = 0; type < 3; ++type) {
        if (!(events & kWakes[type]))
            continue;
        // Indexed afresh: a handler may have registered a higher descriptor (the vector
        // grew), disabled the others or closed this one.
        const Descriptor &d = m_descriptors[size_t(fd)];
        QSocketNotifier *notifier = d.notifiers[type];
        if (!notifier || d.generation != generation)
            continue;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++sent;
    }
    Descriptor &d = m_descriptors[size_t(fd)];
    if (!d.alwaysReady && d.generation == generation && (events & d.registered & ~wanted(d)))
        dropInterest(fd);
    return sent;
}

bool EpollEventDispatcher::anyAlwaysReady() const
{
    for (const int fd : m_alwaysReady) {
        const Descriptor &d = m_descriptors[size_t(fd)];
        if (d.alwaysReady && wanted(d) != 0 && d.generation == d.syncedGeneration)
            return true;
    }
    return false;
}

int EpollEventDispatcher::deliverAlwaysReady()
{
    // A copy: a handler may register (or drop) another such descriptor.
    const std::vector<int> ready = m_alwaysReady;
    int sent = 0;
    for (const int fd : ready) {
        const Descriptor &d = m_descriptors[size_t(fd)];
        if (d.alwaysReady && d.generation == d.syncedGeneration)
            sent += deliverDescriptor(fd, EPOLLIN | EPOLLOUT, d.generation);
    }
    // Those without notifiers leave the list; the number may come back as a socket.
    std::erase_if(m_alwaysReady, [this](int fd) {
        Descriptor &d = m_descriptors[size_t(fd)];
        if (wanted(d) != 0 && d.alwaysReady)
            return false;
        d.alwaysReady = false;
        return true;
    });
    return sent;
}

void EpollEventDispatcher::dropInterest(int fd)
{
    // An interest kept lazily fired: the kernel now gets exactly what is wanted.
    Descriptor &d = m_descriptors[size_t(fd)];
    const quint32 want = wanted(d);
    if (want == 0) {
        control(EPOLL_CTL_DEL, fd, 0, 0);
        d.registered = 0;
    } else if (control(EPOLL_CTL_MOD, fd, want, d.generation)) {
        d.registered = want;
    }
}

void EpollEventDispatcher::rebuildEpollSet()
{
    const int fresh = epoll_create1(EPOLL_CLOEXEC);
    if (fresh < 0) {
        qCWarning(lcEpoll, "epoll_create1 failed: %s", std::strerror(errno));
        return;
    }
    qCDebug(lcEpoll, "a stale registration fired: the epoll set is rebuilt");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeTag;
    epoll_ctl(fresh, EPOLL_CTL_ADD, m_wakeFd, &ev);
    ::close(m_epollFd);
    m_epollFd = fresh;
    ++m_rebuilds;
    for (size_t fd = 0; fd < m_descriptors.size(); ++fd) {
        Descriptor &d = m_descriptors[fd];
        d.registered = 0;
        const quint32 want = wanted(d);
        if (want == 0 || d.alwaysReady)
            continue;
        if (control(EPOLL_CTL_ADD, int(fd), want, d.generation)) {
            d.registered = want;
            d.syncedGeneration = d.generation;
        } else {
            qCWarning(lcEpoll, "cannot watch socket %d: %s", int(fd), std::strerror(errno));
        }
    }
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType,
                                         QObject *object)
{
    m_timers.registerTimer(timerId, interval, timerType, object);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    return m_timers.unregisterTimer(timerId);
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    return m_timers.unregisterTimers(object);
}

QList<QAbstractEventDispatcher::TimerInfo>
EpollEventDispatcher::registeredTimers(QObject *object) const
{
    return m_timers.registeredTimers(object);
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    return m_timers.remainingTime(timerId);
}

} // namespace greygate
