// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyServerOptions.h"
#include "PolicySocket.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <memory>
#include <unordered_map>
#include <vector>

namespace greygate {

class EpollEventDispatcher;
class PolicyHandler;
class PolicyIoThread;

// The Postfix policy delegation server. One thread, non-blocking sockets, many connections.
// Every complete request read in a pass of the event loop is decided at once; the answers
// wait until one PolicyHandler::commit() per pass has made the decisions durable (group
// commit across connections), then each connection gets its answers in a single write.
// When the commit fails, the connections waiting for those answers are closed without an
// answer: Postfix then applies its own default for an unavailable policy service (a
// temporary error) instead of acting on a decision that was never recorded.
// With an asynchronous handler (PolicyHandler::isAsynchronous(), the Redis store) requests
// are handed to decideAsync() and their answers held per connection in request order: each
// answer is written, after the same group commit, once it and every answer before it on that
// connection came back. A connection with too many answers outstanding is read no further
// until they come (TCP flow control stops the client).
// Connections are plain non-blocking descriptors watched by QSocketNotifier: one recv()
// straight into the connection's buffer per readiness, one send() of a pass's answers, a
// bounded output buffer for what the kernel did not take. No QTcpSocket: its read path asks
// the kernel how much there is (ioctl FIONREAD) before every read and copies through its
// own buffer.
class PolicyServer : public QObject
{
    Q_OBJECT

public:
    struct Stats
    {
        quint64 connections = 0;    // accepted
        quint64 refused = 0;        // over --max-connections
        quint64 requests = 0;       // decided
        quint64 answers = 0;        // written after a successful commit
        quint64 protocolErrors = 0; // connections closed for bad input
        quint64 internalErrors = 0; // connections closed because a commit failed
        quint64 timeouts = 0;       // request or idle timeouts
        quint64 commits = 0;
        quint64 asyncStalls = 0; // reading paused: too many answers outstanding
    };
    // Answers one connection may have outstanding on the asynchronous path.
    static constexpr int kMaxAsyncInFlight = 256;

    PolicyServer(PolicyHandler &handler, const PolicyServerOptions &options,
                 QObject *parent = nullptr);
    ~PolicyServer() override;

    bool listen(const QHostAddress &address, quint16 port, QString *error);
    quint16 serverPort() const;
    QHostAddress serverAddress() const;

    // Stops accepting, writes the answers already decided (after their commit), closes every
    // connection gracefully and emits shutdownFinished() once all are gone or the grace
    // period is over. Requests still incomplete are dropped: Postfix retries them.
    void shutdown();

    int connectionCount() const;
    Stats stats() const; // with the I/O threads' counters

Q_SIGNALS:
    void shutdownFinished();

private:
    struct Connection;
    struct AsyncSlots;
    class Listener;
    class ReadNotifier;
    using CloseReason = PolicySocket::CloseReason;

    void accepted(qintptr fd);
    void readable(Connection *c);
    void writable(Connection *c);
    void pump(Connection *c);
    void setReading(Connection *c, bool on);
    bool processBuffered(Connection *c, int *budget);
    bool processBufferedAsync(Connection *c, int *budget);
    void asyncDone(AsyncSlots &outstanding, quint64 seq, QByteArray &&action, QByteArray &&error);
    qint64 elapsedMs(); // m_clock.elapsed(), read once per pass on the epoll loop
    void scheduleFlush();
    void flush();
    bool send(Connection *c);  // false if the connection was closed
    bool drain(Connection *c); // writes c->unsent; false if the connection was closed
    void checkTimeouts();
    void close(Connection *c, CloseReason reason, const QByteArray &detail = {});
    void reapClosed();
    void maybeFinishShutdown();
    // --policy-io-threads: requests parsed by the I/O threads, decided here.
    void takeIoRequests();
    void ioAnswer(size_t thread, quint64 conn, quint64 seq, const QByteArray &action,
                  const QByteArray &error);
    void deliverIoAnswers(bool committed);

    PolicyHandler &m_handler;
    const bool m_async; // m_handler.isAsynchronous(), asked once
    PolicyServerOptions m_options;
    std::unique_ptr<Listener> m_server;
    QTimer m_timeoutTimer;
    // The end-of-pass flush: the epoll dispatcher's end-of-pass callback when the thread
    // runs on it, else a zero timer (and the dispatcher's aboutToBlock).
    QPointer<EpollEventDispatcher> m_epoll;
    int m_passEndId = 0;
    QTimer m_flushTimer;
    QTimer m_graceTimer;
    QElapsedTimer m_clock;
    quint64 m_elapsedSerial = ~quint64(0); // the epoll dispatcher's passSerial() of m_elapsedMs
    qint64 m_elapsedMs = 0;
    std::unordered_map<Connection *, std::unique_ptr<Connection>> m_connections;
    std::vector<std::unique_ptr<Connection>> m_closed; // deleted on the next pass
    std::vector<Connection *> m_pending; // connections with answers awaiting the commit
    std::vector<Connection *> m_backlog; // connections with input left over for next pass
    quint64 m_nextId = 1;
    bool m_flushScheduled = false;
    bool m_reapScheduled = false;
    bool m_shuttingDown = false;
    bool m_shutdownFinished = false;
    Stats m_stats;
    std::vector<std::unique_ptr<PolicyIoThread>> m_io;
    struct IoAnswers; // per I/O thread: answers decided, waiting for the commit
    std::vector<IoAnswers> m_ioPending;
    size_t m_ioPendingCount = 0;
    size_t m_nextIo = 0; // round-robin
    int m_ioFinished = 0;
    bool m_ioShutdownSent = false;
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true); // for late async answers
};

} // namespace greygate
