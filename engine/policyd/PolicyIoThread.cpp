// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyIoThread.h"

#include "PolicyRequestParser.h"
#include "PolicySocket.h"
#include "util/EpollEventDispatcherFactory.h"

#include <QAbstractEventDispatcher>
#include <QElapsedTimer>
#include <QSocketNotifier>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cerrno>
#include <map>
#include <unistd.h>

namespace greygate {

struct PolicyIoThread::Connection
{
    explicit Connection(const PolicyRequestParser::Limits &limits)
        : parser(limits)
    {}

    quint64 id = 0;
    int fd = -1;
    std::unique_ptr<QSocketNotifier> readNotifier;
    std::unique_ptr<QSocketNotifier> writeNotifier; // made on the first partial write
    QByteArray peer;
    PolicyRequestParser parser;
    QByteArray in; // parsed up to inPos
    qsizetype inPos = 0;
    QByteArray out;    // answers of this pass, in request order
    QByteArray unsent; // what the kernel did not take yet, from unsentPos
    qsizetype unsentPos = 0;
    quint64 nextSeq = 0;                 // the next request's
    quint64 nextAnswerSeq = 0;           // the next answer to write
    std::map<quint64, QByteArray> early; // answers that came before earlier ones (Redis)
    int inFlight = 0;                    // requests posted, not answered yet
    qint64 requestStartedMs = -1;
    qint64 lastActivityMs = 0;
    bool readEnabled = true;
    bool backlog = false;
    bool stalled = false;
    bool touched = false;
    bool closing = false; // shutdown: closed once everything is answered and written
    bool closed = false;
};

namespace {

const QElapsedTimer &clock()
{
    static const QElapsedTimer started = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return started;
}

} // namespace

PolicyIoThread::PolicyIoThread(int index, const PolicyServerOptions &options,
                               std::function<void()> requestsReady, std::function<void()> finished)
    : m_index(index)
    , m_options(options)
    , m_requestsReady(std::move(requestsReady))
    , m_finished(std::move(finished))
{
    clock(); // started once, before any thread reads it
}

PolicyIoThread::~PolicyIoThread()
{
    if (!m_thread)
        return;
    // Notifiers and timers belong to the I/O thread: they go there, before it stops.
    QMetaObject::invokeMethod(this, &PolicyIoThread::closeAll, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
}

void PolicyIoThread::start()
{
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("policy-io-") + QString::number(m_index));
    EpollEventDispatcherFactory::installOn(m_thread); // greygated's --event-dispatcher
    moveToThread(m_thread);
    connect(m_thread, &QThread::started, this, &PolicyIoThread::init);
    m_thread->start();
}

void PolicyIoThread::init()
{
    m_timeoutTimer = new QTimer(this);
    const int shortest = std::min(m_options.requestTimeoutMs, m_options.idleTimeoutMs);
    m_timeoutTimer->setInterval(std::clamp(shortest / 4, 10, 1000));
    connect(m_timeoutTimer, &QTimer::timeout, this, &PolicyIoThread::checkTimeouts);
    m_timeoutTimer->start();
    m_passTimer = new QTimer(this);
    m_passTimer->setSingleShot(true);
    m_passTimer->setInterval(0);
    connect(m_passTimer, &QTimer::timeout, this, &PolicyIoThread::postRequests);
    // The end of a pass (every readiness of this loop delivered) posts what it parsed.
    if (QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance(m_thread)) {
        connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, this,
                &PolicyIoThread::postRequests);
    }
}

void PolicyIoThread::adopt(int fd, quint64 id, const QByteArray &peer)
{
    ++m_counters.connections;
    QMetaObject::invokeMethod(
        this, [this, fd, id, peer] { adopted(fd, id, peer); }, Qt::QueuedConnection);
}

void PolicyIoThread::adopted(int fd, quint64 id, const QByteArray &peer)
{
    auto owned = std::make_unique<Connection>(m_options.limits);
    Connection *c = owned.get();
    c->id = id;
    c->fd = fd;
    c->peer = peer;
    c->lastActivityMs = clock().elapsed();
    c->readNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
    connect(c->readNotifier.get(), &QSocketNotifier::activated, this, [this, c] {
        if (!c->closed)
            pump(c);
    });
    m_connections.emplace(id, std::move(owned));
    if (m_shuttingDown)
        close(c, CloseReason::Shutdown);
}

void PolicyIoThread::setReading(Connection *c, bool on)
{
    if (c->readEnabled == on)
        return;
    c->readEnabled = on;
    c->readNotifier->setEnabled(on);
}

bool PolicyIoThread::mayRead(Connection *c)
{
    if (c->inFlight < kMaxConnectionInFlight && m_inFlight < kMaxInFlight)
        return true;
    if (!c->stalled) {
        c->stalled = true;
        m_stalled.push_back(c);
        ++m_counters.stalls;
    }
    return false;
}

void PolicyIoThread::pump(Connection *c)
{
    if (m_shuttingDown || c->backlog || c->stalled) {
        setReading(c, false); // level-triggered: input we do not read yet would fire again
        return;
    }
    setReading(c, true);
    int budget = m_options.maxRequestsPerPass;
    bool more = true; // the last read filled the chunk: the socket may hold more
    while (budget > 0) {
        QByteArray error;
        const PolicySocket::Fill fill = PolicySocket::fill(c->fd, c->in, &c->inPos, &more, &error);
        if (fill == PolicySocket::Fill::Closed) {
            close(c, CloseReason::PeerClosed, error);
            return;
        }
        if (fill == PolicySocket::Fill::Empty)
            break;
        if (fill == PolicySocket::Fill::Fresh)
            c->lastActivityMs = clock().elapsed();
        QByteArrayView view(c->in.constData() + c->inPos, c->in.size() - c->inPos);
        while (budget > 0) {
            if (!mayRead(c)) {
                budget = -1;
                break;
            }
            const PolicyRequestParser::Status status = c->parser.next(view);
            if (status == PolicyRequestParser::Status::NeedMore)
                break;
            if (status == PolicyRequestParser::Status::Error) {
                close(c, CloseReason::ProtocolError, c->parser.errorString());
                return;
            }
            --budget;
            // The batch gets its own bytes, the parser keeps its buffers: nothing is shared
            // between the threads (an implicitly shared buffer would be written again by
            // this thread's parser after a reference-count check the other thread's reads
            // are not ordered with). The allocations are those a shared copy made anyway.
            Request &r = m_batch.emplace_back(Request{c->id, c->nextSeq++, c->parser.request()});
            for (QByteArray *field :
                 {&r.request.request, &r.request.protocolState, &r.request.protocolName,
                  &r.request.clientAddress, &r.request.clientName, &r.request.heloName,
                  &r.request.sender, &r.request.recipient, &r.request.instance, &r.request.queueId,
                  &r.request.saslUsername})
                field->detach();
            ++c->inFlight;
            ++m_inFlight;
        }
        c->inPos = view.isEmpty() ? c->in.size() : view.data() - c->in.constData();
        if (c->parser.inRequest()) {
            if (c->requestStartedMs < 0)
                c->requestStartedMs = clock().elapsed();
        } else {
            c->requestStartedMs = -1;
        }
    }
    if (budget == -1) {
        setReading(c, false); // stalled: resumed when answers come back
    } else if (budget == 0) {
        setReading(c, false);
        c->backlog = true;
        m_backlog.push_back(c);
    }
    if (!m_batch.empty() || !m_backlog.empty())
        m_passTimer->start(); // fallback for a loop that does not block
}

void PolicyIoThread::postRequests()
{
    if (!m_batch.empty()) {
        bool wake = false;
        {
            std::lock_guard lock(m_mutex);
            wake = m_posted.empty();
            if (wake)
                m_posted.swap(m_batch);
            else
                std::move(m_batch.begin(), m_batch.end(), std::back_inserter(m_posted));
        }
        m_batch.clear();
        if (wake)
            m_requestsReady();
    }
    m_closed.clear();
    if (!m_backlog.empty()) {
        std::vector<Connection *> again;
        again.swap(m_backlog);
        for (Connection *c : again) {
            c->backlog = false;
            if (!c->closed)
                pump(c);
        }
    }
}

void PolicyIoThread::takeRequests(std::vector<Request> &into)
{
    std::lock_guard lock(m_mutex);
    if (into.empty())
        into.swap(m_posted);
    else
        std::move(m_posted.begin(), m_posted.end(), std::back_inserter(into));
    m_posted.clear();
}

void PolicyIoThread::deliver(std::vector<Answer> &answers)
{
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        wake = m_answered.empty();
        std::move(answers.begin(), answers.end(), std::back_inserter(m_answered));
    }
    answers.clear();
    if (wake)
        QMetaObject::invokeMethod(this, &PolicyIoThread::takeAnswers, Qt::QueuedConnection);
}

void PolicyIoThread::takeAnswers()
{
    {
        std::lock_guard lock(m_mutex);
        m_incoming.swap(m_answered);
    }
    for (Answer &a : m_incoming) {
        const auto it = m_connections.find(a.conn);
        if (it == m_connections.end())
            continue; // closed meanwhile: its decisions stand, its answers go nowhere
        answer(it->second.get(), a);
    }
    m_incoming.clear();
    std::vector<Connection *> touched;
    touched.swap(m_touched);
    for (Connection *c : touched) {
        c->touched = false;
        if (!c->closed)
            send(c);
    }
    resumeStalled();
    if (m_shuttingDown)
        stopShutdown();
}

void PolicyIoThread::answer(Connection *c, Answer &a)
{
    if (c->closed)
        return;
    --c->inFlight;
    --m_inFlight;
    if (a.bytes.isEmpty()) {
        close(c, a.internal ? CloseReason::InternalError : CloseReason::ProtocolError, a.error);
        return;
    }
    if (a.seq != c->nextAnswerSeq) {
        c->early.emplace(a.seq, std::move(a.bytes)); // at most kMaxAsyncInFlight of them
        return;
    }
    c->out.append(a.bytes);
    ++c->nextAnswerSeq;
    for (auto next = c->early.begin(); next != c->early.end() && next->first == c->nextAnswerSeq;
         next = c->early.erase(next)) {
        c->out.append(next->second);
        ++c->nextAnswerSeq;
    }
    if (!c->touched) {
        c->touched = true;
        m_touched.push_back(c);
    }
}

void PolicyIoThread::send(Connection *c)
{
    c->lastActivityMs = clock().elapsed();
    if (!PolicySocket::sendOrKeep(c->fd, c->out, c->unsent, &c->unsentPos)) {
        close(c, CloseReason::PeerClosed, PolicySocket::errorText("send", errno));
        return;
    }
    if (c->unsentPos >= c->unsent.size())
        return;
    if (c->unsent.size() - c->unsentPos > m_options.maxUnreadOutputBytes) {
        close(c, CloseReason::OutputOverflow);
        return;
    }
    if (!c->writeNotifier) {
        c->writeNotifier = std::make_unique<QSocketNotifier>(c->fd, QSocketNotifier::Write);
        connect(c->writeNotifier.get(), &QSocketNotifier::activated, this, [this, c] {
            if (!c->closed)
                drain(c);
        });
    }
    c->writeNotifier->setEnabled(true);
}

void PolicyIoThread::drain(Connection *c)
{
    if (!PolicySocket::sendFrom(c->fd, c->unsent, &c->unsentPos)) {
        close(c, CloseReason::PeerClosed, PolicySocket::errorText("send", errno));
        return;
    }
    c->lastActivityMs = clock().elapsed();
    if (c->unsentPos < c->unsent.size())
        return; // still full: the notifier stays on
    c->unsent.resize(0);
    c->unsentPos = 0;
    c->writeNotifier->setEnabled(false);
    if (c->closing && c->inFlight == 0)
        close(c, CloseReason::Shutdown);
}

void PolicyIoThread::resumeStalled()
{
    if (m_stalled.empty() || m_inFlight >= kMaxInFlight / 2)
        return;
    std::vector<Connection *> stalled;
    stalled.swap(m_stalled);
    for (Connection *c : stalled) {
        if (c->closed)
            continue;
        if (c->inFlight >= kMaxConnectionInFlight / 2) {
            m_stalled.push_back(c); // its own answers first
            continue;
        }
        c->stalled = false;
        if (!c->backlog) {
            c->backlog = true; // read on at the end of this pass, not from inside takeAnswers
            m_backlog.push_back(c);
            m_passTimer->start();
        }
    }
}

void PolicyIoThread::checkTimeouts()
{
    const qint64 now = clock().elapsed();
    std::vector<std::pair<Connection *, CloseReason>> expired;
    for (auto &[id, c] : m_connections) {
        if (c->closed)
            continue;
        if (c->requestStartedMs >= 0 && now - c->requestStartedMs > m_options.requestTimeoutMs)
            expired.emplace_back(c.get(), CloseReason::RequestTimeout);
        else if (c->requestStartedMs < 0 && c->inFlight == 0 && !c->backlog && !c->closing &&
                 now - c->lastActivityMs > m_options.idleTimeoutMs)
            expired.emplace_back(c.get(), CloseReason::IdleTimeout);
    }
    for (auto [c, reason] : expired) {
        ++m_counters.timeouts;
        close(c, reason);
    }
}

void PolicyIoThread::close(Connection *c, CloseReason reason, const QByteArray &detail)
{
    if (c->closed)
        return;
    c->closed = true;
    PolicySocket::logClose(c->id, c->peer, reason, detail, c->inFlight, 0);
    if (reason == CloseReason::ProtocolError)
        ++m_counters.protocolErrors;
    else if (reason == CloseReason::InternalError)
        ++m_counters.internalErrors;
    // Requests still in flight are decided anyway; their answers find no connection.
    m_inFlight -= c->inFlight;
    c->inFlight = 0;
    c->readNotifier->setEnabled(false);
    if (c->writeNotifier)
        c->writeNotifier->setEnabled(false);
    ::close(c->fd);
    c->fd = -1;
    if (c->backlog)
        std::erase(m_backlog, c);
    if (c->stalled)
        std::erase(m_stalled, c);
    if (c->touched)
        std::erase(m_touched, c);
    --m_counters.connections;
    auto it = m_connections.find(c->id);
    m_closed.push_back(std::move(it->second)); // not deleted inside its notifier's signal
    m_connections.erase(it);
    m_passTimer->start();
    if (m_shuttingDown && m_connections.empty() && !m_finishedSent) {
        m_finishedSent = true;
        m_finished();
    }
}

void PolicyIoThread::shutdown()
{
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_shuttingDown = true;
            for (auto &[id, c] : m_connections) {
                c->closing = true;
                setReading(c.get(), false);
            }
            stopShutdown();
        },
        Qt::QueuedConnection);
}

void PolicyIoThread::stopShutdown()
{
    std::vector<Connection *> done;
    for (auto &[id, c] : m_connections) {
        if (!c->closed && c->inFlight == 0 && c->unsentPos >= c->unsent.size())
            done.push_back(c.get());
    }
    for (Connection *c : done)
        close(c, CloseReason::Shutdown);
    if (m_connections.empty() && !m_finishedSent) {
        m_finishedSent = true;
        m_finished();
    }
}

void PolicyIoThread::abortAll()
{
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_shuttingDown = true;
            std::vector<Connection *> all;
            for (auto &[id, c] : m_connections)
                all.push_back(c.get());
            for (Connection *c : all)
                close(c, CloseReason::Shutdown);
            stopShutdown();
        },
        Qt::QueuedConnection);
}

void PolicyIoThread::closeAll()
{
    for (auto &[id, c] : m_connections) {
        c->readNotifier.reset();
        c->writeNotifier.reset();
        ::close(c->fd);
    }
    m_connections.clear();
    m_closed.clear();
    delete m_timeoutTimer;
    delete m_passTimer;
    m_timeoutTimer = nullptr;
    m_passTimer = nullptr;
}

} // namespace greygate
