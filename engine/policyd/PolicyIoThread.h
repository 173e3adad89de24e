// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyRequest.h"
#include "PolicyServerOptions.h"
#include "PolicySocket.h"

#include <QByteArray>
#include <QObject>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

class QThread;
class QTimer;

namespace greygate {

// One of the policy server's I/O threads (--policy-io-threads): it owns the connections the
// server hands it, reads and parses their requests on its own event loop and writes their
// answers; deciding stays on the server's thread. Complete requests leave in one batch per
// pass of this loop, answers come back in one batch per pass of the server's: under load a
// wake-up carries many requests, never one thread hop per request. What is in flight is
// bounded per connection and per thread; past either bound the connections are read no
// further (TCP flow control stops the clients), so a stalled decision thread cannot grow
// memory. Everything public is called from the server's thread.
class PolicyIoThread : public QObject
{
    Q_OBJECT

public:
    struct Request
    {
        quint64 conn = 0;
        quint64 seq = 0; // per connection, from 0
        PolicyRequest request;
    };
    struct Answer
    {
        quint64 conn = 0;
        quint64 seq = 0;
        QByteArray bytes;      // "action=...\n\n"; empty: close the connection, `error` says why
        QByteArray error;      // for the log
        bool internal = false; // the commit failed (else: the handler refused the request)
    };
    struct Counters
    {
        std::atomic<int> connections{0}; // open now
        std::atomic<quint64> protocolErrors{0};
        std::atomic<quint64> internalErrors{0};
        std::atomic<quint64> timeouts{0};
        std::atomic<quint64> stalls{0};
    };
    // Requests handed to the decision thread and not answered yet: per connection (as the
    // server's kMaxAsyncInFlight) and for the whole thread.
    static constexpr int kMaxConnectionInFlight = 256;
    static constexpr int kMaxInFlight = 4096;

    // requestsReady is called on this thread when a batch is posted to an empty queue: it
    // must only wake the server (a queued call); finished when shutdown() has closed all.
    PolicyIoThread(int index, const PolicyServerOptions &options,
                   std::function<void()> requestsReady, std::function<void()> finished);
    ~PolicyIoThread() override; // stops the thread, closes what is left

    void start();
    int index() const { return m_index; }
    // Hands over an accepted, non-blocking descriptor.
    void adopt(int fd, quint64 id, const QByteArray &peer);
    // Moves the requests posted so far into `into` (appended).
    void takeRequests(std::vector<Request> &into);
    // Answers of one pass (decided and committed); one wake-up of this thread.
    void deliver(std::vector<Answer> &answers);
    // Stops reading, closes each connection once its answers are written.
    void shutdown();
    // The grace period is over: closes every connection now.
    void abortAll();
    const Counters &counters() const { return m_counters; }

private:
    struct Connection;
    using CloseReason = PolicySocket::CloseReason;

    // On the I/O thread.
    void init();
    void adopted(int fd, quint64 id, const QByteArray &peer);
    void pump(Connection *c);
    void setReading(Connection *c, bool on);
    bool mayRead(Connection *c);
    void takeAnswers();
    void answer(Connection *c, Answer &a);
    void send(Connection *c);
    void drain(Connection *c);
    void postRequests();
    void resumeStalled();
    void checkTimeouts();
    void close(Connection *c, CloseReason reason, const QByteArray &detail = {});
    void stopShutdown();
    void closeAll();

    const int m_index;
    const PolicyServerOptions m_options;
    const std::function<void()> m_requestsReady;
    const std::function<void()> m_finished;
    QThread *m_thread = nullptr;
    QTimer *m_timeoutTimer = nullptr; // made on the I/O thread
    QTimer *m_passTimer = nullptr;    // zero-interval: backlog and posting fallback
    Counters m_counters;

    // Shared with the server's thread.
    std::mutex m_mutex;
    std::vector<Request> m_posted;  // under m_mutex
    std::vector<Answer> m_answered; // under m_mutex

    // The I/O thread's.
    std::unordered_map<quint64, std::unique_ptr<Connection>> m_connections;
    std::vector<std::unique_ptr<Connection>> m_closed; // deleted at the end of the pass
    std::vector<Request> m_batch;                      // this pass's requests
    std::vector<Answer> m_incoming;
    std::vector<Connection *> m_backlog; // budget used up: read again after this pass
    std::vector<Connection *> m_stalled; // too much in flight: read again after answers
    std::vector<Connection *> m_touched; // answers to write in this pass
    qint64 m_inFlight = 0;
    bool m_shuttingDown = false;
    bool m_finishedSent = false;
};

} // namespace greygate
