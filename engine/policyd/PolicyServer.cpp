// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyServer.h"

#include "PolicyHandler.h"
#include "PolicyIoThread.h"
#include "PolicySocket.h"
#include "PolicydLog.h"
#include "util/ByteAppend.h"
#include "util/EpollEventDispatcher.h"
#include "util/LogLine.h"

#include <QAbstractEventDispatcher>
#include <QEvent>
#include <QSocketNotifier>
#include <QTcpServer>
#include <algorithm>
#include <cerrno>
#include <deque>
#include <sys/socket.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcPolicyd, "greygate.policyd", QtInfoMsg)

namespace greygate {

// The asynchronous path's answers of one connection, shared with the handler's callbacks:
// a callback that comes after the connection (or the server) is gone finds null pointers.
struct PolicyServer::AsyncSlots
{
    struct Slot
    {
        bool ready = false;
        QByteArray action;
    };
    PolicyServer *server = nullptr;
    Connection *connection = nullptr;
    quint64 firstSeq = 0; // the request of answers.front()
    quint64 nextSeq = 0;
    std::deque<Slot> answers; // outstanding, in request order
};

// Accepts with QTcpServer's listening code (addresses, errors) but takes the descriptor
// itself: no QTcpSocket is made for a connection.
class PolicyServer::Listener : public QTcpServer
{
public:
    explicit Listener(PolicyServer *server)
        : m_owner(server)
    {}

protected:
    void incomingConnection(qintptr fd) override { m_owner->accepted(fd); }

private:
    PolicyServer *m_owner;
};

// A connection's readability calls the server straight from the notifier's event: no
// activated() signal, whose emission (QMetaObject::activate and the slot object) cost ~400
// instructions per readiness, i.e. per request with a few connections.
class PolicyServer::ReadNotifier final : public QSocketNotifier
{
public:
    ReadNotifier(int fd, PolicyServer *server, Connection *connection)
        : QSocketNotifier(fd, QSocketNotifier::Read)
        , m_server(server)
        , m_connection(connection)
    {}

protected:
    bool event(QEvent *e) override
    {
        if (e->type() == QEvent::SockAct || e->type() == QEvent::SockClose) {
            m_server->readable(m_connection);
            return true;
        }
        return QSocketNotifier::event(e);
    }

private:
    PolicyServer *m_server;
    Connection *m_connection;
};

struct PolicyServer::IoAnswers
{
    std::vector<PolicyIoThread::Answer> answers;
};

struct PolicyServer::Connection
{
    explicit Connection(const PolicyRequestParser::Limits &limits)
        : parser(limits)
    {}

    quint64 id = 0;
    int fd = -1;
    std::unique_ptr<QSocketNotifier> readNotifier;
    std::unique_ptr<QSocketNotifier> writeNotifier; // made on the first partial write
    QByteArray peer;                                // "192.0.2.1:40000", for the logs
    PolicyRequestParser parser;
    QByteArray in; // bytes read from the socket, parsed up to inPos
    qsizetype inPos = 0;
    bool readEnabled = true;
    bool closing = false;         // shutdown: closed once `unsent` is written
    QByteArray out;               // answers decided, written after the commit
    QByteArray unsent;            // committed answers the kernel did not take yet
    qsizetype unsentPos = 0;      // written up to here
    int awaiting = 0;             // answers in `out`
    qint64 requestStartedMs = -1; // when the request in progress began; -1 for none
    qint64 lastActivityMs = 0;
    bool pending = false; // in m_pending
    bool backlog = false; // in m_backlog
    bool closed = false;
    bool stalled = false;              // asynchronous: too many answers outstanding
    std::shared_ptr<AsyncSlots> async; // asynchronous path only
};

PolicyServer::PolicyServer(PolicyHandler &handler, const PolicyServerOptions &options,
                           QObject *parent)
    : QObject(parent)
    , m_handler(handler)
    , m_async(handler.isAsynchronous())
    , m_options(options)
    , m_server(std::make_unique<Listener>(this))
{
    m_clock.start();
    // Timeouts are checked by one timer for all connections rather than a timer per
    // connection restarted on every read: cheaper on the hot path, and the resolution
    // (a quarter of the shortest timeout, at most a second) is plenty for 30 s and 600 s.
    const int shortest = std::min(m_options.requestTimeoutMs, m_options.idleTimeoutMs);
    m_timeoutTimer.setInterval(std::clamp(shortest / 4, 10, 1000));
    connect(&m_timeoutTimer, &QTimer::timeout, this, &PolicyServer::checkTimeouts);
    QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance(thread());
    m_epoll = qobject_cast<EpollEventDispatcher *>(dispatcher);
    if (m_epoll) {
        if (m_options.ioThreads == 0 && m_options.busyPoll.count() > 0)
            m_epoll->setBusyPoll(m_options.busyPoll);
        m_passEndId = m_epoll->addPassEndCallback([this] {
            if (m_flushScheduled)
                flush();
        });
    } else {
        m_flushTimer.setSingleShot(true);
        m_flushTimer.setInterval(0);
        connect(&m_flushTimer, &QTimer::timeout, this, &PolicyServer::flush);
        if (dispatcher) {
            connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, this, [this] {
                if (m_flushScheduled)
                    flush();
            });
        }
    }
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, [this] {
        std::vector<Connection *> left;
        for (auto &[c, owned] : m_connections)
            left.push_back(c);
        for (Connection *c : left)
            close(c, CloseReason::Shutdown);
        for (auto &io : m_io)
            io->abortAll();
        maybeFinishShutdown();
    });
    for (int i = 0; i < m_options.ioThreads; ++i) {
        m_io.push_back(std::make_unique<PolicyIoThread>(
            i, m_options,
            [this] {
                QMetaObject::invokeMethod(this, &PolicyServer::takeIoRequests,
                                          Qt::QueuedConnection);
            },
            [this] {
                QMetaObject::invokeMethod(
                    this,
                    [this] {
                        ++m_ioFinished;
                        maybeFinishShutdown();
                    },
                    Qt::QueuedConnection);
            }));
        m_io.back()->start();
    }
    m_ioPending.resize(m_io.size());
}

PolicyServer::~PolicyServer()
{
    if (m_epoll)
        m_epoll->removePassEndCallback(m_passEndId);
    *m_alive = false;
    m_io.clear(); // stops the threads and closes their connections
    for (auto &[c, owned] : m_connections) {
        if (c->async) {
            c->async->server = nullptr;
            c->async->connection = nullptr;
        }
        c->readNotifier.reset();
        c->writeNotifier.reset();
        ::close(c->fd);
    }
}

qint64 PolicyServer::elapsedMs()
{
    // Activity times only feed timeouts of seconds: on the epoll loop one monotonic read per
    // pass (and one more for its end-of-pass flush) serves every connection of the pass.
    const EpollEventDispatcher *epoll = m_epoll.data();
    if (!epoll)
        return m_clock.elapsed();
    if (epoll->passSerial() != m_elapsedSerial) {
        m_elapsedSerial = epoll->passSerial();
        m_elapsedMs = m_clock.elapsed();
    }
    return m_elapsedMs;
}

bool PolicyServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    // Postfix opens a connection per smtpd process, and a burst of them (a restart, a
    // flood) must wait in the kernel rather than have its SYNs dropped and retried a
    // second or more later, as with Qt's default of 50. The kernel caps it at somaxconn.
    m_server->setListenBacklogSize(1024);
    if (!m_server->listen(address, port)) {
        *error = u"cannot listen on " + address.toString() + u':' + QString::number(port) + u": " +
                 m_server->errorString();
        return false;
    }
    m_timeoutTimer.start();
    return true;
}

int PolicyServer::connectionCount() const
{
    int n = int(m_connections.size());
    for (const auto &io : m_io)
        n += io->counters().connections.load(std::memory_order_relaxed);
    return n;
}

PolicyServer::Stats PolicyServer::stats() const
{
    Stats s = m_stats;
    for (const auto &io : m_io) {
        const PolicyIoThread::Counters &k = io->counters();
        s.protocolErrors += k.protocolErrors.load(std::memory_order_relaxed);
        s.internalErrors += k.internalErrors.load(std::memory_order_relaxed);
        s.timeouts += k.timeouts.load(std::memory_order_relaxed);
        s.asyncStalls += k.stalls.load(std::memory_order_relaxed);
    }
    return s;
}

quint16 PolicyServer::serverPort() const
{
    return m_server->serverPort();
}

QHostAddress PolicyServer::serverAddress() const
{
    return m_server->serverAddress();
}

void PolicyServer::accepted(qintptr descriptor)
{
    const int fd = int(descriptor);
    PolicySocket::adopt(fd);
    if (m_shuttingDown || connectionCount() >= m_options.maxConnections) {
        ++m_stats.refused;
        qCWarning(lcPolicyd).noquote() << LogLine("connection refused: too many connections")
                                              .add("peer", PolicySocket::peer(fd))
                                              .add("max", m_options.maxConnections)
                                              .text();
        ::close(fd);
        return;
    }
    if (!m_io.empty()) {
        const quint64 id = m_nextId++;
        const QByteArray peer = PolicySocket::peer(fd);
        ++m_stats.connections;
        qCDebug(lcPolicyd).noquote()
            << LogLine("connection accepted").add("conn", qint64(id)).add("peer", peer).text();
        m_io[m_nextIo]->adopt(fd, id, peer);
        m_nextIo = (m_nextIo + 1) % m_io.size();
        return;
    }
    auto owned = std::make_unique<Connection>(m_options.limits);
    Connection *c = owned.get();
    c->id = m_nextId++;
    c->fd = fd;
    c->peer = PolicySocket::peer(fd);
    c->lastActivityMs = elapsedMs();
    if (m_async) {
        c->async = std::make_shared<AsyncSlots>();
        c->async->server = this;
        c->async->connection = c;
    }
    c->readNotifier = std::make_unique<ReadNotifier>(fd, this, c);
    m_connections.emplace(c, std::move(owned));
    ++m_stats.connections;
    qCDebug(lcPolicyd).noquote()
        << LogLine("connection accepted").add("conn", qint64(c->id)).add("peer", c->peer).text();
}

void PolicyServer::setReading(Connection *c, bool on)
{
    // A level-triggered notifier on input we are not going to read yet would fire on every
    // pass of the loop: it is off while the connection waits for its turn or its answers.
    if (c->readEnabled == on)
        return;
    c->readEnabled = on;
    c->readNotifier->setEnabled(on);
}

void PolicyServer::readable(Connection *c)
{
    if (c->closed)
        return;
    if (m_shuttingDown || c->backlog || c->stalled) {
        setReading(c, false);
        return;
    }
    pump(c);
}

void PolicyServer::pump(Connection *c)
{
    if (c->closed || m_shuttingDown)
        return;
    if (c->backlog || c->stalled)
        return; // its turn comes after the next flush; data waits in the socket
    setReading(c, true);
    int budget = m_options.maxRequestsPerPass;
    bool more = true; // the last recv filled the buffer: the socket may hold more
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
            c->lastActivityMs = elapsedMs();
        if (!(m_async ? processBufferedAsync(c, &budget) : processBuffered(c, &budget)))
            return; // closed
        if (c->stalled) {
            setReading(c, false);
            return; // resumed when answers come back
        }
    }
    if (budget == 0) {
        // Unparsed input or perhaps more in the socket: continue after the others' turn.
        setReading(c, false);
        c->backlog = true;
        m_backlog.push_back(c);
        scheduleFlush();
    }
}

bool PolicyServer::processBuffered(Connection *c, int *budget)
{
    QByteArrayView view(c->in.constData() + c->inPos, c->in.size() - c->inPos);
    while (*budget > 0) {
        const PolicyRequestParser::Status status = c->parser.next(view);
        if (status == PolicyRequestParser::Status::NeedMore)
            break;
        if (status == PolicyRequestParser::Status::Error) {
            close(c, CloseReason::ProtocolError, c->parser.errorString());
            return false;
        }
        --*budget;
        ++m_stats.requests;
        const QByteArray action = m_handler.decide(c->parser.request());
        if (action.isEmpty()) {
            close(c, CloseReason::ProtocolError, m_handler.protocolError());
            return false;
        }
        appendBytes(c->out, {"action=", action, "\n\n"});
        ++c->awaiting;
        if (!c->pending) {
            c->pending = true;
            m_pending.push_back(c);
            scheduleFlush();
        }
    }
    c->inPos = view.data() - c->in.constData();
    if (view.isEmpty())
        c->inPos = c->in.size();
    if (c->parser.inRequest()) {
        if (c->requestStartedMs < 0)
            c->requestStartedMs = elapsedMs();
    } else {
        c->requestStartedMs = -1;
    }
    return true;
}

bool PolicyServer::processBufferedAsync(Connection *c, int *budget)
{
    QByteArrayView view(c->in.constData() + c->inPos, c->in.size() - c->inPos);
    while (*budget > 0) {
        if (c->async->answers.size() >= size_t(kMaxAsyncInFlight)) {
            c->stalled = true;
            ++m_stats.asyncStalls;
            break;
        }
        const PolicyRequestParser::Status status = c->parser.next(view);
        if (status == PolicyRequestParser::Status::NeedMore)
            break;
        if (status == PolicyRequestParser::Status::Error) {
            close(c, CloseReason::ProtocolError, c->parser.errorString());
            return false;
        }
        --*budget;
        ++m_stats.requests;
        const quint64 seq = c->async->nextSeq++;
        c->async->answers.emplace_back();
        // The handler may answer before this returns (a protocol error closes c then).
        m_handler.decideAsync(c->parser.request(), [shared = c->async, seq](PolicyAnswer &&answer) {
            if (shared->server)
                shared->server->asyncDone(*shared, seq, std::move(answer.action),
                                          std::move(answer.error));
        });
        if (c->closed)
            return false;
    }
    c->inPos = view.data() - c->in.constData();
    if (view.isEmpty())
        c->inPos = c->in.size();
    if (c->parser.inRequest()) {
        if (c->requestStartedMs < 0)
            c->requestStartedMs = elapsedMs();
    } else {
        c->requestStartedMs = -1;
    }
    return true;
}

void PolicyServer::asyncDone(AsyncSlots &outstanding, quint64 seq, QByteArray &&action,
                             QByteArray &&error)
{
    Connection *c = outstanding.connection;
    if (!c || c->closed || seq < outstanding.firstSeq ||
        seq - outstanding.firstSeq >= outstanding.answers.size())
        return;
    if (action.isEmpty()) {
        close(c, CloseReason::ProtocolError, error);
        return;
    }
    AsyncSlots::Slot &slot = outstanding.answers[size_t(seq - outstanding.firstSeq)];
    slot.ready = true;
    slot.action = std::move(action);
    // Answers leave in request order: only the ready ones at the front go out now.
    bool moved = false;
    while (!outstanding.answers.empty() && outstanding.answers.front().ready) {
        const QByteArray &a = outstanding.answers.front().action;
        appendBytes(c->out, {"action=", a, "\n\n"});
        ++c->awaiting;
        outstanding.answers.pop_front();
        ++outstanding.firstSeq;
        moved = true;
    }
    if (moved && !c->pending) {
        c->pending = true;
        m_pending.push_back(c);
        scheduleFlush();
    }
    if (c->stalled && outstanding.answers.size() < size_t(kMaxAsyncInFlight) / 2) {
        // Read on after the next flush (never from inside the handler's callback).
        c->stalled = false;
        if (!c->backlog) {
            c->backlog = true;
            m_backlog.push_back(c);
            scheduleFlush();
        }
    }
}

void PolicyServer::scheduleFlush()
{
    if (m_flushScheduled)
        return;
    m_flushScheduled = true;
    // The flush must run once the event loop has delivered every readable descriptor of this
    // pass, so that all connections' decisions share one commit. On the epoll dispatcher its
    // end-of-pass callback runs it (asked for here in case this comes from the flush itself:
    // the next pass then does not wait). On Qt's, the dispatcher's aboutToBlock does, with
    // the zero timer as the fallback for loops that never block (processEvents() without
    // waiting). None of them wakes the dispatcher through its eventfd as a posted event
    // would: one syscall less per pass.
    if (EpollEventDispatcher *epoll = m_epoll.data())
        epoll->requestPassEnd();
    else
        m_flushTimer.start();
}

void PolicyServer::flush()
{
    m_flushScheduled = false;
    if (!m_epoll)
        m_flushTimer.stop();
    std::vector<Connection *> batch;
    batch.swap(m_pending);
    bool committed = true;
    if (!batch.empty() || m_ioPendingCount > 0) {
        ++m_stats.commits;
        committed = m_handler.commit();
    }
    if (m_ioPendingCount > 0)
        deliverIoAnswers(committed);
    if (!batch.empty()) {
        for (Connection *c : batch) {
            c->pending = false;
            if (c->closed)
                continue;
            if (!committed) {
                close(c, CloseReason::InternalError, QByteArrayLiteral("commit failed"));
                continue;
            }
            m_stats.answers += quint64(c->awaiting);
            c->awaiting = 0;
            if (!send(c))
                continue; // closed
            c->lastActivityMs = elapsedMs();
        }
        // The list's room goes back for the next pass (no allocation per pass), unless
        // something queued a connection meanwhile.
        if (m_pending.empty()) {
            batch.clear();
            m_pending.swap(batch);
        }
    }
    m_handler.answersSent();
    if (!m_backlog.empty()) {
        std::vector<Connection *> again;
        again.swap(m_backlog);
        for (Connection *c : again) {
            c->backlog = false;
            pump(c);
        }
    }
    if (m_shuttingDown && !m_io.empty() && !m_ioShutdownSent) {
        m_ioShutdownSent = true; // after the answers just delivered
        for (auto &io : m_io)
            io->shutdown();
    }
    if (m_shuttingDown) {
        // Closing removes the connection from the map: collect first.
        std::vector<Connection *> done;
        for (auto &[c, owned] : m_connections) {
            // A connection still waiting for asynchronous answers closes after them (a
            // later flush), or when the grace period ends.
            if (!c->closed && (!c->async || c->async->answers.empty()))
                done.push_back(c);
        }
        for (Connection *c : done) {
            c->closing = true; // after the answers just written
            if (c->unsentPos >= c->unsent.size())
                close(c, CloseReason::Shutdown);
        }
        maybeFinishShutdown();
    }
}

bool PolicyServer::send(Connection *c)
{
    if (!PolicySocket::sendOrKeep(c->fd, c->out, c->unsent, &c->unsentPos)) {
        close(c, CloseReason::PeerClosed, PolicySocket::errorText("send", errno));
        return false;
    }
    if (c->unsentPos >= c->unsent.size())
        return true;
    if (c->unsent.size() - c->unsentPos > m_options.maxUnreadOutputBytes) {
        close(c, CloseReason::OutputOverflow);
        return false;
    }
    if (!c->writeNotifier) {
        c->writeNotifier = std::make_unique<QSocketNotifier>(c->fd, QSocketNotifier::Write);
        connect(c->writeNotifier.get(), &QSocketNotifier::activated, this,
                [this, c] { writable(c); });
    }
    c->writeNotifier->setEnabled(true);
    return true;
}

bool PolicyServer::drain(Connection *c)
{
    if (!PolicySocket::sendFrom(c->fd, c->unsent, &c->unsentPos)) {
        close(c, CloseReason::PeerClosed, PolicySocket::errorText("send", errno));
        return false;
    }
    if (c->unsentPos < c->unsent.size())
        return true; // still full: the write notifier stays on
    c->unsent.resize(0);
    c->unsentPos = 0;
    c->writeNotifier->setEnabled(false);
    return true;
}

void PolicyServer::writable(Connection *c)
{
    if (c->closed || !drain(c))
        return;
    c->lastActivityMs = elapsedMs();
    if (c->closing && c->unsent.isEmpty())
        close(c, CloseReason::Shutdown);
}

void PolicyServer::checkTimeouts()
{
    const qint64 now = m_clock.elapsed();
    std::vector<std::pair<Connection *, CloseReason>> expired;
    for (auto &[c, owned] : m_connections) {
        if (c->closed)
            continue;
        if (c->requestStartedMs >= 0 && now - c->requestStartedMs > m_options.requestTimeoutMs)
            expired.emplace_back(c, CloseReason::RequestTimeout);
        else if (c->requestStartedMs < 0 && !c->pending && !c->backlog && !c->stalled &&
                 !c->closing && (!c->async || c->async->answers.empty()) &&
                 now - c->lastActivityMs > m_options.idleTimeoutMs)
            expired.emplace_back(c, CloseReason::IdleTimeout);
    }
    for (auto [c, reason] : expired) {
        ++m_stats.timeouts;
        close(c, reason);
    }
}

void PolicyServer::close(Connection *c, CloseReason reason, const QByteArray &detail)
{
    if (c->closed)
        return;
    c->closed = true;

    PolicySocket::logClose(c->id, c->peer, reason, detail, c->awaiting,
                           c->async ? qint64(c->async->answers.size()) : 0);
    if (reason == CloseReason::ProtocolError)
        ++m_stats.protocolErrors;
    else if (reason == CloseReason::InternalError)
        ++m_stats.internalErrors;

    if (c->async) {
        // Late answers for it are dropped (and must not reach a server destroyed meanwhile).
        c->async->connection = nullptr;
        c->async->server = nullptr;
    }
    // The notifiers go before the descriptor (a later connection may get its number); they
    // are deleted with the connection on the next pass, not from inside their own signal.
    c->readNotifier->setEnabled(false);
    if (c->writeNotifier)
        c->writeNotifier->setEnabled(false);
    ::close(c->fd); // no answer, nothing lingering: Postfix sees the connection drop
    c->fd = -1;

    if (c->pending)
        std::erase(m_pending, c);
    if (c->backlog)
        std::erase(m_backlog, c);
    auto it = m_connections.find(c);
    if (it != m_connections.end()) {
        m_closed.push_back(std::move(it->second));
        m_connections.erase(it);
    }
    if (!m_reapScheduled) {
        m_reapScheduled = true;
        QMetaObject::invokeMethod(this, &PolicyServer::reapClosed, Qt::QueuedConnection);
    }
    if (m_shuttingDown)
        maybeFinishShutdown();
}

void PolicyServer::reapClosed()
{
    m_reapScheduled = false;
    m_closed.clear();
}

void PolicyServer::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    m_server->close();
    m_timeoutTimer.stop();
    qCInfo(lcPolicyd).noquote() << LogLine("policy server stopping")
                                       .add("connections", qint64(m_connections.size()))
                                       .text();
    m_graceTimer.start(m_options.shutdownGraceMs);
    // Writes what was decided (after its commit), then closes each connection gracefully.
    flush();
}

void PolicyServer::maybeFinishShutdown()
{
    if (!m_shuttingDown || m_shutdownFinished)
        return;
    // Connections close once their last answers are out (writable() -> close()).
    if (!m_connections.empty() || m_ioFinished < int(m_io.size()))
        return;
    m_shutdownFinished = true;
    m_graceTimer.stop();
    QMetaObject::invokeMethod(this, &PolicyServer::shutdownFinished, Qt::QueuedConnection);
}

void PolicyServer::takeIoRequests()
{
    std::vector<PolicyIoThread::Request> requests;
    for (size_t t = 0; t < m_io.size(); ++t) {
        m_io[t]->takeRequests(requests);
        for (PolicyIoThread::Request &r : requests) {
            ++m_stats.requests;
            if (!m_async) {
                const QByteArray action = m_handler.decide(r.request);
                ioAnswer(t, r.conn, r.seq, action,
                         action.isEmpty() ? m_handler.protocolError() : QByteArray());
                continue;
            }
            // Answered here, possibly before decideAsync() returns; the I/O thread puts a
            // connection's answers back in request order.
            m_handler.decideAsync(r.request, [this, alive = m_alive, t, conn = r.conn,
                                              seq = r.seq](PolicyAnswer &&answer) {
                if (*alive)
                    ioAnswer(t, conn, seq, answer.action, answer.error);
            });
        }
        requests.clear();
    }
}

void PolicyServer::ioAnswer(size_t thread, quint64 conn, quint64 seq, const QByteArray &action,
                            const QByteArray &error)
{
    PolicyIoThread::Answer &a = m_ioPending[thread].answers.emplace_back();
    a.conn = conn;
    a.seq = seq;
    if (action.isEmpty()) {
        a.error = error;
    } else {
        a.bytes.reserve(action.size() + 9);
        appendBytes(a.bytes, {"action=", action, "\n\n"});
    }
    ++m_ioPendingCount;
    scheduleFlush();
}

void PolicyServer::deliverIoAnswers(bool committed)
{
    // One batch, one wake-up per I/O thread per pass.
    for (size_t t = 0; t < m_io.size(); ++t) {
        std::vector<PolicyIoThread::Answer> &answers = m_ioPending[t].answers;
        if (answers.empty())
            continue;
        for (PolicyIoThread::Answer &a : answers) {
            if (!committed && !a.bytes.isEmpty()) {
                a.bytes.clear();
                a.error = QByteArrayLiteral("commit failed");
                a.internal = true;
            } else if (!a.bytes.isEmpty()) {
                ++m_stats.answers;
            }
        }
        m_io[t]->deliver(answers);
    }
    m_ioPendingCount = 0;
}

} // namespace greygate
