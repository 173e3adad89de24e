// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyServer.h"

#include "PolicyHandler.h"
#include "PolicydLog.h"
#include "util/LogLine.h"

#include <QAbstractEventDispatcher>
#include <QTcpSocket>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <sys/socket.h>

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

struct PolicyServer::Connection
{
    explicit Connection(const PolicyRequestParser::Limits &limits)
        : parser(limits)
    {}

    quint64 id = 0;
    QTcpSocket *socket = nullptr;
    QByteArray peer; // "192.0.2.1:40000", for the logs
    PolicyRequestParser parser;
    QByteArray in; // bytes read from the socket, parsed up to inPos
    qsizetype inPos = 0;
    QByteArray out;               // answers decided, written after the commit
    int awaiting = 0;             // answers in `out`
    qint64 requestStartedMs = -1; // when the request in progress began; -1 for none
    qint64 lastActivityMs = 0;
    bool pending = false; // in m_pending
    bool backlog = false; // in m_backlog
    bool closed = false;
    bool stalled = false;              // asynchronous: too many answers outstanding
    std::shared_ptr<AsyncSlots> async; // asynchronous path only
};

namespace {

QLatin1StringView reasonName(int reason)
{
    static const char *const names[] = {"peer closed",     "protocol error", "internal error",
                                        "request timeout", "idle timeout",   "output overflow",
                                        "shutdown"};
    return QLatin1StringView(names[reason]);
}

} // namespace

PolicyServer::PolicyServer(PolicyHandler &handler, const PolicyServerOptions &options,
                           QObject *parent)
    : QObject(parent)
    , m_handler(handler)
    , m_async(handler.isAsynchronous())
    , m_options(options)
{
    m_clock.start();
    connect(&m_server, &QTcpServer::newConnection, this, &PolicyServer::acceptConnections);
    // Timeouts are checked by one timer for all connections rather than a timer per
    // connection restarted on every read: cheaper on the hot path, and the resolution
    // (a quarter of the shortest timeout, at most a second) is plenty for 30 s and 600 s.
    const int shortest = std::min(m_options.requestTimeoutMs, m_options.idleTimeoutMs);
    m_timeoutTimer.setInterval(std::clamp(shortest / 4, 10, 1000));
    connect(&m_timeoutTimer, &QTimer::timeout, this, &PolicyServer::checkTimeouts);
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(0);
    connect(&m_flushTimer, &QTimer::timeout, this, &PolicyServer::flush);
    if (QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance(thread())) {
        connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, this, [this] {
            if (m_flushScheduled)
                flush();
        });
    }
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, [this] {
        std::vector<Connection *> left;
        for (auto &[c, owned] : m_connections)
            left.push_back(c);
        for (Connection *c : left)
            close(c, CloseReason::Shutdown);
        maybeFinishShutdown();
    });
}

PolicyServer::~PolicyServer()
{
    for (auto &[c, owned] : m_connections) {
        if (c->async) {
            c->async->server = nullptr;
            c->async->connection = nullptr;
        }
        QObject::disconnect(c->socket, nullptr, this, nullptr);
        c->socket->abort();
        delete c->socket;
    }
}

bool PolicyServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    if (!m_server.listen(address, port)) {
        *error = u"cannot listen on " + address.toString() + u':' + QString::number(port) + u": " +
                 m_server.errorString();
        return false;
    }
    m_timeoutTimer.start();
    return true;
}

void PolicyServer::acceptConnections()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        if (m_shuttingDown || int(m_connections.size()) >= m_options.maxConnections) {
            ++m_stats.refused;
            qCWarning(lcPolicyd).noquote() << LogLine("connection refused: too many connections")
                                                  .add("peer", socket->peerAddress().toString())
                                                  .add("max", m_options.maxConnections)
                                                  .text();
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto owned = std::make_unique<Connection>(m_options.limits);
        Connection *c = owned.get();
        c->id = m_nextId++;
        c->socket = socket;
        c->peer = socket->peerAddress().toString().toLatin1() + ':' +
                  QByteArray::number(socket->peerPort());
        c->lastActivityMs = m_clock.elapsed();
        if (m_async) {
            c->async = std::make_shared<AsyncSlots>();
            c->async->server = this;
            c->async->connection = c;
        }
        // Answers are small and the client waits for each: Nagle would hold them back.
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        // Bounded read-ahead: when a client is backlogged, TCP flow control stops it
        // rather than our memory growing.
        socket->setReadBufferSize(m_options.limits.maxRequestBytes);
        connect(socket, &QTcpSocket::readyRead, this, [this, c] { pump(c); });
        connect(socket, &QTcpSocket::disconnected, this,
                [this, c] { close(c, CloseReason::PeerClosed); });
        m_connections.emplace(c, std::move(owned));
        ++m_stats.connections;
        qCDebug(lcPolicyd).noquote() << LogLine("connection accepted")
                                            .add("conn", qint64(c->id))
                                            .add("peer", c->peer)
                                            .text();
        if (socket->bytesAvailable() > 0)
            pump(c);
    }
}

void PolicyServer::pump(Connection *c)
{
    if (c->closed || m_shuttingDown)
        return;
    if (c->backlog || c->stalled)
        return; // its turn comes after the next flush; data waits in the socket
    int budget = m_options.maxRequestsPerPass;
    while (budget > 0) {
        if (c->inPos >= c->in.size()) {
            c->in.resize(0); // keeps the capacity
            c->inPos = 0;
            const qint64 available = c->socket->bytesAvailable();
            if (available <= 0)
                break;
            // One read of everything there is, into a reused buffer.
            c->in.resize(available);
            const qint64 got = c->socket->read(c->in.data(), available);
            c->in.resize(std::max<qint64>(got, 0));
            if (got <= 0)
                break;
            c->lastActivityMs = m_clock.elapsed();
        }
        if (!(m_async ? processBufferedAsync(c, &budget) : processBuffered(c, &budget)))
            return; // closed
        if (c->stalled)
            return; // resumed when answers come back
    }
    if (budget == 0 && (c->inPos < c->in.size() || c->socket->bytesAvailable() > 0)) {
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
        c->out.append("action=", 7).append(action).append("\n\n", 2);
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
            c->requestStartedMs = m_clock.elapsed();
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
            c->requestStartedMs = m_clock.elapsed();
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
        c->out.append("action=", 7).append(a).append("\n\n", 2);
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
    // The flush must run once the event loop has delivered every readyRead of this pass, so
    // that all connections' decisions share one commit. Normally the dispatcher's
    // aboutToBlock (the end of the pass) runs it; the zero timer is the fallback for loops
    // that never block (processEvents() without waiting). Neither wakes the dispatcher
    // through its eventfd as a posted event would: one syscall less per pass.
    m_flushTimer.start();
}

void PolicyServer::flush()
{
    m_flushScheduled = false;
    m_flushTimer.stop();
    std::vector<Connection *> batch;
    batch.swap(m_pending);
    if (!batch.empty()) {
        ++m_stats.commits;
        const bool committed = m_handler.commit();
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
            c->lastActivityMs = m_clock.elapsed();
            if (c->socket->bytesToWrite() > m_options.maxUnreadOutputBytes)
                close(c, CloseReason::OutputOverflow);
        }
    }
    if (!m_backlog.empty()) {
        std::vector<Connection *> again;
        again.swap(m_backlog);
        for (Connection *c : again) {
            c->backlog = false;
            pump(c);
        }
    }
    if (m_shuttingDown) {
        // disconnectFromHost() may report `disconnected` at once, which removes the
        // connection: collect first.
        std::vector<QTcpSocket *> sockets;
        for (auto &[c, owned] : m_connections) {
            // A connection still waiting for asynchronous answers closes after them (a
            // later flush), or when the grace period ends.
            if (!c->closed && (!c->async || c->async->answers.empty()))
                sockets.push_back(c->socket);
        }
        for (QTcpSocket *socket : sockets)
            socket->disconnectFromHost(); // after the answers just written
        maybeFinishShutdown();
    }
}

bool PolicyServer::send(Connection *c)
{
    qsizetype sent = 0;
    // Straight to the kernel when Qt holds nothing unsent for this socket (the usual case:
    // the answers of one pass fit the socket buffer). QAbstractSocket's buffered write would
    // enable and disable its write notifier around every answer, and each toggle wakes the
    // glib dispatcher through its eventfd: two syscalls per answer for nothing.
    if (c->socket->bytesToWrite() == 0) {
        while (sent < c->out.size()) {
            const ssize_t n = ::send(int(c->socket->socketDescriptor()), c->out.constData() + sent,
                                     size_t(c->out.size() - sent), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                close(c, CloseReason::PeerClosed,
                      QByteArrayLiteral("send: ") + QByteArray(std::strerror(errno)));
                return false;
            }
            break; // the socket buffer is full: Qt sends the rest when it can
        }
    }
    if (sent < c->out.size()) {
        c->socket->write(c->out.constData() + sent, c->out.size() - sent);
        c->socket->flush();
        if (c->closed)
            return false; // the write failed and the socket reported it synchronously
    }
    c->out.resize(0);
    return true;
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
                 (!c->async || c->async->answers.empty()) &&
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
    QObject::disconnect(c->socket, nullptr, this, nullptr);

    LogLine line(reason == CloseReason::ProtocolError ? "policy protocol error"
                                                      : "connection closed");
    line.add("conn", qint64(c->id)).add("peer", c->peer).add("reason", reasonName(int(reason)));
    if (!detail.isEmpty())
        line.add("error", detail);
    if (c->awaiting > 0)
        line.add("unanswered", c->awaiting);
    if (c->async && !c->async->answers.empty())
        line.add("outstanding", qint64(c->async->answers.size()));
    switch (reason) {
    case CloseReason::ProtocolError:
        ++m_stats.protocolErrors;
        qCWarning(lcPolicyd).noquote() << line.text();
        break;
    case CloseReason::InternalError:
        ++m_stats.internalErrors;
        qCCritical(lcPolicyd).noquote() << line.text();
        break;
    case CloseReason::RequestTimeout:
    case CloseReason::OutputOverflow:
        qCWarning(lcPolicyd).noquote() << line.text();
        break;
    case CloseReason::IdleTimeout:
        qCInfo(lcPolicyd).noquote() << line.text();
        break;
    case CloseReason::PeerClosed:
    case CloseReason::Shutdown:
        qCDebug(lcPolicyd).noquote() << line.text();
        break;
    }

    if (c->async) {
        // Late answers for it are dropped (and must not reach a server destroyed meanwhile).
        c->async->connection = nullptr;
        c->async->server = nullptr;
    }
    c->socket->abort(); // no answer, nothing lingering: Postfix sees the connection drop
    c->socket->deleteLater();
    c->socket = nullptr;

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
    m_server.close();
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
    // Connections close once their last answers are out (disconnected -> close()).
    if (!m_connections.empty())
        return;
    m_shutdownFinished = true;
    m_graceTimer.stop();
    QMetaObject::invokeMethod(this, &PolicyServer::shutdownFinished, Qt::QueuedConnection);
}

} // namespace greygate
